#!/usr/bin/python
# Copyright: iotops.dps_tls contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r'''
module: dps_enrollment
short_description: Create, update or delete an individual X.509 enrollment of an Azure IoT Hub Device Provisioning Service
version_added: 0.1.0
author: IoT Ops (@iotops)
description:
  - Manages an individual enrollment through the DPS service API (C(enrollments/{registrationId}), api-version
    2021-10-01) for one device, identified by its own certificate. DPS looks at a device's individual enrollment
    before any group, so this also singles a device out of its group (another hub, disabled).
  - The certificate's subject CN must be the registration id (O(name)) - a device registers with its CN; a mismatch
    is refused before any write.
  - Updates carry the etag just read (C(If-Match)); when another writer changed the enrollment in between, the module
    reads it again and decides again, once.
options:
  name:
    description: The registration id - the device certificate's subject CN; 1-128 letters, digits, C(-), C(.), C(_), C(:).
    type: str
    required: true
  certificate:
    description:
      - The device's certificate in PEM (the first certificate is used). Mutually exclusive with
        O(certificate_path); one of them is required with O(state=present).
    type: str
  certificate_path:
    description: A PEM file with the device's certificate.
    type: path
  device_id:
    description: The device id in the IoT hub; left out, DPS uses the registration id.
    type: str
extends_documentation_fragment:
  - iotops.dps_tls.azure
  - iotops.dps_tls.enrollment
  - iotops.dps_tls.enrollment.write
  - iotops.dps_tls.attributes
  - iotops.dps_tls.attributes.azure_api
seealso:
  - module: iotops.dps_tls.dps_enrollment_info
  - module: iotops.dps_tls.dps_enrollment_group
attributes:
  check_mode:
    details:
      - Reads, checks the hubs, decides exactly as a real run, and writes nothing.
  diff_mode:
    details:
      - Shows the enrollment before and after (the certificate by its SHA-256 fingerprint).
'''

EXAMPLES = r'''
- name: One gateway, always to the edge hub
  iotops.dps_tls.dps_enrollment:
    name: gateway-017
    dps_name: fleet-dps-weu
    resource_group: iot-fleet
    certificate_path: pki/gateway-017.pem
    device_id: gateway-017
    allocation_policy: static
    iot_hubs: [edge-hub.azure-devices.net]
    iot_edge: true

- name: Keep a stolen device out, even though its group is enabled
  iotops.dps_tls.dps_enrollment:
    name: sensor-4711
    dps_name: fleet-dps-weu
    resource_group: iot-fleet
    certificate_path: pki/sensor-4711.pem
    provisioning_status: disabled
'''

RETURN = r'''
enrollment:
  description: The enrollment after the task (as predicted in check mode; empty after O(state=absent)).
  returned: always
  type: dict
  contains:
    name:
      description: The registration id.
      type: str
    device_id:
      description: The device id in the IoT hub, or null (the registration id is used).
      type: str
    certificate:
      description: The device certificate (C(subject), C(sha256) as colon-separated upper-case hex, C(not_after)).
      type: dict
    provisioning_status:
      description: V(enabled) or V(disabled).
      type: str
    allocation_policy:
      description: The enrollment's allocation policy; null when it uses the instance's.
      type: str
    iot_hubs:
      description: Host names of the hubs the device may be assigned to (empty - all linked hubs).
      type: list
      elements: str
    reprovision_policy:
      description: C(update_hub_assignment) and C(migrate_device_data).
      type: dict
    initial_twin:
      description: The initial device twin, or null.
      type: dict
    iot_edge:
      description: Whether the device is an IoT Edge device.
      type: bool
    registration_state:
      description: The device's registration record as DPS returns it, once it registered.
      type: dict
    etag:
      description: The enrollment's etag; null in check mode for an enrollment not created yet.
      type: str
    created:
      description: When DPS created the enrollment (ISO 8601).
      type: str
    updated:
      description: When DPS last changed the enrollment (ISO 8601).
      type: str
  sample:
    name: gateway-017
    device_id: gateway-017
    certificate: {subject: CN=gateway-017, sha256: "4F:0C:9A:...", not_after: "2027-11-30T10:00:00+00:00"}
    provisioning_status: enabled
    allocation_policy: static
    iot_hubs: [edge-hub.azure-devices.net]
    reprovision_policy: {update_hub_assignment: true, migrate_device_data: true}
    initial_twin: null
    iot_edge: true
    registration_state: null
    etag: '"2a00c7f4-0000-0d00-0000-66a1b2c30000"'
    created: "2026-11-30T10:00:00Z"
    updated: "2026-11-30T10:00:00Z"
'''

from ansible_collections.iotops.dps_tls.plugins.module_utils._azure.module import AzureModule
from ansible_collections.iotops.dps_tls.plugins.module_utils._enrollment import ensure, model


def main():
    azure = AzureModule(model.INDIVIDUAL_SPEC, supports_check_mode=True,
                        mutually_exclusive=[('certificate', 'certificate_path')])
    azure.run(lambda azure: ensure.manage(azure, individual=True))


if __name__ == '__main__':
    main()
