# shellcheck shell=bash
# Source from a target's runme.sh (alias needs/target/setup_collection):
#   source ../setup_collection/install_built.sh; installed=$(install_built_collection "$root" "$work")
# Builds the collection's tarball as users get it and installs it into DEST/collections, a fresh collections path;
# prints the installed collection's directory.

install_built_collection() {
  local root=$1 dest=$2
  ansible-galaxy collection build "$root" --output-path "$dest/dist" >/dev/null
  # --force: the collection under test is on the collections path already, and install would skip it.
  ansible-galaxy collection install --force "$dest"/dist/iotops-dps_tls-*.tar.gz -p "$dest/collections" >/dev/null 2>&1
  echo "$dest/collections/ansible_collections/iotops/dps_tls"
}
