#!/usr/bin/python
# Copyright: iotops.dps_tls contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r'''
module: dps_instance_info
short_description: Get or list Azure IoT Hub Device Provisioning Service instances
version_added: 0.1.0
author: IoT Ops (@iotops)
description:
  - Returns one DPS instance, the instances of a resource group, or every instance in the subscription, with their
    minimum TLS version (null for an instance created without one).
  - A missing instance gives an empty list; an authentication failure fails the task.
options:
  name:
    description:
      - The name of one instance. Needs O(resource_group).
      - An instance that does not exist gives an empty list; a subscription Azure cannot find (a wrong
        O(subscription_id)) is a failure that names O(subscription_id), never an empty list.
    type: str
  resource_group:
    description:
      - The resource group to list; omit it (and O(name)) to list the whole subscription.
      - A resource group that does not exist is a failure naming O(resource_group), never an empty list.
    type: str
  linked_hub_tls:
    description:
      - Also read each linked IoT hub's own minimum TLS version (devices talk to their hub right after DPS), into
        C(linked_hubs[].min_tls_version) and C(linked_hubs[].iot_hub_found). Needs the Python package
        C(azure-mgmt-iothub) and the right to list the subscription's IoT hubs.
    type: bool
    default: false
extends_documentation_fragment:
  - iotops.dps_tls.azure
  - iotops.dps_tls.attributes.info_module
  - iotops.dps_tls.attributes.azure_api
requirements:
  - azure-mgmt-iothub (only for O(linked_hub_tls))
seealso:
  - module: iotops.dps_tls.dps_instance
'''

EXAMPLES = r'''
- name: Find instances that were created without a minimum TLS version
  iotops.dps_tls.dps_instance_info:
  register: all_dps

- name: Show them
  ansible.builtin.debug:
    msg: "{{ all_dps.dps_instances | selectattr('min_tls_version', 'none') | map(attribute='id') | list }}"

- name: Read one instance
  iotops.dps_tls.dps_instance_info:
    name: fleet-dps-weu
    resource_group: iot-fleet
  register: one

- name: Every hub a device may be assigned to requires TLS 1.2 too
  iotops.dps_tls.dps_instance_info:
    name: fleet-dps-weu
    resource_group: iot-fleet
    linked_hub_tls: true
  register: with_hubs

- name: Fail on a hub below the DPS floor
  ansible.builtin.assert:
    that: with_hubs.dps_instances[0].linked_hubs | rejectattr('min_tls_version', 'eq', '1.2') | list == []
'''

RETURN = r'''
dps_instances:
  description:
    - The instances found, each with the fields M(iotops.dps_tls.dps_instance) returns in RV(ignore:dps).
  returned: always
  type: list
  elements: dict
  sample:
    - id: /subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/iot-fleet/providers/Microsoft.Devices/provisioningServices/fleet-dps-weu
      name: fleet-dps-weu
      resource_group: iot-fleet
      location: westeurope
      sku: S1
      capacity: 1
      min_tls_version: "1.2"
      state: Active
      provisioning_state: Succeeded
      id_scope: 0ne00000A0A
      device_provisioning_host_name: global.azure-devices-provisioning.net
      service_operations_host_name: fleet-dps-weu.azure-devices-provisioning.net
      allocation_policy: Hashed
      public_network_access: Enabled
      data_residency: false
      ip_filter_rules: []
      tags: {}
      linked_hubs: []
      etag: AAAAAAFD6M4=
'''

from ansible_collections.iotops.dps_tls.plugins.module_utils._azure.module import AzureModule
from ansible_collections.iotops.dps_tls.plugins.module_utils._dps import instance
from ansible_collections.iotops.dps_tls.plugins.module_utils._hubs import tls


def read_instances(azure):
    params = azure.params
    instance.validate_info_query(params['resource_group'], params['name'])
    azure.credential_plan()
    api = instance.DpsInstances(client=azure.dps_client(), waiter=azure.waiter(), azure_errors=azure.azure_errors)
    result = instance.instance_info(api, resource_group=params['resource_group'], name=params['name'])
    if params['linked_hub_tls']:
        tls.add_linked_hub_tls(azure, result['dps_instances'])
    return result


def main():
    azure = AzureModule(dict(name=dict(type='str'), resource_group=dict(type='str'),
                             linked_hub_tls=dict(type='bool', default=False)), supports_check_mode=True)
    azure.run(read_instances)


if __name__ == '__main__':
    main()
