#!/usr/bin/env bash
# ca_trust's root option on offline root filesystems: simulated devices (hack/simulated_devices.py),
# the trust_roots playbook installs the missing roots, a rerun changes nothing, and the running
# system's store (a private copy, in a private mount namespace) is left exactly as it was.
set -eux
if [ "${1:-}" != --in-store ]; then
  DESELECT_DPS_ROOTS=0 exec unshare -m --propagation private ../setup_trust_store/files/private_trust_store.sh "$0" --in-store "$@"
fi
shift
python=${ANSIBLE_TEST_PYTHON_INTERPRETER:-python3}
collection=$(ansible-doc --json iotops.dps_tls.ca_trust \
  | "$python" -c 'import json, os, sys; print(os.path.dirname(os.path.dirname(os.path.dirname(json.load(sys.stdin)["iotops.dps_tls.ca_trust"]["doc"]["filename"]))))')
host_store_before=$(find /etc/ssl/certs /usr/local/share/ca-certificates -printf '%p %l %s %T@\n' | sort | sha256sum)
devices=$(mktemp -d /tmp/ca-trust-devices.XXXXXX)
certs=$(mktemp -d /tmp/ca-trust-certs.XXXXXX)
"$python" ../ca_trust/files/make_certs.py "$certs"
"$python" "$collection/hack/simulated_devices.py" --count 4 --missing-roots 3 --out "$devices"

ansible-playbook -i "$devices/inventory.yml" "$collection/playbooks/trust_roots.yml" "$@" | tee "$devices/first.log"
[ "$(grep -cE '^device-00[123] .*changed=1 ' "$devices/first.log")" = 3 ]
grep -qE '^device-004 .*changed=0 ' "$devices/first.log"
ansible-playbook -i "$devices/inventory.yml" "$collection/playbooks/trust_roots.yml" "$@" | tee "$devices/second.log"
if grep -E '^device-.*(changed|failed)=[1-9]' "$devices/second.log"; then exit 1; fi

ansible-playbook -i "$devices/inventory.yml" root.yml -e certs_dir="$certs" -e devices_dir="$devices" "$@"

# Images with absolute links: a Debian image whose etc/ssl/certs -> /usr/lib/ssl/certs (its own folder; on this
# host that path leads to the host's store), one whose etc/ssl/certs points at itself, and one with no store.
images=$(mktemp -d /tmp/ca-trust-images.XXXXXX)
linked="$images/linked" looping="$images/looping" empty="$images/empty"
for image in "$linked" "$looping"; do
  mkdir -p "$image/etc/ssl" "$image/usr/lib/ssl/certs" "$image/usr/local/share/ca-certificates"
  cp -a /usr/share/ca-certificates "$image/usr/share/"
  cp /etc/ca-certificates.conf "$image/etc/ca-certificates.conf"
  echo ID=debian > "$image/etc/os-release"
done
ln -s /usr/lib/ssl/certs "$linked/etc/ssl/certs"
ln -s /etc/ssl/certs "$looping/etc/ssl/certs"
mkdir -p "$empty/etc" && echo ID=debian > "$empty/etc/os-release"
ansible-playbook -i localhost, -c local escape.yml -e certs_dir="$certs" -e linked_image="$linked" \
  -e looping_image="$looping" -e empty_image="$empty" "$@"

host_store_after=$(find /etc/ssl/certs /usr/local/share/ca-certificates -printf '%p %l %s %T@\n' | sort | sha256sum)
[ "$host_store_before" = "$host_store_after" ]
