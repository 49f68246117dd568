#!/usr/bin/env bash
# The execution environment: the built collection carries meta/execution-environment.yml, ansible-builder's own
# introspection finds exactly requirements.txt and bindep.txt through it, and `ansible-builder create` turns the
# definition from docs/awx_aap.md into a build context (no container engine needed).
set -euo pipefail

python=${ANSIBLE_TEST_PYTHON_INTERPRETER:-python3}
command -v ansible-builder >/dev/null || { echo "FAIL: ansible-builder is not installed (requirements-dev.txt)"; exit 1; }
# shellcheck source=../setup_collection/collection_root.sh
source ../setup_collection/collection_root.sh
root=$(collection_root)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# The collection as Galaxy or Automation Hub would serve it.
# shellcheck source=../setup_collection/install_built.sh
source ../setup_collection/install_built.sh
installed=$(install_built_collection "$root" "$work")
for file in meta/execution-environment.yml requirements.txt bindep.txt; do
  [ -f "$installed/$file" ] || { echo "FAIL: the built collection lacks $file"; exit 1; }
done

ansible-builder introspect --sanitize "$work/collections" >"$work/introspect.yml"
"$python" files/compare_requirements.py "$work/introspect.yml" "$root/requirements.txt" "$root/bindep.txt"

# The definition the docs tell AWX/AAP users to build, taken from the docs themselves.
mkdir -p "$work/ee"
"$python" files/extract_block.py "$root/docs/awx_aap.md" execution-environment.yml >"$work/ee/execution-environment.yml"
(cd "$work/ee" && ansible-builder create -f execution-environment.yml -c context --output-filename Containerfile >/dev/null)
context="$work/ee/context"
for file in Containerfile _build/requirements.yml _build/scripts/introspect.py _build/scripts/assemble; do
  [ -f "$context/$file" ] || { echo "FAIL: the build context lacks $file"; exit 1; }
done
grep -qx -- '- name: iotops.dps_tls' "$context/_build/requirements.yml" \
  || { cat "$context/_build/requirements.yml"; echo "FAIL: the context does not install iotops.dps_tls"; exit 1; }
grep -q 'ansible-galaxy collection install .*-r requirements.yml' "$context/Containerfile" \
  || { echo "FAIL: the Containerfile does not install the collections"; exit 1; }
grep -q 'introspect.py introspect' "$context/Containerfile" \
  || { echo "FAIL: the Containerfile does not collect the collections' requirements"; exit 1; }
echo "ok: ansible-builder create made a build context"
