#!/usr/bin/python
# Copyright: iotops.dps_tls contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r'''
module: dps_enrollment_group_info
short_description: Get or list the enrollment groups of an Azure IoT Hub Device Provisioning Service and their registrations
version_added: 0.1.0
author: IoT Ops (@iotops)
description:
  - Returns one enrollment group, or all of them (the service API's paged query), read through the DPS service API.
  - With O(registrations), each group also lists the registration records of its devices (status, assigned hub).
  - A missing group gives an empty list; an authentication failure fails the task.
options:
  name:
    description: The id of one group; omit it to list them all.
    type: str
  registrations:
    description: Also return each group's registration records.
    type: bool
    default: false
extends_documentation_fragment:
  - iotops.dps_tls.azure
  - iotops.dps_tls.enrollment
  - iotops.dps_tls.attributes.info_module
  - iotops.dps_tls.attributes.azure_api
seealso:
  - module: iotops.dps_tls.dps_enrollment_group
'''

EXAMPLES = r'''
- name: Which devices registered through the fleet group, and where did they go
  iotops.dps_tls.dps_enrollment_group_info:
    name: fleet
    dps_name: fleet-dps-weu
    resource_group: iot-fleet
    registrations: true
  register: fleet

- name: Every device of the group is assigned
  ansible.builtin.assert:
    that: fleet.enrollment_groups[0].registrations | rejectattr('status', 'eq', 'assigned') | list == []
'''

RETURN = r'''
enrollment_groups:
  description: The groups, each as M(iotops.dps_tls.dps_enrollment_group) returns it.
  returned: always
  type: list
  elements: dict
  contains:
    name:
      description: The group's id.
      type: str
    etag:
      description:
        - The group's etag.
        - The other fields are those of the RV(iotops.dps_tls.dps_enrollment_group#module:enrollment) result of
          M(iotops.dps_tls.dps_enrollment_group).
      type: str
    registrations:
      description:
        - The registration records of the group's devices - C(registration_id), C(status) (assigned, assigning,
          failed, disabled), C(substatus), C(assigned_hub), C(device_id), C(created), C(updated), C(error_code),
          C(error_message), C(etag).
      returned: when O(registrations=true)
      type: list
      elements: dict
  sample:
    - name: fleet
      ca_certificate: fleet-ca
      signing_certificate: null
      provisioning_status: enabled
      allocation_policy: hashed
      iot_hubs: []
      etag: '"2a00c7f4-0000-0d00-0000-66a1b2c30000"'
      registrations:
        - {registration_id: sensor-001, status: assigned, assigned_hub: fleet-hub-1.azure-devices.net}
'''

from ansible_collections.iotops.dps_tls.plugins.module_utils._azure.module import AzureModule
from ansible_collections.iotops.dps_tls.plugins.module_utils._enrollment import ensure, model


def main():
    azure = AzureModule(model.GROUP_INFO_SPEC, supports_check_mode=True)
    azure.run(lambda azure: ensure.read(azure, individual=False))


if __name__ == '__main__':
    main()
