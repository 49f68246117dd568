# Copyright: iotops.dps_tls contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Bench (a): the floor for a DPS create and no-op rerun, the SDK in one Python process without Ansible.

    python sdk_dps.py NAME      (the emulator's variables from `dpsemu env` in the environment)

Reads the instance; creates it (same body as dps_instance) and waits when it is absent; prints
{"changed": ..., "provisioning_state": ...}.
"""

import json
import os
import sys

from azure.core.exceptions import ResourceNotFoundError
from azure.identity import ClientSecretCredential
from azure.mgmt.iothubprovisioningservices import IotDpsClient

BODY = {"location": "westeurope", "sku": {"name": "S1", "capacity": 1}, "tags": {"purpose": "bench"},
        "properties": {"minTlsVersion": "1.2"}}


def main(name):
    url, ca_file = os.environ["DPSEMU_URL"], os.environ["DPSEMU_CA_FILE"]
    credential = ClientSecretCredential(os.environ["AZURE_TENANT_ID"], os.environ["AZURE_CLIENT_ID"],
                                        os.environ["AZURE_CLIENT_SECRET"], authority=url,
                                        disable_instance_discovery=True, connection_verify=ca_file)
    client = IotDpsClient(credential, os.environ["AZURE_SUBSCRIPTION_ID"], base_url=url,
                          credential_scopes=[url + "/.default"], polling_interval=2, connection_verify=ca_file)
    instances = client.iot_dps_resource
    try:
        current = instances.get(resource_group_name="rg-bench", provisioning_service_name=name).as_dict()
    except ResourceNotFoundError:
        current = None
    changed = current is None
    if changed:
        current = instances.begin_create_or_update(resource_group_name="rg-bench", provisioning_service_name=name,
                                                   iot_dps_description=BODY).result().as_dict()
    properties = current.get("properties") or {}
    state = properties.get("provisioningState") or properties.get("provisioning_state")
    print(json.dumps({"changed": changed, "provisioning_state": state}))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
