#!/usr/bin/env bash
# tls_readiness and the readiness role/playbooks against real things: simulated device root filesystems with
# real azure-iot-device packages from PyPI and npm (old and new), pinning files from a real test PKI, openssl
# s_server endpoints, this machine's own store in a private mount namespace with the DPS roots present and
# absent; then the fleet flow of the demo: gate blocks -> roots installed -> gate names the device that cannot
# be fixed -> excluded, the gate passes. The reports are parsed and counted.
set -eux
python=${ANSIBLE_TEST_PYTHON_INTERPRETER:-python3}
collection=$(ansible-doc --json iotops.dps_tls.tls_readiness \
  | "$python" -c 'import json, os, sys; print(os.path.dirname(os.path.dirname(os.path.dirname(json.load(sys.stdin)["iotops.dps_tls.tls_readiness"]["doc"]["filename"]))))')
work=$(mktemp -d /tmp/tls-readiness.XXXXXX)

# Real SDK packages, fetched once from the registries and kept in the test cache (offline afterwards).
cache=${HOME}/.ansible/test/cache/tls_readiness
"$python" files/fetch_sdks.py "$cache"

# shellcheck source=/dev/null
source ../setup_tls_servers/files/tls_servers.sh
tls_servers_init "$work/tls"
pki="$TLS_SERVERS_DIR/pki"
rsa=(-cert "$pki/leaf_rsa.crt" -key "$pki/leaf_rsa.key" -cert_chain "$pki/intermediate.crt")
tls_server dps "${rsa[@]}" -tls1_2 -cipher "$DPS_SUITES:@SECLEVEL=0" -serverpref
tls_server tls13_only "${rsa[@]}" -tls1_3
tls_server untrusted_root -cert "$pki/leaf_untrusted.crt" -key "$pki/leaf_untrusted.key" -tls1_2

# device-001 lacks the roots, device-004 offers only suites outside the policy; 002 and 003 get SDKs and pins.
devices="$work/devices"
"$python" "$collection/hack/simulated_devices.py" --count 4 --missing-roots 1 --weak-tls 1 --out "$devices"
"$python" files/populate_devices.py "$cache" "$devices" "$pki"

vars=(-e "pki=$pki" -e "devices_dir=$devices" -e "@$TLS_SERVERS_DIR/servers.yml")
ansible-playbook -i localhost, -c local -e "ansible_python_interpreter=$python" module.yml "${vars[@]}" "$@"

# This machine's own store, in a private mount namespace: the DPS roots absent, then present.
DESELECT_DPS_ROOTS=1 unshare -m --propagation private ../setup_trust_store/files/private_trust_store.sh \
  ansible-playbook -i localhost, -c local -e "ansible_python_interpreter=$python" on_this_machine.yml -e roots_expected=false "$@"
DESELECT_DPS_ROOTS=0 unshare -m --propagation private ../setup_trust_store/files/private_trust_store.sh \
  ansible-playbook -i localhost, -c local -e "ansible_python_interpreter=$python" on_this_machine.yml -e roots_expected=true "$@"

# The fleet: the gate blocks on device-001 (roots), 002 (old SDKs, pinned leaf) and 004 (suites).
inventory=(-i "$devices/inventory.yml" -e "@files/fleet_vars.yml")
report="$work/report"
if ansible-playbook "${inventory[@]}" "$collection/playbooks/audit_readiness.yml" -e "readiness_report_dir=$report/1" \
    "$@" > "$work/gate1.log" 2>&1; then
  cat "$work/gate1.log"; echo "the gate passed a fleet with blockers" >&2; exit 1
fi
grep -q "Blocking devices: device-001 (.*), device-002 (.*), device-004 (.*)" "$work/gate1.log"
"$python" files/check_reports.py "$report/1" --groups simulated_devices --devices 4 --ready 1 --failures roots=device-001 \
  sdks=device-002 pinning=device-002 suites=device-004

# The HTML report in real headless Chromium with the network off: it renders its counts and picture and makes
# no request. The same check fails on a page that loads an image from the network.
files/browse_report.sh "$report/1/readiness.html" "${READINESS_SCREENSHOT:-$work/readiness_report.png}" \
  "1 ready, 3 not ready, 0 excluded of 4 devices"
sed -e '/Content-Security-Policy/d' -e 's|</body>|<img src="https://example.com/fleet.png"></body>|' \
  "$report/1/readiness.html" > "$work/leaky.html"
