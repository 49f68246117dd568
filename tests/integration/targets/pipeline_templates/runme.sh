#!/usr/bin/env bash
# The Azure Pipelines templates: they parse and name only what exists (check_templates.py), the readiness gate
# they run judges real audits of simulated devices, and the access check works against the DPS emulator.
set -euo pipefail

python=${ANSIBLE_TEST_PYTHON_INTERPRETER:-python3}
# shellcheck source=../setup_collection/collection_root.sh
source ../setup_collection/collection_root.sh
root=$(collection_root)
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

# The audit as the template runs it (reporting only, variables from a YAML file) on simulated devices:
# device-001 lacks the DPS roots.
devices="$work/devices"
"$python" "$root/hack/simulated_devices.py" --count 3 --missing-roots 1 --out "$devices" >/dev/null
audit() {
  local report=$1 ratio=$2
  printf 'readiness_report_dir: %s\nreadiness_min_ratio: %s\ntls_readiness_gate: false\n' "$report" "$ratio" \
    >"$work/vars.yml"
  ansible-playbook -i "$devices/inventory.yml" iotops.dps_tls.audit_readiness -e "@$work/vars.yml" \
    >"$work/audit.out" 2>&1 || { cat "$work/audit.out"; echo "FAIL: the reporting-only audit failed"; exit 1; }
  [ -f "$report/readiness-junit.xml" ] || { echo "FAIL: no JUnit report for PublishTestResults@2"; exit 1; }
}
blocker="does not trust digicert_global_root_g2, microsoft_rsa_root_ca_2017 (trust store $devices/device-001/etc/ssl/certs/ca-certificates.crt)"

audit "$work/all" 1
gate 1 "$work/all"
expect_line "Readiness: 2 of 3 counted devices ready (0.67, required 1.00), 0 excluded."
expect_line "##vso[task.logissue type=error]Not ready: device-001: $blocker"

audit "$work/most" 0.6
gate 0 "$work/most"
expect_line "Readiness: 2 of 3 counted devices ready (0.67, required 0.60), 0 excluded."
expect_line "##vso[task.logissue type=warning]Not ready: device-001: $blocker"

# No report, a broken one, one that counts no device: the gate fails rather than pass on nothing.
gate 1 "$work/missing"
grep -q '^##vso\[task.logissue type=error\]No readiness report: cannot read .*readiness.json' "$work/gate.out"
mkdir -p "$work/broken" "$work/empty"
echo '{"summary": ' >"$work/broken/readiness.json"
gate 1 "$work/broken"
grep -q '^##vso\[task.logissue type=error\].*readiness.json is not a readiness report' "$work/gate.out"
echo '{"summary": {"devices": 1, "counted": 0, "ready": 0, "passed": false, "blocking_devices": {}}}' \
  >"$work/empty/readiness.json"
gate 1 "$work/empty"
expect_line "##vso[task.logissue type=error]The readiness report counts no device: an audit that checked nothing proves nothing."

# 2499 of 2500 against 1.00 fails, and must not print as 1.00 either.
mkdir -p "$work/nearly"
echo '{"summary": {"devices": 2500, "counted": 2500, "ready": 2499, "ratio": 0.9996, "min_ratio": 1.0, "passed": false,
  "excluded": [], "blocking_devices": {"device-0042": ["no DPS suite offered"]}}}' >"$work/nearly/readiness.json"
gate 1 "$work/nearly"
expect_line "Readiness: 2499 of 2500 counted devices ready (0.99, required 1.00), 0 excluded."

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

# the gate step of the stages runs on the audit that passes (most) and on the one that fails (all)
"$python" files/check_templates.py "$root" "$work/most" "$work/all"

# Every pipeline file against Azure Pipelines' published schema, where the repository has ../shared beside it (the
# collection under test is a copy below the repository's .build); templates are expanded first, as Azure does.
schema=""
dir=$root
while [ "$dir" != / ]; do
  dir=$(dirname "$dir")
  if [ -f "$dir/shared/data/azure-pipelines/service-schema.json" ]; then
    schema="$dir/shared/data/azure-pipelines/service-schema.json"
    break
  fi
done
if [ -z "$schema" ]; then
  echo "skipped: no shared/data/azure-pipelines/service-schema.json beside the repository"
  exit 0
fi
checker=("$python" "$root/extensions/azure_pipelines/check_pipeline_schema.py" --schema "$schema"
  --repository "dps_tls=$root")
pipelines=("$root"/extensions/azure_pipelines/dps-tls-*.yml "$root"/extensions/azure_pipelines/azure-pipelines*.yml)
"${checker[@]}" "${pipelines[@]}"

# The check rejects what Azure rejects: a misspelt key, a wrong task input, a parameter the template does not
# declare, an expression it cannot evaluate.
bad() {
  local name=$1 from=$2 to=$3 expected=$4
  sed "s/$from/$to/" "$root/extensions/azure_pipelines/$name" >"$root/extensions/azure_pipelines/bad-$name"
  if "${checker[@]}" "$root/extensions/azure_pipelines/bad-$name" >"$work/schema.out" 2>&1; then
    rm -f "$root/extensions/azure_pipelines/bad-$name"
    echo "FAIL: the schema check passed bad-$name ($from -> $to)"
    exit 1
  fi
  rm -f "$root/extensions/azure_pipelines/bad-$name"
  grep -qF -- "$expected" "$work/schema.out" || { cat "$work/schema.out"; echo "FAIL: expected: $expected"; exit 1; }
}
bad dps-tls-trust-steps.yml "displayName: Install" "dispalyName: Install" "('dispalyName' was unexpected)"
bad dps-tls-audit-steps.yml "testResultsFormat: JUnit" "testResultsFormat: JUnitXml" "'JUnitXml' is not one of"
bad dps-tls-provision-job.yml "    environment:" "    enviroment:" "('enviroment' was unexpected)"
bad dps-tls-stages.yml "    dependsOn: audit" "    dependsOn: audit\n    timeoutInMinutes: 5" "('timeoutInMinutes' was unexpected)"
bad azure-pipelines-stages.yml "readinessMinRatio: 0.98" "readinessMinRatio: 0.98\n      minRatio: 1" \
  "parameters it does not declare: minRatio"
bad dps-tls-gate-job.yml "pool: \${{ parameters.pool }}" "pool: \${{ parameters.pools }}" "no property 'pools'"
echo "ok: the pipeline files match Azure Pipelines' schema, and the check rejects bad ones"
