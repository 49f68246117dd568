#!/usr/bin/env bash
# The emulator against the real azure-identity credentials and the real DPS management SDK.
set -euo pipefail
cd "$(dirname "$0")"
# shellcheck source=../setup_emulator/emulator.sh
source ../setup_emulator/emulator.sh
start_emulator --provisioning-delay 1 --retry-after 1
python=${ANSIBLE_TEST_PYTHON_INTERPRETER:-python3}
"$python" test_emulator.py before-restart
restart_emulator --provisioning-delay 1 --retry-after 1
"$python" test_emulator.py after-restart
