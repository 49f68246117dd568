#!/usr/bin/env bash
# The offline demo behind `make demo`: the collection's main job against the bundled DPS emulator and
# simulated devices. Run from the collection root (make does); every step shows the command a user would type.
set -euo pipefail

here=$(cd "$(dirname "$0")/.." && pwd)
cd "$here"
python=${DEMO_PYTHON:-python3}
export DPSEMU_PYTHON=$python DPSEMU_CODE_DIR="$here/emulator"
export ANSIBLE_STDOUT_CALLBACK=default ANSIBLE_DISPLAY_SKIPPED_HOSTS=false ANSIBLE_CALLBACK_RESULT_FORMAT=yaml
export ANSIBLE_NOCOLOR=1 ANSIBLE_LOCALHOST_WARNING=false ANSIBLE_INVENTORY_UNPARSED_WARNING=false
export ANSIBLE_DEPRECATION_WARNINGS=false

step=0
bold='' plain=''
if [ -t 1 ]; then bold=$'\033[1m' plain=$'\033[0m'; fi
section() {
  step=$((step + 1))
  printf '\n%s== %d. %s%s\n' "$bold" "$step" "$1" "$plain"
}
show() {
  printf '$ %s\n' "$*"
  "$@"
}
expect_failure() {
  if show "$@"; then
    echo "demo: expected this step to be refused, and it was not" >&2
    exit 1
  fi
}
# What the emulator's request log says since the last call: "N GET, M writes".
requests_since_mark() {
  "$python" - "$DPSEMU_URL" "$DPSEMU_CA_FILE" <<'EOF'
import json, ssl, sys, urllib.request
url, ca = sys.argv[1], sys.argv[2]
ctx = ssl.create_default_context(cafile=ca)
log = json.load(urllib.request.urlopen(url + "/_emulator/requests", context=ctx))
arm = [r for r in log if "/providers/Microsoft.Devices/" in r["path"]]
reads = sum(r["method"] == "GET" for r in arm)
writes = sum(r["method"] in ("PUT", "PATCH", "DELETE", "POST") for r in arm)
print("%d GET, %d writes" % (reads, writes))
urllib.request.urlopen(urllib.request.Request(url + "/_emulator/requests", method="DELETE"), context=ctx)
EOF
}
# An Azure module's result as JSON (ad-hoc, one line), for the few values the demo prints itself.
module_json() {
  ANSIBLE_LOAD_CALLBACK_PLUGINS=1 ANSIBLE_STDOUT_CALLBACK=minimal ANSIBLE_CALLBACK_RESULT_FORMAT=json \
    ansible localhost "$@" | "$python" -c 'import sys; t = sys.stdin.read(); print(t[t.index("{"):])'
}

# shellcheck source=/dev/null
source tests/integration/targets/setup_emulator/emulator.sh

section "Start the offline DPS emulator: Resource Manager, Entra ID and the device endpoint (MQTT/TLS on 8883)"
start_emulator --provisioning-delay 2 --device-port 8883
echo "emulator at $DPSEMU_URL, subscription $AZURE_SUBSCRIPTION_ID; credentials exported as AZURE_* variables"
work=$DPSEMU_WORK_DIR
azure_defaults=$(printf '{"dps_azure": {"ca_bundle": "%s"}}' "$DPSEMU_CA_FILE")
devices="$work/devices"
report="$work/readiness"
"$python" hack/simulated_devices.py --count 4 --missing-roots 2 --weak-tls 1 --out "$devices" >/dev/null
echo "simulated 4 devices in $devices (one root filesystem each): 2 lack the DPS roots, 1 offers only non-policy suites"
site=(playbooks/site.yml -i "$devices/inventory.yml" -e dps_name=contoso-fleet-dps -e dps_resource_group=iot-demo
      -e dps_location=westeurope -e "$azure_defaults" -e "readiness_report_dir=$report")
requests_since_mark >/dev/null

