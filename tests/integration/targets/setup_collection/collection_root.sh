# shellcheck shell=bash
# Source from a target's runme.sh (alias needs/target/setup_collection):
#   source ../setup_collection/collection_root.sh; root=$(collection_root)
# ansible-test runs a copy of the target directory; collection_root prints the collection's own directory, found
# through ANSIBLE_COLLECTIONS_PATH, or fails with a message that says so.

collection_root() {
  local path collection_paths
  IFS=: read -ra collection_paths <<<"${ANSIBLE_COLLECTIONS_PATH:-}"
  for path in "${collection_paths[@]}"; do
    if [ -f "$path/ansible_collections/iotops/dps_tls/galaxy.yml" ]; then
      echo "$path/ansible_collections/iotops/dps_tls"
      return 0
    fi
  done
  echo "FAIL: iotops.dps_tls is not in ANSIBLE_COLLECTIONS_PATH" >&2
  return 1
}
