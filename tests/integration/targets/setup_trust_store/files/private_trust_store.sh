#!/usr/bin/env bash
# Runs a command with a private copy of this host's Debian trust store, in a private mount namespace,
# so the real update-ca-certificates can be exercised without touching the host's store.
# Usage: unshare -m --propagation private private_trust_store.sh COMMAND...
# With DESELECT_DPS_ROOTS=1 (default) the DPS roots are removed from the copy first, like a trimmed image.
set -euo pipefail
[ "$(id -u)" = 0 ] || { echo "needs root (mount namespace)" >&2; exit 1; }
findmnt -n -o PROPAGATION / | grep -q private || { echo "run me under unshare -m --propagation private" >&2; exit 1; }
work=$(mktemp -d /tmp/trust-store.XXXXXX)
mkdir -p "$work/etc-ssl-certs" "$work/local" "$work/share" "$work/update.d" /usr/local/share/ca-certificates
cp -a /etc/ssl/certs/. "$work/etc-ssl-certs/"
cp -a /usr/share/ca-certificates/. "$work/share/"
cp -a /usr/local/share/ca-certificates/. "$work/local/"
cp -a /etc/ca-certificates.conf "$work/ca-certificates.conf"
mount --bind "$work/etc-ssl-certs" /etc/ssl/certs
mount --bind "$work/share" /usr/share/ca-certificates
mount --bind "$work/local" /usr/local/share/ca-certificates
mount --bind "$work/ca-certificates.conf" /etc/ca-certificates.conf
mkdir -p /etc/ca-certificates/update.d
mount --bind "$work/update.d" /etc/ca-certificates/update.d
# this environment points tools at the host bundle; inside, everything must use the system defaults
unset SSL_CERT_FILE SSL_CERT_DIR REQUESTS_CA_BUNDLE CURL_CA_BUNDLE
if [ "${DESELECT_DPS_ROOTS:-1}" = 1 ]; then
  # sed -i cannot rename over a bind-mounted file: rewrite it in place
  sed -e 's|^mozilla/DigiCert_Global_Root_G2.crt$|!&|' \
         -e 's|^mozilla/Microsoft_RSA_Root_Certificate_Authority_2017.crt$|!&|' \
         -e 's|^mozilla/DigiCert_Global_Root_G3.crt$|!&|' \
         -e 's|^mozilla/Microsoft_ECC_Root_Certificate_Authority_2017.crt$|!&|' \
      /etc/ca-certificates.conf > "$work/conf.new"
  cat "$work/conf.new" > /etc/ca-certificates.conf
  update-ca-certificates --fresh >/dev/null
fi
export TRUST_STORE_WORK="$work"
"$@"
