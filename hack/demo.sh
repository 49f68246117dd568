#!/usr/bin/env bash
# The offline demo behind `make demo`: the collection's main job against the bundled DPS emulator.
# Run from the collection root (make does); every step shows the command a user would type.
set -euo pipefail

here=$(cd "$(dirname "$0")/.." && pwd)
cd "$here"
python=${DEMO_PYTHON:-python3}
export DPSEMU_PYTHON=$python DPSEMU_CODE_DIR="$here/emulator"
export ANSIBLE_STDOUT_CALLBACK=default ANSIBLE_DISPLAY_SKIPPED_HOSTS=false ANSIBLE_CALLBACK_RESULT_FORMAT=yaml
export ANSIBLE_NOCOLOR=1 ANSIBLE_LOCALHOST_WARNING=false ANSIBLE_INVENTORY_UNPARSED_WARNING=false

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

# shellcheck source=/dev/null
source tests/integration/targets/setup_emulator/emulator.sh

section "Start the offline DPS emulator (Azure Resource Manager + Entra ID on loopback, its own CA)"
start_emulator --provisioning-delay 2
echo "emulator at $DPSEMU_URL, subscription $AZURE_SUBSCRIPTION_ID; credentials exported as AZURE_* variables"
azure_defaults=$(printf '{"dps_azure": {"ca_bundle": "%s"}}' "$DPSEMU_CA_FILE")
requests_since_mark >/dev/null

section "Create a DPS instance whose minimum TLS version is fixed at 1.2"
show ansible-playbook playbooks/provision_dps.yml -e dps_name=contoso-fleet-dps -e dps_resource_group=iot-demo \
  -e dps_location=westeurope -e "$azure_defaults"
echo "emulator saw: $(requests_since_mark)"

section "Run it again: nothing to change, one GET and no write"
show ansible-playbook playbooks/provision_dps.yml -e dps_name=contoso-fleet-dps -e dps_resource_group=iot-demo \
  -e dps_location=westeurope -e "$azure_defaults"
echo "emulator saw: $(requests_since_mark)"

section "Ask for a minimum TLS version DPS does not support: refused before any call"
if ANSIBLE_LOAD_CALLBACK_PLUGINS=1 ANSIBLE_STDOUT_CALLBACK=minimal show ansible localhost -m iotops.dps_tls.dps_instance \
    -a "name=contoso-fleet-dps resource_group=iot-demo min_tls_version=1.3 ca_bundle=$DPSEMU_CA_FILE"; then
  echo "unexpected: the module accepted min_tls_version=1.3" >&2; exit 1
fi
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
if show ansible-playbook playbooks/provision_dps.yml -e dps_name=legacy-fleet-dps -e dps_resource_group=iot-demo \
    -e "$azure_defaults"; then
  echo "unexpected: the playbook changed the minimum TLS version of an existing instance" >&2; exit 1
fi
echo "emulator saw: $(requests_since_mark)"

section "What is there now"
printf '$ ansible localhost -m iotops.dps_tls.dps_instance_info -a "resource_group=iot-demo ca_bundle=..."\n'
ANSIBLE_LOAD_CALLBACK_PLUGINS=1 ANSIBLE_STDOUT_CALLBACK=minimal ANSIBLE_CALLBACK_RESULT_FORMAT=json \
  ansible localhost -m iotops.dps_tls.dps_instance_info -a "resource_group=iot-demo ca_bundle=$DPSEMU_CA_FILE" \
  | "$python" -c '
import json, sys
text = sys.stdin.read()
data = json.loads(text[text.index("{"):])
print("%-20s %-12s %-14s %-10s %s" % ("name", "location", "id scope", "min TLS", "state"))
for dps in data["dps_instances"]:
    print("%-20s %-12s %-14s %-10s %s" % (dps["name"], dps["location"], dps["id_scope"],
                                         dps["min_tls_version"] or "(none)", dps["provisioning_state"]))'

section "Stop the emulator"
stop_emulator
printf '\nDemo finished: the instance exists with minTlsVersion 1.2, a rerun changed nothing, and both\n'
printf 'attempts to change a minimum TLS version were refused before anything was written.\n'
