# Copyright: iotops.dps_tls contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Options shared by the enrollment modules: where the DPS service API is and how to authenticate to it."""

from __future__ import annotations


class ModuleDocFragment:

    DOCUMENTATION = r'''
options:
  dps_name:
    description: The name of the DPS instance.
    type: str
    required: true
  resource_group:
    description: The resource group of the DPS instance.
    type: str
    required: true
  auth_mode:
    description:
      - How the module authenticates to the DPS service API (the data plane).
      - V(entra) asks Microsoft Entra ID for a token for C(https://azure-devices-provisioning.net/.default) with the
        same credential as the Azure Resource Manager calls (O(auth_source) and its options). The identity needs the
        C(Device Provisioning Service Data Contributor) role on the instance (C(Data Reader) is enough for the info
        modules).
      - V(shared_access_key) reads the instance's shared access policy C(provisioningserviceowner) (or the first with
        C(EnrollmentWrite) rights) with ARM C(listKeys), then signs each request with it. The key never leaves the
        module. The Azure identity then needs the right to list keys instead of a data-plane role.
    type: str
    default: entra
    choices: [entra, shared_access_key]
  service_endpoint:
    description:
      - The base URL of the DPS service API. By default C(https://) plus the instance's
        C(service_operations_host_name), as Azure serves it.
      - C({host}) in the value is replaced by that host name, so one value serves every instance. The collection's
        emulator serves each instance at C(https://127.0.0.1:PORT/dps/{host}).
      - Falls back to the E(DPS_SERVICE_ENDPOINT) environment variable.
    type: str
  timeout:
    description:
      - How many seconds the whole task may take (1 to 86400), every request, retry and Retry-After included.
      - The task fails at this deadline and says what was still running.
    type: int
    default: 120
requirements:
  - azure-core
  - cryptography
'''

    WRITE = r'''
options:
  provisioning_status:
    description:
      - V(disabled) refuses every device that matches the enrollment, even when another enrollment would take it.
      - Left out, an existing enrollment keeps its status; a new one is V(enabled).
    type: str
    choices: [enabled, disabled]
  allocation_policy:
    description:
      - How DPS picks the IoT hub for a device. V(hashed) spreads devices over the hubs by their weights,
        V(geoLatency) picks the hub closest to the device, V(static) always picks the one hub of O(iot_hubs).
      - Left out, a new enrollment uses the instance's allocation policy and an existing one keeps its own.
    type: str
    choices: [hashed, geoLatency, static]
  iot_hubs:
    description:
      - Host names of the linked IoT hubs devices of this enrollment may be assigned to (for example
        C(fleet-hub.azure-devices.net)). Each must be linked to the instance; checked before any write.
      - Left out, an existing enrollment keeps its list; V([]) means every linked hub.
    type: list
    elements: str
  reprovision_policy:
    description: What happens when a device that is already assigned registers again. Left out, kept as it is.
    type: dict
    suboptions:
      update_hub_assignment:
        description: Let DPS assign the device to another hub when the enrollment's hubs changed.
        type: bool
        default: true
      migrate_device_data:
        description: Move the device's twin to the new hub.
        type: bool
        default: true
  initial_twin:
    description:
      - The device twin DPS writes at the first registration - C(tags) and C(properties.desired). Left out, kept.
    type: dict
  iot_edge:
    description: Whether the devices are IoT Edge devices. Left out, kept as it is (a new enrollment - false).
    type: bool
  state:
    description:
      - V(present) creates or updates the enrollment; options left out keep the values it has. V(absent) deletes it.
      - Nothing is ever deleted or recreated to reach V(present).
    type: str
    default: present
    choices: [present, absent]
'''
