#!/usr/bin/env bash
# AWX and AAP run a project's playbook through ansible-runner inside an execution environment. Here: a virtualenv
# with only what the execution environment gets from the collection (ansible-builder's introspection of the
# installed tarball) plus ansible-core and ansible-runner; a project made of the collection's extensions/awx
# wrappers; ansible-runner runs site.yml against simulated devices and the emulator, and the readiness reports come
# out in the job's artifacts folder.
set -euo pipefail

python=${ANSIBLE_TEST_PYTHON_INTERPRETER:-python3}
# shellcheck source=../setup_collection/collection_root.sh
source ../setup_collection/collection_root.sh
# shellcheck source=../setup_collection/install_built.sh
source ../setup_collection/install_built.sh
# shellcheck source=../setup_emulator/emulator.sh
source ../setup_emulator/emulator.sh
root=$(collection_root)
fail() { echo "FAIL: $*" >&2; exit 1; }

start_emulator   # sets the EXIT trap that stops it and removes DPSEMU_WORK_DIR
work="$DPSEMU_WORK_DIR/awx"
mkdir -p "$work"
installed=$(install_built_collection "$root" "$work")

# The execution environment's Python requirements, as ansible-builder collects them from the installed collection.
ansible-builder introspect --sanitize --write-pip "$work/ee-requirements.txt" "$work/collections" >/dev/null
grep -q '^azure-identity' "$work/ee-requirements.txt" || fail "introspection found no requirements: $(cat "$work/ee-requirements.txt")"
versions=$("$python" -c 'from importlib.metadata import version as v; print("ansible-core==%s ansible-runner==%s" % (v("ansible-core"), v("ansible-runner")))')
"$python" -m venv "$work/ee"
# Without ansible-test's PYTHONPATH, through which pip would take the test's ansible-core as installed.
# shellcheck disable=SC2086 # two requirement words
env -u PYTHONPATH "$work/ee/bin/pip" install -q --disable-pip-version-check -r "$work/ee-requirements.txt" $versions >"$work/pip.log" 2>&1 \
  || { cat "$work/pip.log"; fail "cannot install the execution environment's requirements"; }

# Simulated devices that trust the roots and offer the DPS suites: the gate passes and DPS is provisioned.
PYTHONPATH="$installed/emulator" "$python" -m simdevices --count 3 --missing-roots 0 --out "$work/devices" >/dev/null

# ansible-runner's private data dir, as AWX lays it out for a job: project, inventory, env.
pdd="$work/job"
mkdir -p "$pdd/project" "$pdd/inventory" "$pdd/env"
cp "$installed"/extensions/awx/*.yml "$pdd/project/"
cp "$work/devices/inventory.yml" "$pdd/inventory/hosts.yml"
cat >"$pdd/env/extravars" <<VARS
dps_name: awx-fleet-dps
dps_resource_group: iot-fleet
dps_location: westeurope
VARS
# What AWX's credentials and the execution environment would put in the job's environment.
{
  echo "ANSIBLE_COLLECTIONS_PATH: '$work/collections'"
  echo "REQUESTS_CA_BUNDLE: '$DPSEMU_CA_FILE'"
  for name in AZURE_SUBSCRIPTION_ID AZURE_TENANT_ID AZURE_CLIENT_ID AZURE_CLIENT_SECRET AZURE_AUTHORITY_HOST \
              AZURE_RESOURCE_MANAGER_ENDPOINT; do
    echo "$name: '${!name}'"
  done
} >"$pdd/env/envvars"

# Only the execution environment's virtualenv on PATH, nothing of the source tree or of the test's interpreter.
env -i "HOME=$work" "PATH=$work/ee/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin" LANG=C.UTF-8 \
  "$work/ee/bin/ansible-runner" run "$pdd" -p site.yml --ident job-1 >"$work/runner.log" 2>&1 \
  || { cat "$work/runner.log"; fail "ansible-runner failed"; }

artifacts="$pdd/artifacts/job-1"
[ "$(cat "$artifacts/status")" = successful ] || { cat "$work/runner.log"; fail "the job did not succeed"; }
for report in readiness.json readiness-junit.xml readiness.md; do
  [ -s "$artifacts/readiness-report/$report" ] || fail "the job's artifacts lack readiness-report/$report"
done
"$work/ee/bin/python" "$(pwd)/files/check_job.py" "$artifacts" awx-fleet-dps
echo "ok: ansible-runner ran site.yml with the execution environment's requirements; reports in the job's artifacts"
