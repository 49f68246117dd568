#!/usr/bin/python
# Copyright: iotops.dps_tls contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r'''
module: dps_certificate_info
short_description: Get or list the CA certificates of an Azure IoT Hub Device Provisioning Service instance
version_added: 0.1.0
author: IoT Ops (@iotops)
description:
  - Returns one CA certificate of a DPS instance, or all of them, with their fingerprints, expiry and whether
    possession was proven (verified).
  - A missing certificate gives an empty list; an authentication failure fails the task.
options:
  dps_name:
    description: The name of the DPS instance.
    type: str
    required: true
  resource_group:
    description: The resource group of the DPS instance.
    type: str
    required: true
  name:
    description: The name of one certificate; omit it to list them all.
    type: str
extends_documentation_fragment:
  - iotops.dps_tls.azure
  - iotops.dps_tls.attributes.info_module
  - iotops.dps_tls.attributes.azure_api
requirements:
  - azure-mgmt-iothubprovisioningservices
  - azure-identity
  - cryptography
seealso:
  - module: iotops.dps_tls.dps_certificate
'''

EXAMPLES = r'''
- name: List the CA certificates of an instance
  iotops.dps_tls.dps_certificate_info:
    dps_name: fleet-dps-weu
    resource_group: iot-fleet
  register: cas

- name: Fail when a CA is unverified or expires within 60 days
  ansible.builtin.assert:
    that:
      - item.is_verified
      - ((item.expiry | to_datetime('%Y-%m-%dT%H:%M:%S%z')).timestamp() - now().timestamp()) > 60 * 86400
    fail_msg: "{{ item.name }} needs attention"
  loop: "{{ cas.certificates }}"
  loop_control:
    label: "{{ item.name }}"
'''

RETURN = r'''
certificates:
  description:
    - The certificates found, each with the fields M(iotops.dps_tls.dps_certificate) returns in RV(ignore:certificate),
      plus C(created) and C(updated) (ISO 8601, UTC).
    - C(thumbprint) (SHA-1) and C(sha256) are colon-separated upper-case hex, like every fingerprint the collection
      returns.
  returned: always
  type: list
  elements: dict
  sample:
    - name: fleet-ca
      subject: CN=Fleet Root CA,O=Contoso
      thumbprint: "9F:3C:1A:0E:4B:5D:6C:7F:80:91:A2:B3:C4:D5:E6:F7:08:19:2A:3B"
      sha256: "0B:8E:31:C0:D9:F2:A6:B4:E8:C7:D5:F3:A1:B9:E7:C5:D3:F1:A9:B7:E5:C3:D1:F9:A7:B5:E3:C1:D9:F7:A5:B3"
      expiry: "2036-11-29T05:00:00+00:00"
      is_verified: true
      created: "2026-11-29T05:00:00+00:00"
      updated: "2026-11-29T05:01:00+00:00"
      etag: AAAAAAFD6M4=
'''

from ansible_collections.iotops.dps_tls.plugins.module_utils._azure.module import AzureModule
from ansible_collections.iotops.dps_tls.plugins.module_utils._dps import certificate


def read_certificates(azure):
    params = azure.params
    certificate.validate_location(params)
    azure.credential_plan()
    api = certificate.DpsCertificates(client=azure.dps_client(), azure_errors=azure.azure_errors,
                                      resource_group=params['resource_group'], dps_name=params['dps_name'],
                                      waiter=azure.waiter())
    return certificate.certificate_info(api, name=params['name'])


def main():
    azure = AzureModule(dict(dps_name=dict(type='str', required=True), resource_group=dict(type='str', required=True),
                             name=dict(type='str')), supports_check_mode=True)
    azure.run(read_certificates)


if __name__ == '__main__':
    main()
