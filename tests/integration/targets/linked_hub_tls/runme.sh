#!/usr/bin/env bash
# dps_instance_info's linked_hub_tls with the real azure-mgmt-iothub client against the emulator.
set -euo pipefail
cd "$(dirname "$0")"
# shellcheck source=../setup_emulator/emulator.sh
source ../setup_emulator/emulator.sh
start_emulator --provisioning-delay 0 --retry-after 0
ansible-playbook -i "${INVENTORY_PATH:-localhost,}" runme.yml "$@"
