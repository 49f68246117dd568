#!/usr/bin/env bash
# What users already have set up for Azure, against the emulator with the real azure-identity credentials:
# an encrypted service principal key with AZURE_CLIENT_CERTIFICATE_PASSWORD (or client_certificate_password),
# x509_certificate_path, ANSIBLE_AZURE_AUTH_SOURCE with AZURE_PROFILE and the ~/.azure/credentials file, and the
# emulator's CA through REQUESTS_CA_BUNDLE.
set -euo pipefail
cd "$(dirname "$0")"
# shellcheck source=../setup_emulator/emulator.sh
source ../setup_emulator/emulator.sh
start_emulator --provisioning-delay 0 --retry-after 0

files="$DPSEMU_WORK_DIR/conventions"
mkdir -p "$files/home/.azure"
# The app registration's certificate with its key encrypted, as a PEM azure-identity opens with a password.
openssl x509 -in "$DPSEMU_CLIENT_CERTIFICATE_PATH" -out "$files/sp-encrypted.pem"
openssl pkey -in "$DPSEMU_CLIENT_CERTIFICATE_PATH" -aes256 -passout pass:drill-password >>"$files/sp-encrypted.pem"
grep -q 'ENCRYPTED PRIVATE KEY' "$files/sp-encrypted.pem"
cat >"$files/home/.azure/credentials" <<INI
[default]
subscription_id=00000000-0000-0000-0000-000000000000
client_id=not-this-one
secret=not-this-one
tenant=$AZURE_TENANT_ID

[fleet]
subscription_id=$AZURE_SUBSCRIPTION_ID
client_id=$AZURE_CLIENT_ID
secret=$AZURE_CLIENT_SECRET
tenant=$AZURE_TENANT_ID
INI
export CONVENTIONS_FILES="$files"
ansible-playbook -i "${INVENTORY_PATH:-localhost,}" runme.yml "$@"
