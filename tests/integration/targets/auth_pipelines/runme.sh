#!/usr/bin/env bash
# auth_source azure_pipelines against the emulator's Azure DevOps OIDC endpoint, with the real
# AzurePipelinesCredential and the real SDK; then the pipeline template's access check, run as its step does.
set -euo pipefail
cd "$(dirname "$0")"
# shellcheck source=../setup_emulator/emulator.sh
source ../setup_emulator/emulator.sh
start_emulator --provisioning-delay 1 --retry-after 1
ansible-playbook -i "${INVENTORY_PATH:-localhost,}" runme.yml "$@"

# check_azure_access.yml from extensions/azure_pipelines, with what its "Authenticate to Azure" step has: the ids
# AzureCLI@2 hands the script as AZURE_CLIENT_ID/AZURE_TENANT_ID, the service connection id, the mapped
# System.AccessToken and the agent's SYSTEM_OIDCREQUESTURI; no secret. The azure_devops callback reports to the agent.
# shellcheck source=../setup_collection/collection_root.sh
source ../setup_collection/collection_root.sh
root=$(collection_root)
out=$(env -u AZURE_CLIENT_SECRET TF_BUILD=True ANSIBLE_STDOUT_CALLBACK=iotops.dps_tls.azure_devops \
  AZURESUBSCRIPTION_SERVICE_CONNECTION_ID="$DPSEMU_SERVICE_CONNECTION_ID" \
  SYSTEM_ACCESSTOKEN="$DPSEMU_SYSTEM_ACCESSTOKEN" SYSTEM_OIDCREQUESTURI="$DPSEMU_OIDC_REQUEST_URI" \
  ansible-playbook "$root/extensions/azure_pipelines/check_azure_access.yml" \
  -e "{\"dps_azure\": {\"auth_source\": \"azure_pipelines\", \"ca_bundle\": \"$DPSEMU_CA_FILE\"}}") \
  || { echo "$out"; echo "FAIL: check_azure_access.yml with auth_source azure_pipelines"; exit 1; }
echo "$out"
grep -q 'Azure access works: [1-9][0-9]* DPS instance(s) in the subscription.' <<<"$out"
grep -q '^##vso\[task.complete result=Succeeded\]' <<<"$out"
if grep -qF "$DPSEMU_SYSTEM_ACCESSTOKEN" <<<"$out"; then echo "FAIL: the access token was printed"; exit 1; fi
echo "ok: check_azure_access.yml with auth_source azure_pipelines"
