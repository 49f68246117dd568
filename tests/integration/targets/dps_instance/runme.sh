#!/usr/bin/env bash
# dps_instance against the emulator over HTTPS, with real azure-identity credentials and the real SDK.
set -euo pipefail
cd "$(dirname "$0")"
# shellcheck source=../setup_emulator/emulator.sh
source ../setup_emulator/emulator.sh
start_emulator --provisioning-delay 1 --retry-after 1
ansible-playbook -i "${INVENTORY_PATH:-localhost,}" runme.yml "$@"

# The dps role through the provision_dps playbook: it provisions and prints what devices need; a rerun changes nothing.
provision() {
  ansible-playbook iotops.dps_tls.provision_dps -e dps_name=dps-role -e dps_resource_group=rg-role \
    -e dps_location=westeurope -e "{\"dps_azure\": {\"ca_bundle\": \"$DPSEMU_CA_FILE\"}}" "$@"
}
out=$(provision "$@")
echo "$out"
grep -q 'Minimum TLS version: 1.2' <<<"$out"
grep -q 'ID scope: 0ne' <<<"$out"
grep -Eq 'localhost +: ok=[0-9]+ +changed=1 ' <<<"$out"
out=$(provision "$@")
echo "$out"
grep -Eq 'localhost +: ok=[0-9]+ +changed=0 ' <<<"$out"

# Check mode with CA certificates for an instance that does not exist yet: the role predicts the create and says the
# certificates follow it, instead of failing on the missing instance; nothing is written.
ca_pem="$DPSEMU_WORK_DIR/role-ca.pem"
"${ANSIBLE_TEST_PYTHON_INTERPRETER:-python3}" - "$ca_pem" <<'PY'
import datetime, sys
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
now = datetime.datetime.now(datetime.timezone.utc)
key = ec.generate_private_key(ec.SECP256R1())
name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Role Check CA")])
cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
        .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=365))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True).sign(key, hashes.SHA256()))
open(sys.argv[1], "wb").write(cert.public_bytes(serialization.Encoding.PEM))
PY
out=$(ansible-playbook iotops.dps_tls.provision_dps -C -e dps_name=dps-role-new -e dps_resource_group=rg-role \
  -e dps_location=westeurope -e "{\"dps_azure\": {\"ca_bundle\": \"$DPSEMU_CA_FILE\"}}" \
  -e "{\"dps_ca_certificates\": [{\"name\": \"role-ca\", \"certificate_path\": \"$ca_pem\", \"verified\": false},
                                {\"name\": \"retired-ca\", \"state\": \"absent\"}]}" "$@") \
  || { echo "$out"; echo "check mode with dps_ca_certificates failed for an instance still to be created" >&2; exit 1; }
echo "$out"
grep -q 'CA certificates role-ca would be uploaded' <<<"$out"  # not retired-ca, which has state absent
grep -Eq 'localhost +: ok=[0-9]+ +changed=1 +unreachable=0 +failed=0 ' <<<"$out"
if ansible-playbook iotops.dps_tls.provision_dps -e dps_name=dps-role-new -e dps_resource_group=rg-role \
  -e dps_state=absent -e "{\"dps_azure\": {\"ca_bundle\": \"$DPSEMU_CA_FILE\"}}" "$@" | grep -Eq 'changed=[1-9]'; then
  echo "check mode created dps-role-new" >&2
  exit 1
fi
