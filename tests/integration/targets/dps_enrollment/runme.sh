#!/usr/bin/env bash
# dps_enrollment and dps_enrollment_info against the emulator's DPS service API with real azure-identity tokens.
set -euo pipefail
cd "$(dirname "$0")"
# shellcheck source=../setup_emulator/emulator.sh
source ../setup_emulator/emulator.sh
start_emulator --provisioning-delay 0 --retry-after 0
PKI_DIR="$DPSEMU_WORK_DIR/pki"
export PKI_DIR
mkdir -p "$PKI_DIR"
for name in gateway-017 gateway-018; do
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -sha256 -days 30 -subj "/CN=$name" \
    -keyout "$PKI_DIR/$name.key" -out "$PKI_DIR/$name.pem" 2>/dev/null
done
ansible-playbook -i "${INVENTORY_PATH:-localhost,}" runme.yml "$@"
