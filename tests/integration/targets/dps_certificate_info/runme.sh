#!/usr/bin/env bash
# dps_certificate_info, and the dps role / provision_dps playbook uploading CA certificates, against the emulator.
set -euo pipefail
cd "$(dirname "$0")"
# shellcheck source=../setup_emulator/emulator.sh
source ../setup_emulator/emulator.sh
start_emulator --provisioning-delay 0 --retry-after 0 --device-port 0
PKI_DIR="$DPSEMU_WORK_DIR/pki"
python="${ANSIBLE_TEST_PYTHON_INTERPRETER:-python3}"
"$python" ../device_endpoint/files/make_devices.py "$PKI_DIR" fleet-ca
"$python" ../device_endpoint/files/make_devices.py "$PKI_DIR" hsm-ca
emulator_ca=$("$python" -c 'import json, sys; print(json.load(open(sys.argv[1]))["ca_file"])' "$DPSEMU_STATE_DIR/endpoints.json")
cat > "$DPSEMU_WORK_DIR/vars.yml" <<VARS
dps_name: dps-info
dps_resource_group: rg-info
dps_location: westeurope
dps_azure: {ca_bundle: "$emulator_ca"}
dps_ca_certificates:
  - {name: fleet-ca, certificate_path: "$PKI_DIR/fleet-ca.pem", private_key_path: "$PKI_DIR/fleet-ca.key"}
  - {name: hsm-ca, certificate_path: "$PKI_DIR/hsm-ca.pem", verified: false}
VARS
ansible-playbook -i "${INVENTORY_PATH:-localhost,}" iotops.dps_tls.provision_dps \
    -e "@$DPSEMU_WORK_DIR/vars.yml" | tee "$DPSEMU_WORK_DIR/provision.out"
grep -q 'CA certificates: fleet-ca, hsm-ca' "$DPSEMU_WORK_DIR/provision.out"
# A second run changes nothing.
ansible-playbook -i "${INVENTORY_PATH:-localhost,}" iotops.dps_tls.provision_dps \
    -e "@$DPSEMU_WORK_DIR/vars.yml" | tee "$DPSEMU_WORK_DIR/provision2.out"
grep -q 'changed=0' "$DPSEMU_WORK_DIR/provision2.out"
ansible-playbook -i "${INVENTORY_PATH:-localhost,}" runme.yml -e "pki=$PKI_DIR" "$@"
