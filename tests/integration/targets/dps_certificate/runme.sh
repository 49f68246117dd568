#!/usr/bin/env bash
# dps_certificate against the emulator: real SDK over HTTPS, real proof-of-possession check on the other side.
set -euo pipefail
cd "$(dirname "$0")"
# shellcheck source=../setup_emulator/emulator.sh
source ../setup_emulator/emulator.sh
start_emulator --provisioning-delay 0 --retry-after 0
CAS_DIR="$DPSEMU_WORK_DIR/cas"
export CAS_DIR
"${ANSIBLE_TEST_PYTHON_INTERPRETER:-python3}" files/make_cas.py "$CAS_DIR"
ansible-playbook -i "${INVENTORY_PATH:-localhost,}" runme.yml "$@"