section "Audit every device against the DPS TLS policy; the gate stops before anything irreversible"
expect_failure ansible-playbook "${site[@]}"
echo "--- $report/readiness.md"
cat "$report/readiness.md"
echo "emulator saw: $(requests_since_mark)   (nothing was provisioned)"

section "Install the DPS roots where they are missing (one ca_trust task per device)"
show ansible-playbook -i "$devices/inventory.yml" playbooks/trust_roots.yml

section "Run it again: every device already trusts the roots, nothing changes"
show ansible-playbook -i "$devices/inventory.yml" playbooks/trust_roots.yml

section "Audit again: the gate still names the device whose TLS stack the collection cannot fix"
expect_failure ansible-playbook "${site[@]}"

section "Exclude that device knowingly: the gate passes and DPS is created with minTlsVersion 1.2"
show ansible-playbook "${site[@]}" -e '{"readiness_exclude": ["device-004"]}'
echo "emulator saw: $(requests_since_mark)"

section "Provision again: nothing to change, one GET and no write"
show ansible-playbook playbooks/provision_dps.yml -e dps_name=contoso-fleet-dps -e dps_resource_group=iot-demo \
  -e dps_location=westeurope -e "$azure_defaults"
echo "emulator saw: $(requests_since_mark)"

section "Ask for a minimum TLS version DPS does not support: refused before any call"
expect_failure env ANSIBLE_LOAD_CALLBACK_PLUGINS=1 ANSIBLE_STDOUT_CALLBACK=minimal ansible localhost \
  -m iotops.dps_tls.dps_instance \
  -a "name=contoso-fleet-dps resource_group=iot-demo min_tls_version=1.3 ca_bundle=$DPSEMU_CA_FILE"
echo "emulator saw: $(requests_since_mark)"

section "An older instance created without minTlsVersion cannot be given one: refused, nothing written"
"$python" - "$DPSEMU_URL" "$DPSEMU_CA_FILE" <<'EOF'
import json, ssl, sys, urllib.request
url, ca = sys.argv[1:3]
body = {"name": "legacy-fleet-dps", "resourceGroup": "iot-demo", "location": "westeurope",
        "sku": {"name": "S1", "capacity": 1}, "properties": {}}
req = urllib.request.Request(url + "/_emulator/seed", data=json.dumps(body).encode(), method="POST",
                             headers={"Content-Type": "application/json"})
urllib.request.urlopen(req, context=ssl.create_default_context(cafile=ca))
print("(planted legacy-fleet-dps in the emulator, as created years ago without minTlsVersion)")
EOF
requests_since_mark >/dev/null
expect_failure ansible-playbook playbooks/provision_dps.yml -e dps_name=legacy-fleet-dps -e dps_resource_group=iot-demo \
  -e "$azure_defaults"
echo "emulator saw: $(requests_since_mark)"

section "Link an IoT hub, upload the fleet's CA and prove possession of its key, in one run"
pki="$work/pki"
device_files=tests/integration/targets/device_endpoint/files
"$python" "$device_files/make_devices.py" "$pki" contoso-demo-ca sensor-001 >/dev/null
"$python" "$device_files/make_devices.py" "$pki" unverified-ca rogue-001 >/dev/null
cat > "$work/ca-vars.yml" <<VARS
dps_name: contoso-fleet-dps
dps_resource_group: iot-demo
dps_location: westeurope
dps_azure: {ca_bundle: "$DPSEMU_CA_FILE"}
dps_linked_hubs:
  - connection_string: "HostName=contoso-hub.azure-devices.net;SharedAccessKeyName=iothubowner;SharedAccessKey=ZGVtby1rZXk="
    location: westeurope
dps_ca_certificates:
  - {name: contoso-demo-ca, certificate_path: "$pki/contoso-demo-ca.pem", private_key_path: "$pki/contoso-demo-ca.key"}
