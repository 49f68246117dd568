#!/usr/bin/env bash
# dps_instance against the emulator over HTTPS, with real azure-identity credentials and the real SDK.
set -euo pipefail
cd "$(dirname "$0")"
# shellcheck source=../setup_emulator/emulator.sh
source ../setup_emulator/emulator.sh
start_emulator --provisioning-delay 1 --retry-after 1
ansible-playbook -i "${INVENTORY_PATH:-localhost,}" runme.yml "$@"
