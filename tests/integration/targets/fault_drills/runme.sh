#!/usr/bin/env bash
# Fault drills: the Azure modules against an emulator that throttles, fails, drops connections and restarts;
# ca_trust killed with SIGKILL at random moments in a private copy of this host's trust store.
set -euo pipefail
cd "$(dirname "$0")"
python=${ANSIBLE_TEST_PYTHON_INTERPRETER:-python3}

if [ "${1:-}" = --kills ]; then
  # Inside the private store (setup_trust_store): the host's own store is never touched.
  module=$(ansible-doc --json iotops.dps_tls.ca_trust \
    | "$python" -c 'import json, sys; print(json.load(sys.stdin)["iotops.dps_tls.ca_trust"]["doc"]["filename"])')
  exec "$python" files/kill_drill.py --python "$python" --module "$module"
fi

# shellcheck source=../setup_emulator/emulator.sh
source ../setup_emulator/emulator.sh
emulator_options=(--provisioning-delay 1 --retry-after 1 --verbose)
start_emulator "${emulator_options[@]}"
DRILL_CA_DIR="$DPSEMU_WORK_DIR/ca"
export DRILL_CA_DIR
mkdir -p "$DRILL_CA_DIR"
openssl req -x509 -newkey rsa:2048 -nodes -sha256 -days 30 -subj "/CN=Fault Drill CA" \
  -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign \
  -keyout "$DRILL_CA_DIR/ca.key" -out "$DRILL_CA_DIR/ca.pem" 2>/dev/null

ansible-playbook -i "${INVENTORY_PATH:-localhost,}" drills.yml "$@"

# The emulator restarted while a create is being polled: state persists, the run completes or fails clearly,
# and a rerun converges.
ansible-playbook -i "${INVENTORY_PATH:-localhost,}" restart.yml -e phase=start "$@" &
playbook=$!
waited=0
until grep -q '"PUT [^ ]*/provisioningServices/dps-drill-restart?' "$DPSEMU_LOG"; do
  if [ "$waited" -ge 300 ]; then echo "the create never reached the emulator" >&2; exit 1; fi
  sleep 0.1
  waited=$((waited + 1))
done
sleep 1
restart_emulator "${emulator_options[@]}"
echo "emulator restarted while the create was polled"
wait "$playbook"
ansible-playbook -i "${INVENTORY_PATH:-localhost,}" restart.yml -e phase=rerun "$@"

# state: present never sent a DELETE in the whole drill (the emulator's own log spans its restart).
grep -c '"PUT /subscriptions/' "$DPSEMU_LOG" >/dev/null || { echo "no request lines in the emulator's log" >&2; exit 1; }
if grep '"DELETE /subscriptions/' "$DPSEMU_LOG"; then echo "a DELETE was sent during the drills" >&2; exit 1; fi
echo "no DELETE among $(grep -c '"[A-Z]* /subscriptions/' "$DPSEMU_LOG") Resource Manager requests"

unshare -m --propagation private ../setup_trust_store/files/private_trust_store.sh "$0" --kills
