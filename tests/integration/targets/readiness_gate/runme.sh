#!/usr/bin/env bash
# The gate fails closed, with real ansible-playbook runs against the emulator: site.yml with readiness_hosts
# matching no host, and the merge of --limit slices of one fleet with a slice missing, corrupted, failed (started
# and never finished) or overlapping, never provisions DPS (the emulator sees no request) and exits non-zero.
# All slices present and ready, the merged verdict passes and DPS is provisioned (the same checks can fail).
set -eux
python=${ANSIBLE_TEST_PYTHON_INTERPRETER:-python3}
collection=$(ansible-doc --json iotops.dps_tls.readiness_merge \
  | "$python" -c 'import json, os, sys; print(os.path.dirname(os.path.dirname(os.path.dirname(json.load(sys.stdin)["iotops.dps_tls.readiness_merge"]["doc"]["filename"]))))')
# shellcheck source=../setup_emulator/emulator.sh
source ../setup_emulator/emulator.sh
start_emulator --provisioning-delay 0 --retry-after 0
work="$DPSEMU_WORK_DIR/gate"
mkdir -p "$work"
endpoints="$DPSEMU_STATE_DIR/endpoints.json"
ca=$("$python" -c 'import json, sys; print(json.load(open(sys.argv[1]))["ca_file"])' "$endpoints")
arm=$("$python" -c 'import json, sys; print(json.load(open(sys.argv[1]))["resource_manager_endpoint"])' "$endpoints")
requests() { curl -sf --cacert "$ca" "$arm/_emulator/requests" | "$python" -c 'import json, sys; print(len(json.load(sys.stdin)))'; }

# Three simulated devices, made ready (roots installed), audited as three --limit slices.
devices="$work/devices"
"$python" "$collection/hack/simulated_devices.py" --count 3 --out "$devices" >/dev/null
inventory=(-i "$devices/inventory.yml")
ansible-playbook "${inventory[@]}" "$collection/playbooks/trust_roots.yml" "$@" >/dev/null
slices="$work/slices"
for n in 1 2 3; do
  ansible-playbook "${inventory[@]}" "$collection/playbooks/audit_readiness.yml" --limit "device-00$n" \
    -e "readiness_slice=s$n" -e readiness_expected_slices=3 -e "readiness_report_dir=$slices" "$@" > "$work/slice$n.log"
  grep -q "Slice s$n reported. The fleet gate decides after merging all 3 slices" "$work/slice$n.log" \
    || grep -q "Slice s$n (the fleet gate decides" "$work/slice$n.log"
done
test "$(find "$slices" -name 'readiness-slice-s*.json' | wc -l)" = 3

provision=(-e dps_name=gate-dps -e dps_resource_group=rg-gate -e dps_location=westeurope
           -e "{\"dps_azure\": {\"ca_bundle\": \"$ca\"}}" -e "ansible_python_interpreter=$python")
must_refuse() {  # must_refuse NAME EXPECTED-TEXT ansible-playbook arguments...
  local name=$1 says=$2
  shift 2
  if ansible-playbook "$@" > "$work/$name.log" 2>&1; then
    cat "$work/$name.log"; echo "$name: the run passed the gate" >&2; exit 1
  fi
  grep -q -- "$says" "$work/$name.log" || { cat "$work/$name.log"; echo "$name: no '$says'" >&2; exit 1; }
  if grep -q "TASK \[iotops.dps_tls.dps : " "$work/$name.log"; then
    cat "$work/$name.log"; echo "$name: the provisioning role ran" >&2; exit 1
  fi
  test "$(requests)" = 0
}

# site.yml: readiness_hosts matches no host; no audit ran, so nothing may be provisioned. (ansible-test makes an
# unmatched pattern an error; users get the default, a warning, and the play is skipped.)
ANSIBLE_HOST_PATTERN_MISMATCH=warning must_refuse no_hosts "the reports cover no device" "${inventory[@]}" "$collection/playbooks/site.yml" \
  -e readiness_hosts=no-such-group -e "readiness_report_dir=$work/none" "${provision[@]}" "$@"

