#!/usr/bin/env bash
# The installed collection is the product: build the tarball, install it into a fresh collections path, and run the
# README's Quickstart (taken from the README) from an empty directory, with a fresh HOME, only that collections path,
# and the source tree on no path: the emulator and the simulated devices start from the installed collection, the
# README's first playbook provisions DPS on the emulator, the trust and audit playbooks run by FQCN.
set -euo pipefail

python=${ANSIBLE_TEST_PYTHON_INTERPRETER:-python3}
# shellcheck source=../setup_collection/collection_root.sh
source ../setup_collection/collection_root.sh
root=$(collection_root)
here=$(pwd)
work=$(mktemp -d)
installed="$work/collections/ansible_collections/iotops/dps_tls"
cleanup() {
  if [ -f "$work/dpsemu/endpoints.json" ]; then
    PYTHONPATH="$installed/emulator" "$python" -m dpsemu stop --state-dir "$work/dpsemu" || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

# shellcheck source=../setup_collection/install_built.sh
source ../setup_collection/install_built.sh
install_built_collection "$root" "$work" >/dev/null
for file in README.md requirements.txt emulator/dpsemu/__main__.py emulator/simdevices/__main__.py; do
  [ -f "$installed/$file" ] || fail "the built collection lacks $file"
done
"$python" "$here/files/check_docs.py" "$installed"
# Shipped but unusable: the Makefile calls hack/, which is not shipped.
[ ! -e "$installed/Makefile" ] || fail "the built collection ships a Makefile whose hack/ scripts it lacks"

mkdir "$work/empty" "$work/home"
"$python" "$here/files/readme_quickstart.py" "$installed/README.md" "$work" "$work"
mv "$work/first_dps.yml" "$work/empty/"
touch "$work/stamp"

# A clean environment: the interpreter's bin folder first (ansible, python3 with the requirements), no PYTHONPATH,
# no ANSIBLE_* but the collections path, and no path that leads into the source tree.
# (Under ansible-test, ansible-playbook on PATH is a shim: take the interpreter's own environment.)
bindir=$("$python" -c 'import os, sys; print(os.path.join(os.path.realpath(sys.prefix), "bin"))')
[ -x "$bindir/ansible-playbook" ] || fail "no ansible-playbook next to $python"
clean=(env -i "HOME=$work/home" "PATH=$bindir:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
       "LANG=C.UTF-8" "ANSIBLE_COLLECTIONS_PATH=$work/collections" "ANSIBLE_FORCE_COLOR=0")
source_tree=$(cd "$root" && pwd -P)
case "$bindir:$work" in *"$source_tree"*) fail "the source tree $source_tree is on a path of the run" ;; esac
found=$(cd "$work/empty" && "${clean[@]}" ansible-galaxy collection list iotops.dps_tls --format json)
[ "$found" = "{\"$work/collections/ansible_collections\": {\"iotops.dps_tls\": {\"version\": \"$(sed -n 's/^version: //p' "$root/galaxy.yml")\"}}}" ] \
  || fail "ansible-galaxy finds iotops.dps_tls elsewhere too: $found"

echo "== the README's Quickstart"
sed 's/^/  | /' "$work/quickstart.sh"
(cd "$work/empty" && timeout 900 "${clean[@]}" bash -euo pipefail "$work/quickstart.sh") >"$work/quickstart.log" 2>&1 \
  || { cat "$work/quickstart.log"; cat "$work/dpsemu.log" 2>/dev/null || true; fail "the Quickstart failed"; }
grep -q 'changed=1' "$work/quickstart.log" || { cat "$work/quickstart.log"; fail "the first playbook changed nothing"; }
[ -f "$work/empty/readiness-report/readiness.json" ] || fail "no readiness report in the current directory"

# The README: a second trust run changes nothing.
(cd "$work/empty" && "${clean[@]}" ansible-playbook -i "$work/devices/inventory.yml" iotops.dps_tls.trust_roots) \
  >"$work/again.log" 2>&1 || { cat "$work/again.log"; fail "the second trust run failed"; }
grep -E '^device-[0-9]+ ' "$work/again.log" | grep -qv ' changed=0 ' && { cat "$work/again.log"; fail "the second trust run changed something"; }

# Without PWD (a service manager, a cron job), the reports go to HOME, never to the filesystem root.
(cd "$work/empty" && "${clean[@]}" ansible-playbook -i "$work/devices/inventory.yml" iotops.dps_tls.audit_readiness) \
  >"$work/nopwd.log" 2>&1 || { cat "$work/nopwd.log"; fail "the audit without PWD failed"; }
[ -f "$work/home/readiness-report/readiness.json" ] || fail "without PWD, the reports are not in HOME"
[ ! -e /readiness-report ] || fail "a report folder appeared at /readiness-report"

# Nothing was written into the installed collection (Python's bytecode caches aside).
written=$(find "$installed" -newer "$work/stamp" \( -type f -o -type l \) ! -path '*/__pycache__/*' -print)
[ -z "$written" ] || fail "the run wrote into the installed collection: $written"
echo "ok: the README's Quickstart runs from the installed collection"
