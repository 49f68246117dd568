# shellcheck shell=bash
# Source from a target's runme.sh (alias needs/target/setup_emulator):
#   source ../setup_emulator/emulator.sh; start_emulator [serve options...]
# Starts the DPS emulator on loopback with a fresh state dir, exports the variables of `dpsemu env`,
# and stops it when the script exits. A caller that sets its own EXIT trap must call stop_emulator there.

DPSEMU_PYTHON=${DPSEMU_PYTHON:-${ANSIBLE_TEST_PYTHON_INTERPRETER:-python3}}

# The collection's emulator/: ansible-test runs targets from a copy under the collection's
# tests/output/, so walking up finds it; the collections path is the fallback.
_dpsemu_find_code() {
  local dir entry
  if [ -n "${DPSEMU_CODE_DIR:-}" ]; then echo "$DPSEMU_CODE_DIR"; return 0; fi
  dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
  while [ "$dir" != "/" ]; do
    if [ -f "$dir/emulator/dpsemu/__main__.py" ]; then echo "$dir/emulator"; return 0; fi
    dir=$(dirname "$dir")
  done
  IFS=: read -ra entries <<< "${ANSIBLE_COLLECTIONS_PATH:-${ANSIBLE_COLLECTIONS_PATHS:-}}"
  for entry in "${entries[@]}"; do
    if [ -f "$entry/ansible_collections/iotops/dps_tls/emulator/dpsemu/__main__.py" ]; then
      echo "$entry/ansible_collections/iotops/dps_tls/emulator"; return 0
    fi
  done
  echo "setup_emulator: cannot find the collection's emulator/ directory" >&2
  return 1
}

dpsemu() {
  PYTHONPATH="$DPSEMU_CODE_DIR${PYTHONPATH:+:$PYTHONPATH}" "$DPSEMU_PYTHON" -m dpsemu "$@"
}

# start_emulator [serve options]: start in the background, wait until it listens, export its env.
start_emulator() {
  DPSEMU_CODE_DIR=$(_dpsemu_find_code) || return 1
  export DPSEMU_CODE_DIR
  # A fresh state dir per script (never one inherited from the caller's environment); a restart keeps it.
  if [ -z "${DPSEMU_WORK_DIR:-}" ] || [ "${_DPSEMU_OWNER:-}" != "$$" ]; then
    DPSEMU_WORK_DIR=$(mktemp -d "${TMPDIR:-/tmp}/dpsemu.XXXXXX")
    _DPSEMU_OWNER=$$
    trap _dpsemu_cleanup EXIT
  fi
  DPSEMU_STATE_DIR="$DPSEMU_WORK_DIR/state"
  DPSEMU_LOG="$DPSEMU_WORK_DIR/emulator.log"
  export DPSEMU_WORK_DIR DPSEMU_STATE_DIR DPSEMU_LOG
  # Left behind only by a crash; readiness is its appearance.
  rm -f "$DPSEMU_STATE_DIR/endpoints.json"
  # Port 8883 only for callers that ask for it (the device SDK's fixed port), so parallel runs don't queue for it.
  local device_port=(--device-port 0)
  case " $* " in *" --device-port "*) device_port=() ;; esac
  dpsemu serve --state-dir "$DPSEMU_STATE_DIR" "${device_port[@]}" "$@" >>"$DPSEMU_LOG" 2>&1 &
  DPSEMU_PID=$!
  local waited=0
  until [ -f "$DPSEMU_STATE_DIR/endpoints.json" ]; do
    if ! kill -0 "$DPSEMU_PID" 2>/dev/null || [ "$waited" -ge 600 ]; then
      echo "setup_emulator: the emulator did not start; its log:" >&2
      cat "$DPSEMU_LOG" >&2
      return 1
    fi
    sleep 0.1
    waited=$((waited + 1))
  done
  eval "$(dpsemu env --state-dir "$DPSEMU_STATE_DIR")"
}

# stop_emulator: stop it (state is kept until the script exits).
stop_emulator() {
  if [ "${_DPSEMU_OWNER:-}" = "$$" ] && [ -n "${DPSEMU_CODE_DIR:-}" ]; then
    dpsemu stop --state-dir "$DPSEMU_STATE_DIR" || true
  fi
  if [ -n "${DPSEMU_PID:-}" ]; then
    wait "$DPSEMU_PID" 2>/dev/null || true
    DPSEMU_PID=
  fi
}

# restart_emulator [serve options]: stop and start again on the same state dir.
restart_emulator() {
  stop_emulator
  start_emulator "$@"
}

_dpsemu_cleanup() {
  stop_emulator
  if [ -n "${DPSEMU_WORK_DIR:-}" ]; then rm -rf "$DPSEMU_WORK_DIR"; fi
}
