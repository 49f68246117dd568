#!/usr/bin/env bash
# dps_instance_info against the emulator, through every auth source the emulator can stand in for.
set -euo pipefail
cd "$(dirname "$0")"
# shellcheck source=../setup_emulator/emulator.sh
source ../setup_emulator/emulator.sh
start_emulator --provisioning-delay 0 --retry-after 1
ansible-playbook -i "${INVENTORY_PATH:-localhost,}" runme.yml "$@"
