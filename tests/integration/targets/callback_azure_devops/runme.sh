#!/usr/bin/env bash
# Runs real playbooks through the iotops.dps_tls.azure_devops callback and checks the exact logging commands
# it writes, that the output stays the default output outside Azure Pipelines, and that no_log values never show.
set -euo pipefail

here=$(pwd)
out=${OUTPUT_DIR:-$(mktemp -d)}/callback_azure_devops
mkdir -p "$out"

export ANSIBLE_STDOUT_CALLBACK=iotops.dps_tls.azure_devops
export ANSIBLE_INVENTORY="$here/inventory.ini"
export ANSIBLE_LIBRARY="$here/library"
export ANSIBLE_NOCOLOR=1
export ANSIBLE_HOST_KEY_CHECKING=false
# ansible-test turns deprecation warnings off; a user's run has them on.
export ANSIBLE_DEPRECATION_WARNINGS=true
unset IOTOPS_AZURE_DEVOPS_ACTIVATION IOTOPS_AZURE_DEVOPS_GROUP_TASKS BUILD_SOURCESDIRECTORY

# run NAME EXPECTED_RC [ENV=VALUE...] -- PLAYBOOK: runs the playbook, keeps stdout+stderr in $out/NAME.log
run() {
  local name=$1 expected_rc=$2 rc=0
  shift 2
  local envs=()
  while [ "$1" != "--" ]; do envs+=("$1"); shift; done
  shift
  env "${envs[@]}" ansible-playbook "$@" >"$out/$name.log" 2>&1 || rc=$?
  if [ "$rc" != "$expected_rc" ]; then
    cat "$out/$name.log"
    echo "FAIL: $name exited with $rc, expected $expected_rc"
    exit 1
  fi
}

# The logging commands of a run, with the target directory replaced so expected files do not depend on it.
commands() {
  grep -E '^##' "$out/$1.log" | sed -e "s|$here/|@TARGET@/|g"
}

expect_commands() {
  local name=$1 expected=$2
  if ! diff -u "expected/$expected.txt" <(commands "$name"); then
    echo "FAIL: $name: logging commands differ from expected/$expected.txt"
    exit 1
  fi
  echo "ok: $name"
}

run success 0 TF_BUILD=True -- success.yml
expect_commands success success

run warnings 0 TF_BUILD=True -- warnings.yml
expect_commands warnings warnings

run failure 4 TF_BUILD=True -- failure.yml
expect_commands failure failure

run group_tasks 0 TF_BUILD=True IOTOPS_AZURE_DEVOPS_GROUP_TASKS=true -- success.yml
expect_commands group_tasks group_tasks

# Colour in the normal output must not leak into a logging command: the agent only sees a line that starts with ##.
run colour 0 TF_BUILD=True ANSIBLE_NOCOLOR=0 ANSIBLE_FORCE_COLOR=1 -- success.yml
expect_commands colour success
grep -q $'\e\[' "$out/colour.log" || { echo "FAIL: the colour run printed no colour"; exit 1; }

run outputs 0 TF_BUILD=True IOTOPS_AZURE_DEVOPS_OUTPUT_VARIABLES=true IOTOPS_AZURE_DEVOPS_COMPLETE_TASK=false \
  "IOTOPS_AZURE_DEVOPS_EXPORT_VARIABLES=FLEET_DPS=dps.name,NOT A NAME=dps.name" \
  IOTOPS_AZURE_DEVOPS_SECRET_VARIABLES=FLEET_DPS -- success.yml
expect_commands outputs outputs
grep -q '\[WARNING\]: iotops.dps_tls.azure_devops: ignoring export_variables entries that are not NAME=path: NOT A NAME=dps.name' \
  "$out/outputs.log" || { echo "FAIL: no warning about the invalid export_variables entry"; exit 1; }

run no_log 2 TF_BUILD=True -- no_log.yml
expect_commands no_log no_log
run no_log.inactive 2 TF_BUILD= -- no_log.yml
# The one secret a play hands over on purpose appears only inside its issecret=true command, which the agent masks.
for name in no_log no_log.inactive; do
  leaks=$(grep -n 'secret-' "$out/$name.log" \
    | grep -v '^[0-9]*:##vso\[task.setvariable variable=DEVICE_KEY;issecret=true\]secret-set-stats-7$' || true)
  if [ -n "$leaks" ]; then
    echo "FAIL: $name: no_log values in the output:"
    echo "$leaks"
    exit 1
  fi
done
# The default callback of ansible-core 2.19 prints them (the error it keeps in a censored result): proof the check bites.
rc=0; ANSIBLE_STDOUT_CALLBACK=ansible.builtin.default ansible-playbook no_log.yml >"$out/no_log.default.log" 2>&1 || rc=$?
grep -q 'secret-final-failure-8' "$out/no_log.default.log" \
  || echo "note: ansible.builtin.default no longer prints no_log failure messages (rc=$rc)"
echo "ok: no_log values stay hidden"

