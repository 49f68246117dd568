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