if files/browse_report.sh "$work/leaky.html" "$work/leaky.png" "1 ready" 2> "$work/leaky.log"; then
  echo "the browser check missed a request from the page" >&2; exit 1
fi
grep -q "requests left the page: \['https://example.com/fleet.png'\]" "$work/leaky.log"
# The gate's message is printed once, capped; the recap counts each device that failed the gate.
test "$(grep -c 'Top reasons: ' "$work/gate1.log")" = 1
grep -q "device-001 *: .*failed=1" "$work/gate1.log"
grep -q "device-002 *: .*failed=1" "$work/gate1.log"
grep -q "device-004 *: .*failed=1" "$work/gate1.log"
grep -q "device-003 *: .*failed=0" "$work/gate1.log"

# The roots are installed; the gate still names the devices the collection cannot fix.
ansible-playbook -i "$devices/inventory.yml" "$collection/playbooks/trust_roots.yml" "$@"
if ansible-playbook "${inventory[@]}" "$collection/playbooks/audit_readiness.yml" -e "readiness_report_dir=$report/2" \
    "$@" > "$work/gate2.log" 2>&1; then
  cat "$work/gate2.log"; echo "the gate passed a fleet with blockers" >&2; exit 1
fi
grep -q "Blocking devices: device-002 (.*), device-004 (offers none of the 12 suites DPS accepts" "$work/gate2.log"
if grep -q "device-001 (" "$work/gate2.log"; then exit 1; fi
"$python" files/check_reports.py "$report/2" --devices 4 --ready 2 --failures sdks=device-002 pinning=device-002 \
  suites=device-004

# Excluded knowingly, the gate passes; their failures become skipped test cases.
ansible-playbook "${inventory[@]}" "$collection/playbooks/audit_readiness.yml" -e "readiness_report_dir=$report/3" \
  -e '{"readiness_exclude": ["device-002", "device-00[4]"]}' "$@"
"$python" files/check_reports.py "$report/3" --devices 4 --ready 2 --excluded device-002 device-004 --skipped 3

# A lower ratio passes too: 2 of 4 ready.
ansible-playbook "${inventory[@]}" "$collection/playbooks/audit_readiness.yml" -e "readiness_report_dir=$report/4" \
  -e readiness_min_ratio=0.5 "$@"
"$python" files/check_reports.py "$report/4" --devices 4 --ready 2 --failures sdks=device-002 pinning=device-002 \
  suites=device-004

# One unreachable device: the reports are still written, it counts as not ready with the reason, the gate fails.
cat > "$work/unreachable.yml" <<'EOF'
unreachable_devices:
  hosts:
    device-005: {ansible_host: 127.0.0.2, ansible_port: 1, ansible_connection: ssh, ansible_ssh_common_args: -o ConnectTimeout=5}
EOF
inventory+=(-i "$work/unreachable.yml")
excluded=(-e '{"readiness_exclude": ["device-002", "device-00[4]"]}')
# readiness_exclude as a plain string (extra-vars) is one pattern, not a list of its characters.
if ansible-playbook "${inventory[@]}" "$collection/playbooks/audit_readiness.yml" -e "readiness_report_dir=$report/5" \
    -e 'readiness_exclude=device-00[24]' "$@" > "$work/gate5.log" 2>&1; then
  cat "$work/gate5.log"; echo "the gate passed a fleet with an unreachable device" >&2; exit 1
fi
grep -q "Blocking devices: device-005 (.*Failed to connect to the host" "$work/gate5.log"
"$python" files/check_reports.py "$report/5" --devices 5 --ready 2 --excluded device-002 device-004 --skipped 3 \
  --failures audit=device-005 --not-audited device-005 --groups simulated_devices unreachable_devices
# The gate, not any_errors_fatal, keeps site.yml from provisioning DPS.
if ansible-playbook "${inventory[@]}" "$collection/playbooks/site.yml" -e "readiness_report_dir=$report/6" \
    "${excluded[@]}" -e dps_name=never-created -e dps_resource_group=none -e dps_location=westeurope "$@" \
    > "$work/site.log" 2>&1; then
  cat "$work/site.log"; echo "site.yml passed a fleet with an unreachable device" >&2; exit 1
fi
grep -q "Blocking devices: device-005 (" "$work/site.log"
if grep -q "PLAY \[Provision" "$work/site.log"; then cat "$work/site.log"; echo "site.yml provisioned past a failed gate" >&2; exit 1; fi
test -s "$report/6/readiness.json"
rm -rf "$work"
