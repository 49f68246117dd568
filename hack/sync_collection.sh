#!/usr/bin/env bash
# Lays the working tree out where ansible-test and ansible expect a collection:
# $BUILD/ansible_collections/iotops/dps_tls. Copies what git tracks plus untracked, unignored
# files, so the copy always matches the working tree (deleted files vanish too).
set -euo pipefail
src=$(cd "$(dirname "$0")/.." && pwd)
build=${1:?usage: sync_collection.sh BUILD_DIR}
dest="$build/ansible_collections/iotops/dps_tls"
mkdir -p "$dest"
# Keep ansible-test's output (it caches there); replace everything else.
find "$dest" -mindepth 1 -maxdepth 1 ! -name tests -exec rm -rf {} +
if [ -d "$dest/tests" ]; then
  find "$dest/tests" -mindepth 1 -maxdepth 1 ! -name output -exec rm -rf {} +
fi
cd "$src"
git ls-files -z -co --exclude-standard | while IFS= read -r -d '' f; do [ -e "$f" ] && printf '%s\0' "$f"; done \
  | tar --null -T - -cf - | tar -xf - -C "$dest"
# ansible-test lists files through git: give the copy a repository of its own, or it would ask
# the enclosing checkout, which ignores the build folder.
[ -d "$dest/.git" ] || git -C "$dest" init -q
echo "$dest"
