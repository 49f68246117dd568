#!/usr/bin/env bash
# The real update-ca-certificates on a private copy of this host's store, in a private mount namespace
# (setup_trust_store), with the DPS roots deselected first. The host's own store is never touched.
set -eux
python=${ANSIBLE_TEST_PYTHON_INTERPRETER:-python3}
in_store() {
  unshare -m --propagation private ../setup_trust_store/files/private_trust_store.sh "$0" "$@"
}
case "${1:-}" in
  --playbook)
    shift
    certs=$(mktemp -d /tmp/ca-trust-certs.XXXXXX)
    "$python" files/make_certs.py "$certs"
    ansible-playbook main.yml -e certs_dir="$certs" -e files_dir="$PWD/files" "$@"
    ;;
  --races)
    # Races and crashes need processes, not tasks: concurrent runs, then runs killed at many points.
    module=$(ansible-doc --json iotops.dps_tls.ca_trust \
      | "$python" -c 'import json, sys; print(json.load(sys.stdin)["iotops.dps_tls.ca_trust"]["doc"]["filename"])')
    "$python" files/races.py --python "$python" --module "$module"
    ;;
  *)
    in_store --playbook "$@"
    in_store --races
    ;;
esac