# site.yml with tls_readiness_gate=false on a fleet with a device that is not ready: the audit only reports (the
# gate play does not fail), yet the provisioning play finds no passed verdict and refuses.
"$python" "$collection/hack/simulated_devices.py" --count 2 --missing-roots 1 --out "$work/unready" >/dev/null
must_refuse report_only "No passed readiness verdict" -i "$work/unready/inventory.yml" "$collection/playbooks/site.yml" \
  -e tls_readiness_gate=false -e "readiness_report_dir=$work/report-only" "${provision[@]}" "$@"
grep -q "1 of 2" "$work/report-only/readiness.md" || grep -q "not ready" "$work/report-only/readiness.md"

merge=("$collection/playbooks/gated_provision.yml" -e readiness_expected_slices=3 -e "readiness_report_dir=$work/merged"
       "${provision[@]}")
# A missing slice.
mkdir -p "$work/two"
cp "$slices"/readiness-slice-s1.json "$slices"/readiness-slice-s2.json "$work/two/"
must_refuse missing "2 of the 3 expected slices reported" "${merge[@]}" -e "{\"readiness_slice_paths\": [\"$work/two\"]}" "$@"
# A corrupted slice report.
cp -r "$work/two" "$work/corrupt"
head -c 100 "$slices/readiness-slice-s3.json" > "$work/corrupt/readiness-slice-s3.json"
must_refuse corrupt "readiness-slice-s3.json is not JSON" "${merge[@]}" -e "{\"readiness_slice_paths\": [\"$work/corrupt\"]}" "$@"
# A slice report that is not there at all.
must_refuse unreadable "cannot read it" "${merge[@]}" \
  -e "{\"readiness_slice_paths\": [\"$work/two\", \"$work/none/readiness-slice-s3.json\"]}" "$@"
# A failed slice: it marked its report started, then died before writing it (here: its report folder cannot
# take the JUnit file, so the slice fails after the audit).
cp -r "$work/two" "$work/failed"
mkdir -p "$work/failed/readiness-slice-s3-junit.xml"
if ansible-playbook "${inventory[@]}" "$collection/playbooks/audit_readiness.yml" --limit device-003 -e readiness_slice=s3 \
    -e readiness_expected_slices=3 -e "readiness_report_dir=$work/failed" "$@" > "$work/slice3-failed.log" 2>&1; then
  cat "$work/slice3-failed.log"; echo "the slice did not fail" >&2; exit 1
fi
must_refuse failed "slice s3 did not finish its audit" "${merge[@]}" -e "{\"readiness_slice_paths\": [\"$work/failed\"]}" "$@"
# Overlapping slices: the same device twice.
cp -r "$work/two" "$work/overlap"
sed 's/"slice": "s1"/"slice": "s9"/' "$slices/readiness-slice-s1.json" > "$work/overlap/readiness-slice-s9.json"
must_refuse overlap "is in slices s1 and s9" "${merge[@]}" -e "{\"readiness_slice_paths\": [\"$work/overlap\"]}" "$@"
# AWX artifacts as extra vars: two of three.
"$python" - "$slices" > "$work/artifacts.json" <<'PY'
import json, sys
print(json.dumps({"readiness_slice_report_s%d" % n: json.load(open("%s/readiness-slice-s%d.json" % (sys.argv[1], n)))
                  for n in (1, 2)}))
PY
must_refuse artifacts "2 of the 3 expected slices reported" "${merge[@]}" -e "@$work/artifacts.json" "$@"

# Every slice there and ready: the merged verdict passes, the merged reports are written, DPS is provisioned.
ansible-playbook "${merge[@]}" -e "{\"readiness_slice_paths\": [\"$slices\"]}" "$@" > "$work/passed.log"
grep -q "Readiness gate passed\|TASK \[iotops.dps_tls.dps : Ensure DPS instance" "$work/passed.log"
test "$(requests)" -gt 0
"$python" -c '
import json, sys
report = json.load(open(sys.argv[1]))
summary = report["summary"]
assert (summary["devices"], summary["ready"], summary["passed"]) == (3, 3, True), summary
assert [s["slice"] for s in summary["slices"]] == ["s1", "s2", "s3"], summary["slices"]
' "$work/merged/readiness.json"
grep -q "3 ready, 0 not ready, 0 excluded of 3 devices" "$work/merged/readiness.html"
test "$(grep -c '<testsuite ' "$work/merged/readiness-junit.xml")" = 1
