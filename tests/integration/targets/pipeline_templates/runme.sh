#!/usr/bin/env bash
# The Azure Pipelines templates: they parse and name only what exists (check_templates.py), and the readiness
# gate they run passes or stops a pipeline on real JUnit reports.
set -euo pipefail

python=${ANSIBLE_TEST_PYTHON_INTERPRETER:-python3}
# ansible-test runs a copy of this directory: find the collection through the collections path.
root=""
IFS=: read -ra collection_paths <<<"${ANSIBLE_COLLECTIONS_PATH:-}"
for path in "${collection_paths[@]}"; do
  if [ -f "$path/ansible_collections/iotops/dps_tls/galaxy.yml" ]; then
    root="$path/ansible_collections/iotops/dps_tls"
    break
  fi
done
[ -n "$root" ] || { echo "FAIL: iotops.dps_tls is not in ANSIBLE_COLLECTIONS_PATH"; exit 1; }
gate="$root/extensions/azure_pipelines/readiness_gate.py"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# gate EXPECTED_RC REPORT_DIR [options]: runs the gate, keeps its output in $work/gate.out
gate() {
  local expected=$1 rc=0
  shift
  "$python" "$gate" "$@" >"$work/gate.out" 2>&1 || rc=$?
  if [ "$rc" != "$expected" ]; then
    cat "$work/gate.out"
    echo "FAIL: readiness_gate.py $* exited with $rc, expected $expected"
    exit 1
  fi
}

expect_line() {
  if ! grep -qxF -- "$1" "$work/gate.out"; then
    cat "$work/gate.out"
    echo "FAIL: expected the line: $1"
    exit 1
  fi
}

gate 0 files/reports/ready
expect_line "Readiness: 3 of 3 test cases passed, 0 failed (0 allowed)."

gate 1 files/reports/not_ready
expect_line "Readiness: 1 of 3 test cases passed, 2 failed (0 allowed)."
expect_line "##vso[task.logissue type=error]Not ready: device-7: TLS 1.2 with a DPS suite"
expect_line "##vso[task.logissue type=error]Not ready: device-9: DigiCert Global Root G2 trusted (100%AZP25 required)"

gate 0 files/reports/not_ready --max-failed 2
expect_line "##vso[task.logissue type=warning]Not ready: device-7: TLS 1.2 with a DPS suite"

gate 1 files/reports/empty
expect_line "##vso[task.logissue type=error]The readiness report in files/reports/empty has no test cases"

gate 1 "$work/missing"
expect_line "##vso[task.logissue type=error]No readiness report in $work/missing"

mkdir -p "$work/broken"
echo '<testsuites><testsuite>' >"$work/broken/report.xml"
gate 1 "$work/broken"
grep -q '^##vso\[task.logissue type=error\].*report.xml is not valid XML' "$work/gate.out"

# A report written by ansible-core's own junit callback from a real run is read the same way.
mkdir -p "$work/junit"
rc=0
JUNIT_OUTPUT_DIR="$work/junit" ANSIBLE_CALLBACKS_ENABLED=ansible.builtin.junit \
  ansible-playbook -i localhost, -c local files/audit.yml >"$work/audit.out" 2>&1 || rc=$?
[ "$rc" = 2 ] || { cat "$work/audit.out"; echo "FAIL: the sample audit exited with $rc"; exit 1; }
gate 1 "$work/junit"
expect_line "Readiness: 1 of 2 test cases passed, 1 failed (0 allowed)."

echo "ok: readiness gate"

# The playbook of the "Authenticate to Azure" step, against the DPS emulator with real azure-identity credentials.
# shellcheck source=../setup_emulator/emulator.sh
source ../setup_emulator/emulator.sh
start_emulator
trap '_dpsemu_cleanup; rm -rf "$work"' EXIT
access=(ansible-playbook "$root/extensions/azure_pipelines/check_azure_access.yml"
  -e "{\"dps_azure\": {\"auth_source\": \"env\", \"ca_bundle\": \"$DPSEMU_CA_FILE\"}}")
"${access[@]}" >"$work/access.out" 2>&1 || { cat "$work/access.out"; echo "FAIL: check_azure_access failed"; exit 1; }
grep -q 'Azure access works: 0 DPS instance(s) in the subscription.' "$work/access.out" \
  || { cat "$work/access.out"; echo "FAIL: check_azure_access did not say what it saw"; exit 1; }
if AZURE_CLIENT_SECRET=not-the-secret "${access[@]}" >"$work/access.out" 2>&1; then
  cat "$work/access.out"
  echo "FAIL: check_azure_access passed with a wrong secret"
  exit 1
fi
echo "ok: check_azure_access.yml"

"$python" files/check_templates.py "$root"
