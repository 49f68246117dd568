#!/usr/bin/python
# Copyright: iotops.dps_tls contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r'''
module: dps_enrollment_group
short_description: Create, update or delete an X.509 enrollment group of an Azure IoT Hub Device Provisioning Service
version_added: 0.1.0
author: IoT Ops (@iotops)
description:
  - Manages an X.509 enrollment group through the DPS service API (C(enrollmentGroups/{id}), api-version
    2021-10-01). Devices whose certificate chain contains the group's CA or intermediate register through it.
  - The group is tied either to a CA certificate uploaded and verified on the instance (O(ca_certificate), see
    M(iotops.dps_tls.dps_certificate)) or to an intermediate certificate held by the group itself
    (O(signing_certificate)).
  - A reference to a CA certificate that is missing or not verified is refused before any write - Azure would accept
    it, but no device could ever register through the group.
  - Updates carry the etag just read (C(If-Match)); when another writer changed the group in between, the module
    reads it again and decides again, once.
options:
  name:
    description: The enrollment group's id - 1-128 letters, digits, C(-), C(.), C(_) or C(:).
    type: str
    required: true
  ca_certificate:
    description:
      - The name of a verified CA certificate on the instance (C(caReferences)). Mutually exclusive with
        O(signing_certificate); one of them is required with O(state=present).
    type: str
  signing_certificate:
    description:
      - An intermediate (or root) CA certificate in PEM, held by the group itself (C(signingCertificates)). DPS
        does not need it to be uploaded or verified on the instance.
    type: str
extends_documentation_fragment:
  - iotops.dps_tls.azure
  - iotops.dps_tls.enrollment
  - iotops.dps_tls.enrollment.write
  - iotops.dps_tls.attributes
  - iotops.dps_tls.attributes.azure_api
seealso:
  - module: iotops.dps_tls.dps_enrollment_group_info
  - module: iotops.dps_tls.dps_enrollment
  - module: iotops.dps_tls.dps_certificate
attributes:
  check_mode:
    details:
      - Reads, checks the CA and hubs, decides exactly as a real run, and writes nothing.
  diff_mode:
    details:
      - Shows the group before and after (certificates by their SHA-256 fingerprint).
'''

EXAMPLES = r'''
- name: Devices of the verified fleet CA register through this group, spread over two hubs
  iotops.dps_tls.dps_enrollment_group:
    name: fleet
    dps_name: fleet-dps-weu
    resource_group: iot-fleet
    ca_certificate: fleet-ca
    allocation_policy: hashed
    iot_hubs: [fleet-hub-1.azure-devices.net, fleet-hub-2.azure-devices.net]
    initial_twin:
      tags: {fleet: weu}
      properties:
        desired: {telemetryInterval: 60}

- name: A production line's intermediate, all devices to one hub
  iotops.dps_tls.dps_enrollment_group:
    name: line-7
    dps_name: fleet-dps-weu
    resource_group: iot-fleet
    signing_certificate: "{{ lookup('ansible.builtin.file', 'pki/line-7-intermediate.pem') }}"
    allocation_policy: static
    iot_hubs: [fleet-hub-1.azure-devices.net]

- name: Stop a group from registering devices, keep it
  iotops.dps_tls.dps_enrollment_group:
    name: line-7
    dps_name: fleet-dps-weu
    resource_group: iot-fleet
    signing_certificate: "{{ lookup('ansible.builtin.file', 'pki/line-7-intermediate.pem') }}"
    provisioning_status: disabled

- name: With the instance's shared access key instead of a data-plane role
  iotops.dps_tls.dps_enrollment_group:
    name: fleet
    dps_name: fleet-dps-weu
    resource_group: iot-fleet
    ca_certificate: fleet-ca
    auth_mode: shared_access_key
'''

RETURN = r'''
enrollment:
  description: The enrollment group after the task (as predicted in check mode; empty after O(state=absent)).
  returned: always
  type: dict
  contains:
    name:
      description: The group's id.
      type: str
    ca_certificate:
      description: The CA certificate the group refers to, or null.
      type: str
    signing_certificate:
      description: The group's own intermediate (C(subject), C(sha256) as colon-separated upper-case hex, C(not_after)), or null.
      type: dict
    provisioning_status:
      description: V(enabled) or V(disabled).
      type: str
    allocation_policy:
      description: The group's allocation policy; null when it uses the instance's.
      type: str
    iot_hubs:
      description: Host names of the hubs the group's devices may be assigned to (empty - all linked hubs).
      type: list
      elements: str
    reprovision_policy:
      description: C(update_hub_assignment) and C(migrate_device_data).
      type: dict
    initial_twin:
      description: The initial device twin (C(tags), C(properties.desired)), or null.
      type: dict
    iot_edge:
      description: Whether the devices are IoT Edge devices.
      type: bool
    etag:
      description: The group's etag; null in check mode for a group not created yet.
      type: str
    created:
      description: When DPS created the group (ISO 8601).
      type: str
    updated:
      description: When DPS last changed the group (ISO 8601).
      type: str
  sample:
    name: fleet
    ca_certificate: fleet-ca
    signing_certificate: null
    provisioning_status: enabled
    allocation_policy: hashed
    iot_hubs: [fleet-hub-1.azure-devices.net]
    reprovision_policy: {update_hub_assignment: true, migrate_device_data: true}
    initial_twin: null
    iot_edge: false
    etag: '"2a00c7f4-0000-0d00-0000-66a1b2c30000"'
    created: "2026-11-30T10:00:00Z"
    updated: "2026-11-30T10:00:00Z"
'''

from ansible_collections.iotops.dps_tls.plugins.module_utils._azure.module import AzureModule
from ansible_collections.iotops.dps_tls.plugins.module_utils._enrollment import ensure, model


def main():
    azure = AzureModule(model.GROUP_SPEC, supports_check_mode=True,
                        mutually_exclusive=[('ca_certificate', 'signing_certificate')])
    azure.run(lambda azure: ensure.manage(azure, individual=False))


if __name__ == '__main__':
    main()
