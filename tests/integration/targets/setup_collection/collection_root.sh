# shellcheck shell=bash
# Source from a target's runme.sh (alias needs/target/setup_collection):
#   source ../setup_collection/collection_root.sh
# ansible-test runs a copy of the target directory; this sets `root` to the collection itself, found through
# ANSIBLE_COLLECTIONS_PATH, or exits with a failure that says so.

root=""
IFS=: read -ra collection_paths <<<"${ANSIBLE_COLLECTIONS_PATH:-}"
for path in "${collection_paths[@]}"; do
  if [ -f "$path/ansible_collections/iotops/dps_tls/galaxy.yml" ]; then
    root="$path/ansible_collections/iotops/dps_tls"
    break
  fi
done
[ -n "$root" ] || { echo "FAIL: iotops.dps_tls is not in ANSIBLE_COLLECTIONS_PATH"; exit 1; }
