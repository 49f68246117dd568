#!/usr/bin/python
# Copyright: iotops.dps_tls contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r'''
module: dps_enrollment_info
short_description: Get or list the individual enrollments of an Azure IoT Hub Device Provisioning Service
version_added: 0.1.0
author: IoT Ops (@iotops)
description:
  - Returns one individual enrollment, or all of them (the service API's paged query), with each device's
    registration state once it registered.
  - A missing enrollment gives an empty list; an authentication failure fails the task.
options:
  name:
    description: The registration id of one enrollment; omit it to list them all.
    type: str
extends_documentation_fragment:
  - iotops.dps_tls.azure
  - iotops.dps_tls.enrollment
  - iotops.dps_tls.attributes.info_module
  - iotops.dps_tls.attributes.azure_api
seealso:
  - module: iotops.dps_tls.dps_enrollment
'''

EXAMPLES = r'''
- name: All individual enrollments
  iotops.dps_tls.dps_enrollment_info:
    dps_name: fleet-dps-weu
    resource_group: iot-fleet
  register: singles
'''

RETURN = r'''
enrollments:
  description: The enrollments, each as M(iotops.dps_tls.dps_enrollment) returns it.
  returned: always
  type: list
  elements: dict
  contains:
    name:
      description: The registration id.
      type: str
    registration_state:
      description: The device's registration record, once it registered.
      type: dict
    etag:
      description:
        - The enrollment's etag.
        - The other fields are those of the RV(iotops.dps_tls.dps_enrollment#module:enrollment) result of
          M(iotops.dps_tls.dps_enrollment).
      type: str
  sample:
    - name: gateway-017
      device_id: gateway-017
      certificate: {subject: CN=gateway-017, sha256: "4F:0C:9A:...", not_after: "2027-11-30T10:00:00+00:00"}
      provisioning_status: enabled
      registration_state: null
      etag: '"2a00c7f4-0000-0d00-0000-66a1b2c30000"'
'''

from ansible_collections.iotops.dps_tls.plugins.module_utils._azure.module import AzureModule
from ansible_collections.iotops.dps_tls.plugins.module_utils._enrollment import ensure, model


def main():
    azure = AzureModule(model.INFO_SPEC, supports_check_mode=True)
    azure.run(lambda azure: ensure.read(azure, individual=True))


if __name__ == '__main__':
    main()
