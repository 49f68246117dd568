#!/usr/bin/env bash
# The Red Hat, Arch and SUSE families against real p11-kit: in a private mount namespace, /etc and /var/lib
# get a writable overlay, p11-kit's trust module reads the family's anchor folder plus the distribution
# roots, and the family's update command is p11-kit's `trust extract`, as those distributions run it.
set -eux
python=${ANSIBLE_TEST_PYTHON_INTERPRETER:-python3}
if [ "${1:-}" = --family ]; then
  family=$2 anchor_dir=$3 bundle=$4 tool=$5
  shift 5
  work=$(mktemp -d /tmp/ca-trust-p11kit.XXXXXX)
  for dir in etc var/lib; do
    mkdir -p "$work/$dir-up" "$work/$dir-work"
    mount -t overlay overlay -o "lowerdir=/$dir,upperdir=$work/$dir-up,workdir=$work/$dir-work" "/$dir"
  done
  mkdir -p /etc/pkcs11/modules "$anchor_dir" "$(dirname "$bundle")" "$work/bin"
  # p11-kit treats the files of an "anchors" folder under each path as trust anchors
  mkdir -p "$work/distribution"
  ln -s /usr/share/ca-certificates/mozilla "$work/distribution/anchors"
  sed "s|^x-init-reserved:.*|x-init-reserved: paths=$(dirname "$anchor_dir"):$work/distribution|" \
    /usr/share/p11-kit/modules/p11-kit-trust.module > /etc/pkcs11/modules/p11-kit-trust.module
  cp files/extract_bundle "$work/bin/$tool"
  export PATH="$work/bin:$PATH" P11KIT_BUNDLE="$bundle"
  unset SSL_CERT_FILE SSL_CERT_DIR REQUESTS_CA_BUNDLE CURL_CA_BUNDLE
  "$tool" extract
  certs=$(mktemp -d /tmp/ca-trust-certs.XXXXXX)
  "$python" ../ca_trust/files/make_certs.py "$certs"
  ansible-playbook p11kit.yml -e family="$family" -e anchor_dir="$anchor_dir" -e bundle="$bundle" \
    -e certs_dir="$certs" "$@"
  exit 0
fi
run() { unshare -m --propagation private "$0" --family "$@"; }
run redhat /etc/pki/ca-trust/source/anchors /etc/pki/ca-trust/extracted/pem/tls-ca-bundle.pem update-ca-trust "$@"
run arch /etc/ca-certificates/trust-source/anchors /etc/ca-certificates/extracted/tls-ca-bundle.pem update-ca-trust "$@"
run suse /etc/pki/trust/anchors /var/lib/ca-certificates/ca-bundle.pem update-ca-certificates "$@"
