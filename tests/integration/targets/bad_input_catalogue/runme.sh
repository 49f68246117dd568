#!/usr/bin/env bash
# The bad-input catalogue: every module and role refuses bad input with a message naming the option (or role
# variable) and the reason, and nothing changes: no request reaches the emulator, the trust store stays
# byte-identical (a private copy of this host's store, in a private mount namespace).
set -euo pipefail
cd "$(dirname "$0")"

if [ "${1:-}" = --in-store ]; then
  shift
  for catalogue in catalogue*.yml; do
    ansible-playbook -i "${INVENTORY_PATH:-localhost,}" "$catalogue" "$@"
  done
  exit
fi

# shellcheck source=../setup_emulator/emulator.sh
source ../setup_emulator/emulator.sh
start_emulator --provisioning-delay 0 --retry-after 0
CATALOGUE_FILES="$DPSEMU_WORK_DIR/files"
export CATALOGUE_FILES
mkdir -p "$CATALOGUE_FILES"
for name in ca other; do
  openssl req -x509 -newkey rsa:2048 -nodes -sha256 -days 30 -subj "/CN=Catalogue $name CA" \
    -addext basicConstraints=critical,CA:TRUE -keyout "$CATALOGUE_FILES/$name.key" -out "$CATALOGUE_FILES/$name.pem" \
    2>/dev/null
done
openssl req -x509 -newkey rsa:2048 -nodes -sha256 -days 30 -subj "/CN=Catalogue leaf" \
  -keyout "$CATALOGUE_FILES/leaf.key" -out "$CATALOGUE_FILES/leaf.pem" 2>/dev/null
echo "this is not a certificate" > "$CATALOGUE_FILES/garbage.txt"

ansible-playbook -i "${INVENTORY_PATH:-localhost,}" catalogue_azure_settings.yml "$@"
unshare -m --propagation private ../setup_trust_store/files/private_trust_store.sh "$0" --in-store "$@"
