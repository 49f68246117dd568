#!/usr/bin/env bash
# Every module (and the dps role) runs with secrets set, at -vvv and with --diff; no secret may appear in the
# output, in a diff or in a registered result. A deliberate leak first proves the search finds them.
set -euo pipefail
cd "$(dirname "$0")"

if [ "${1:-}" = --in-store ]; then
  # Inside a private copy of the trust store (setup_trust_store), for ca_trust.
  shift
  ansible-playbook -vvv --diff -i "${INVENTORY_PATH:-localhost,}" secrets.yml "$@" >"$SECRETS_DIR/output.log" 2>&1 \
    || { cat "$SECRETS_DIR/output.log"; exit 1; }
  ansible-playbook -vvvv -i "${INVENTORY_PATH:-localhost,}" keys_as_certificates.yml "$@" >"$SECRETS_DIR/keys.log" 2>&1 \
    || { cat "$SECRETS_DIR/keys.log"; exit 1; }
  exit
fi

# shellcheck source=../setup_emulator/emulator.sh
source ../setup_emulator/emulator.sh
start_emulator --provisioning-delay 0 --retry-after 0
SECRETS_DIR="$DPSEMU_WORK_DIR/secrets"
mkdir -p "$SECRETS_DIR"
chmod 700 "$SECRETS_DIR"
# Distinctive values: long, random, and nothing else in the output can contain them by chance.
SECRET_HUB_KEY="hubkey$(openssl rand -hex 16)"
SECRET_CA_PASSPHRASE="capass$(openssl rand -hex 16)"
SECRET_CLIENT_PASSPHRASE="clientpass$(openssl rand -hex 16)"
SECRET_ROLE_HUB_KEY="rolehubkey$(openssl rand -hex 16)"
export SECRETS_DIR SECRET_HUB_KEY SECRET_CA_PASSPHRASE SECRET_CLIENT_PASSPHRASE SECRET_ROLE_HUB_KEY
"${ANSIBLE_TEST_PYTHON_INTERPRETER:-python3}" files/make_keys.py "$SECRETS_DIR"
# Private keys in the traditional RSA and EC forms, and a CA certificate bundled with its key (keys_as_certificates.yml).
openssl genrsa -traditional -out "$SECRETS_DIR/rsa-traditional.key" 2048 2>/dev/null
openssl ecparam -name prime256v1 -genkey -noout -out "$SECRETS_DIR/ec-traditional.key"
cat "$SECRETS_DIR/ca.pem" "$SECRETS_DIR/ca.key" >"$SECRETS_DIR/ca-with-key.pem"

# The values to look for: the secrets themselves, the client secret the emulator gave its app registration, and a
# line from the middle of each private key (a key is as secret as a passphrase).
secrets=("$SECRET_HUB_KEY" "$SECRET_CA_PASSPHRASE" "$SECRET_CLIENT_PASSPHRASE" "$SECRET_ROLE_HUB_KEY"
         "$AZURE_CLIENT_SECRET")
for key in ca.key ca-encrypted.key device.key device-encrypted.key rsa-traditional.key; do
  secrets+=("$(sed -n 5p "$SECRETS_DIR/$key")")
done
secrets+=("$(sed -n 2p "$SECRETS_DIR/ec-traditional.key")")
for value in "${secrets[@]}"; do
  [ "${#value}" -ge 16 ] || { echo "a secret is too short to be searched for: ${#value} characters" >&2; exit 1; }
done

# find_secrets FILE...: print the number of each secret found in the files; fail when any was.
find_secrets() {
  local value found=0 i=0
  for value in "${secrets[@]}"; do
    i=$((i + 1))
    if grep -rqF -- "$value" "$@"; then
      echo "secret #$i appears in: $(grep -rlF -- "$value" "$@" | tr '\n' ' ')"
      found=1
    fi
  done
  return "$found"
}

# The search works: a playbook that prints a secret on purpose is caught.
ansible-playbook -i "${INVENTORY_PATH:-localhost,}" leak.yml >"$SECRETS_DIR/leak.log" 2>&1
if find_secrets "$SECRETS_DIR/leak.log" >/dev/null; then
  echo "the deliberate leak was not found: the search cannot fail" >&2
  exit 1
fi
echo "the deliberate leak was found"

unshare -m --propagation private ../setup_trust_store/files/private_trust_store.sh "$0" --in-store "$@"
grep -q 'AnsiballZ_tls_readiness.py' "$SECRETS_DIR/output.log"  # the whole playbook ran
grep -q 'Every task failed, unchanged, naming its option' "$SECRETS_DIR/keys.log"  # and the keys playbook
# -vvvv echoed the certificate argument, with the key block masked rather than the whole value dropped
grep -qF -- '-----END CERTIFICATE-----\n********",' "$SECRETS_DIR/keys.log"
echo "output: $(wc -l <"$SECRETS_DIR/output.log") lines at -vvv with --diff; results: $(wc -c <"$SECRETS_DIR/results.json") bytes"
echo "keys given as certificates: $(wc -l <"$SECRETS_DIR/keys.log") lines at -vvvv"
if ! find_secrets "$SECRETS_DIR/output.log" "$SECRETS_DIR/results.json" "$SECRETS_DIR/keys.log"; then
  echo "a secret was shown" >&2
  exit 1
fi
echo "no secret in the output, the diffs or the results"
