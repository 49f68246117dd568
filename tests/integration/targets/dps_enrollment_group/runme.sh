#!/usr/bin/env bash
# dps_enrollment_group and dps_enrollment_group_info against the emulator's DPS service API: real azure-identity
# tokens for https://azure-devices-provisioning.net, shared access signatures from listKeys, real etags.
set -euo pipefail
cd "$(dirname "$0")"
# shellcheck source=../setup_emulator/emulator.sh
source ../setup_emulator/emulator.sh
start_emulator --provisioning-delay 0 --retry-after 0
PKI_DIR="$DPSEMU_WORK_DIR/pki"
export PKI_DIR
mkdir -p "$PKI_DIR"
for name in fleet-ca raw-ca line-int other-int; do
  openssl req -x509 -newkey rsa:2048 -nodes -sha256 -days 30 -subj "/CN=$name" \
    -addext basicConstraints=critical,CA:TRUE -keyout "$PKI_DIR/$name.key" -out "$PKI_DIR/$name.pem" 2>/dev/null
done
ansible-playbook -i "${INVENTORY_PATH:-localhost,}" runme.yml "$@"