# Commands hidden in play and task names, results, warnings and failure messages stay text: the only lines with
# ##vso[ or ##[ are the callback's own, and the step still fails.
run smuggle 2 TF_BUILD=True -- smuggle.yml
expect_commands smuggle smuggle
grep -c 'FROM_' "$out/smuggle.log" >/dev/null || { echo "FAIL: the smuggle run printed none of its text"; exit 1; }
stray=$(grep -nE '##vso\[|##\[' "$out/smuggle.log" | grep -vE '^[0-9]+:##' || true)
[ -z "$stray" ] || { echo "FAIL: commands inside lines of the output:"; echo "$stray"; exit 1; }
echo "ok: smuggled commands stay text"

# Outside Azure Pipelines, and when turned off, the output is the default callback's, byte for byte.
for playbook in success warnings failure; do
  rc=0; ANSIBLE_STDOUT_CALLBACK=ansible.builtin.default ansible-playbook "$playbook.yml" >"$out/$playbook.default.log" 2>&1 || rc=$?
  variants=(inactive)
  run "$playbook.inactive" "$rc" TF_BUILD= -- "$playbook.yml"
  if [ "$playbook" = success ]; then
    variants+=(never)
    run "$playbook.never" "$rc" TF_BUILD=True IOTOPS_AZURE_DEVOPS_ACTIVATION=never -- "$playbook.yml"
  fi
  for variant in "${variants[@]}"; do
    if ! diff -u "$out/$playbook.default.log" "$out/$playbook.$variant.log"; then
      echo "FAIL: $playbook ($variant) differs from the default callback's output"
      exit 1
    fi
    echo "ok: $playbook ($variant) is the default output"
  done
done

# An unreachable host the play tolerates is one warning for the whole run, not one per task it misses.
# A host warned about so is an error in a later play that cannot go on without it.
for case in unreachable_ignored:0 unreachable_tolerated:4 unreachable_later:4; do
  run "${case%%:*}" "${case##*:}" TF_BUILD=True -- "${case%%:*}.yml"
  expect_commands "${case%%:*}" "${case%%:*}"
done

# A gate that runs once on the controller names the gate, never the device it ran as; with the sources directory
# set, issues point into the repository, and a role of an installed collection gets no path at all.
gates="$out/collections/ansible_collections/acme/gates"
mkdir -p "$gates/roles/gate/tasks"
printf 'namespace: acme\nname: gates\nversion: 1.0.0\nreadme: README.md\nauthors: [IoT Ops]\n' >"$gates/galaxy.yml"
cat >"$gates/roles/gate/tasks/main.yml" <<'YAML'
---
- name: Gate on readiness
  ansible.builtin.fail:
    msg: "Readiness gate: 1 of 2 devices ready, below the required 1.0"
  run_once: true
  delegate_to: localhost
YAML
run gate 2 TF_BUILD=True BUILD_SOURCESDIRECTORY="$here" \
  "ANSIBLE_COLLECTIONS_PATH=$out/collections:${ANSIBLE_COLLECTIONS_PATH:-}" -- -i fleet.ini gate.yml
expect_commands gate gate
if grep -E '^##vso\[task.logissue' "$out/gate.log" | grep -E 'device-00|ansible_collections|sourcepath=/'; then
  echo "FAIL: gate: an issue names a device or points outside the repository"
  exit 1
fi
echo "ok: the gate is named, not the device"

# activation=always writes the commands without TF_BUILD (a local preview).
run always 0 IOTOPS_AZURE_DEVOPS_ACTIVATION=always -- success.yml
expect_commands always success

# The real thing: provision_dps against the DPS emulator exports the instance's ID scope and host names.
# shellcheck source=../setup_emulator/emulator.sh
source ../setup_emulator/emulator.sh
start_emulator --provisioning-delay 1 --retry-after 1
run provision 0 TF_BUILD=True -- iotops.dps_tls.provision_dps -e dps_name=fleet-dps -e dps_resource_group=rg-fleet \
  -e dps_location=westeurope -e "{\"dps_azure\": {\"ca_bundle\": \"$DPSEMU_CA_FILE\"}}"
scope=$(sed -n 's/^ *"ID scope: \(0ne[0-9A-Za-z]*\)",\{0,1\}$/\1/p' "$out/provision.log")
[ -n "$scope" ] || { cat "$out/provision.log"; echo "FAIL: the playbook showed no ID scope"; exit 1; }
for line in "##vso[task.setvariable variable=DPS_ID_SCOPE]$scope" \
  '##vso[task.complete result=Succeeded]ansible-playbook reported 0 error(s) and 0 warning(s)'; do
  grep -qxF -- "$line" "$out/provision.log" || { cat "$out/provision.log"; echo "FAIL: missing $line"; exit 1; }
done
grep -qE '^##vso\[task.setvariable variable=DPS_DEVICE_PROVISIONING_HOST_NAME\][a-z0-9.-]+$' "$out/provision.log" \
  || { cat "$out/provision.log"; echo "FAIL: no device provisioning host name exported"; exit 1; }
echo "ok: provision_dps exports DPS_ID_SCOPE=$scope"