VARS
show ansible-playbook playbooks/provision_dps.yml -e "@$work/ca-vars.yml"
echo "emulator saw: $(requests_since_mark)"
id_scope=$(module_json -m iotops.dps_tls.dps_instance_info \
  -a "name=contoso-fleet-dps resource_group=iot-demo ca_bundle=$DPSEMU_CA_FILE" \
  | "$python" -c 'import json, sys; print(json.load(sys.stdin)["dps_instances"][0]["id_scope"])')

section "A verified CA alone provisions nothing: without an enrollment the device is refused (401)"
expect_failure "$python" "$device_files/device_client.py" --host 127.0.0.1 --id-scope "$id_scope" \
  --registration-id sensor-001 --cert "$pki/sensor-001.pem" --key "$pki/sensor-001.key" --server-ca "$DPSEMU_CA_FILE"

section "Add an enrollment group for the verified CA (the DPS service API, Entra token for DPS)"
cat >> "$work/ca-vars.yml" <<VARS
dps_enrollment_groups:
  - {name: contoso-fleet, ca_certificate: contoso-demo-ca, initial_twin: {tags: {fleet: contoso}}}
VARS
show ansible-playbook playbooks/provision_dps.yml -e "@$work/ca-vars.yml"

section "The device registers through the group (real azure-iot-device SDK, MQTT, mutual TLS 1.2, assigning first)"
show "$python" "$device_files/device_client.py" --host 127.0.0.1 --id-scope "$id_scope" \
  --registration-id sensor-001 --cert "$pki/sensor-001.pem" --key "$pki/sensor-001.key" --server-ca "$DPSEMU_CA_FILE"

section "A device from a CA the instance never verified is refused"
expect_failure "$python" "$device_files/device_client.py" --host 127.0.0.1 --id-scope "$id_scope" \
  --registration-id rogue-001 --cert "$pki/rogue-001.pem" --key "$pki/rogue-001.key" --server-ca "$DPSEMU_CA_FILE"

section "The group's registration records, read through the service API"
printf '$ ansible localhost -m iotops.dps_tls.dps_enrollment_group_info -a "name=contoso-fleet registrations=true ..."\n'
module_json -m iotops.dps_tls.dps_enrollment_group_info \
  -a "name=contoso-fleet dps_name=contoso-fleet-dps resource_group=iot-demo registrations=true ca_bundle=$DPSEMU_CA_FILE" \
  | "$python" -c '
import json, sys
for group in json.load(sys.stdin)["enrollment_groups"]:
    for record in group["registrations"]:
        print("%-12s %-10s %s" % (record["registration_id"], record["status"], record["assigned_hub"]))'

section "What is there now"
printf '$ ansible localhost -m iotops.dps_tls.dps_instance_info -a "resource_group=iot-demo ..."\n'
module_json -m iotops.dps_tls.dps_instance_info -a "resource_group=iot-demo ca_bundle=$DPSEMU_CA_FILE" \
  | "$python" -c '
import json, sys
print("%-20s %-12s %-14s %-10s %s" % ("name", "location", "id scope", "min TLS", "state"))
for dps in json.load(sys.stdin)["dps_instances"]:
    print("%-20s %-12s %-14s %-10s %s" % (dps["name"], dps["location"], dps["id_scope"],
                                         dps["min_tls_version"] or "(none)", dps["provisioning_state"]))'

section "Stop the emulator"
stop_emulator
cat <<'TXT'

Demo finished:
- the audit found the devices that could not talk to DPS and stopped before anything irreversible;
- the roots were installed where missing, and a rerun changed nothing;
- DPS was created with minTlsVersion 1.2 once the remaining device was excluded knowingly; a rerun made one GET;
- both attempts to change a minimum TLS version were refused before anything was written;
- the fleet CA was verified by proof of possession; its device was refused until an enrollment group existed, then
  registered through the group over mutual TLS; a stranger was refused.
TXT
