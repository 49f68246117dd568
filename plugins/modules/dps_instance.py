#!/usr/bin/python
# Copyright: iotops.dps_tls contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r'''
module: dps_instance
short_description: Create, update and delete an Azure IoT Hub Device Provisioning Service instance
version_added: 0.1.0
author: IoT Ops (@iotops)
description:
  - Keeps an Azure IoT Hub Device Provisioning Service (DPS) instance in the state the task describes.
  - The minimum TLS version of a DPS instance (C(minTlsVersion)) is set when the instance is created and can never
    change. This module sends it at creation (V(1.2) when O(min_tls_version) is omitted) and never again.
  - When an existing instance has another minimum TLS version (or none), or another O(data_residency) or O(location),
    than the task asks for, the module fails before writing anything and explains how to migrate. It never deletes
    or recreates an instance to change them.
  - An update reads the instance, merges the task's values into it and writes it back once, so
    C(minTlsVersion) and every property the task does not manage are kept. A change of tags alone is a PATCH.
options:
  name:
    description:
      - The name of the DPS instance, 3-64 letters, digits and hyphens, starting and ending with a letter or digit,
        not only digits. It is part of the service host name, so it must be unique in Azure.
    type: str
    required: true
  resource_group:
    description:
      - The resource group of the instance (1-90 letters, digits, underscores, hyphens, periods and parentheses,
        not ending with a period). It must exist; a missing group fails the task naming O(resource_group).
    type: str
    required: true
  location:
    description:
      - The Azure region, for example C(westeurope). Required to create an instance; it cannot change afterwards.
    type: str
  sku:
    description: The pricing tier. DPS offers only V(S1).
    type: str
    default: S1
    choices: [S1]
  capacity:
    description:
      - The number of units, 1-200. V(1) at creation when omitted; kept as it is on an existing instance.
    type: int
  min_tls_version:
    description:
      - The minimum TLS version devices must use, applied only when the instance is created (V(1.2) when omitted).
      - DPS supports only V(1.2). A YAML number V(1.2) is read as the string V(1.2).
      - On an existing instance, a value that differs from the instance's (including an instance created without
        one) fails the task with the way forward; when omitted, the instance's value is kept and not compared.
    type: raw
  allocation_policy:
    description: How devices are spread over the linked IoT hubs.
    type: str
    choices: [Hashed, GeoLatency, Static]
  public_network_access:
    description: Whether the instance accepts traffic from public networks.
    type: str
    choices: [Enabled, Disabled]
  ip_filter_rules:
    description:
      - The IP filter rules, in order. When set, the list replaces the instance's rules; V([]) removes them all.
    type: list
    elements: dict
    suboptions:
      filter_name:
        description: The rule's name.
        type: str
        required: true
      action:
        description: Whether matching addresses are let in or kept out.
        type: str
        required: true
        choices: [Accept, Reject]
      ip_mask:
        description:
          - An IPv4 address or CIDR range, for example C(192.168.100.0/22). Checked before any request; DPS IP filter
            rules take IPv4 only.
        type: str
        required: true
      target:
        description: Which endpoints the rule applies to.
        type: str
        default: all
        choices: [all, serviceApi, deviceApi]
  linked_hubs:
    description:
      - The IoT hubs devices are provisioned to. When set, the list replaces the instance's linked hubs; V([])
        unlinks them all.
      - Hubs are matched by the C(HostName) in their connection string. Connection strings are secrets - they are
        never shown in results, diffs or messages; a diff marks a hub whose connection string will be sent anew.
      - A connection string counts as changed when its host name or key name differs, or when the service returns
        the key and it differs. DPS does not return keys, so a new key under the same key name is not detected; it
        is sent with the next update that changes linked hubs.
    type: list
    elements: dict
    suboptions:
      connection_string:
        description:
          - The IoT hub's connection string, with C(HostName), C(SharedAccessKeyName) and C(SharedAccessKey).
        type: str
        required: true
      location:
        description: The IoT hub's region.
        type: str
        required: true
      allocation_weight:
        description:
          - The hub's weight for the V(Hashed) allocation policy, 1-1000. Left out, a linked hub keeps its current
            weight.
        type: int
      apply_allocation_policy:
        description: Whether the allocation policy applies to this hub. Left out, a linked hub keeps its current value.
        type: bool
  data_residency:
    description:
      - Whether the instance keeps data in its region (C(enableDataResidency)). Set at creation only; a different
        value on an existing instance fails the task.
    type: bool
  tags:
    description:
      - Resource tags. ARM tags map strings to strings - a nested value (a dict or list) is refused, naming the tag.
        At most 50 tags; names up to 512 characters without C(<>%&\?/); values up to 256 characters.
    type: dict
  append_tags:
    description:
      - With V(true), O(tags) are added to the instance's tags; with V(false), the instance's tags become exactly
        O(tags).
    type: bool
    default: true
  state:
    description:
      - Whether the instance should exist. V(absent) deletes it and waits until it is gone.
      - An instance already being deleted (an earlier run with O(wait=false)) is not deleted again; the task
        reports no change and, with O(wait=true), waits until it is gone.
    type: str
    default: present
    choices: [present, absent]
  wait:
    description:
      - Wait until the instance is provisioned (or deleted). With V(false), the module returns as soon as Azure
        accepted the request.
    type: bool
    default: true
  timeout:
    description:
      - How many seconds the whole task may take, 1-86400. Every wait counts against it - connecting, reading an
        answer, retries, C(Retry-After) pauses and polls of long-running operations. The module polls at the pace
        Azure asks for (C(Retry-After)); a pause longer than the time left fails the task at once, saying what was
        still running.
    type: int
    default: 600
extends_documentation_fragment:
  - iotops.dps_tls.azure
  - iotops.dps_tls.attributes
  - iotops.dps_tls.attributes.azure_api
seealso:
  - module: iotops.dps_tls.dps_instance_info
  - module: iotops.dps_tls.dps_certificate
attributes:
  check_mode:
    details:
      - Decides exactly as a real run, and writes nothing.
  diff_mode:
    details:
      - Shows the instance before and after; connection strings are masked.
'''

EXAMPLES = r'''
- name: Create a DPS instance whose devices must use TLS 1.2 (fixed for the life of the instance)
  iotops.dps_tls.dps_instance:
    name: fleet-dps-weu
    resource_group: iot-fleet
    location: westeurope
    min_tls_version: "1.2"
    allocation_policy: Hashed
    linked_hubs:
      - connection_string: "{{ hub_connection_string }}"
        location: westeurope
    tags:
      team: fleet

- name: Add a tag, keeping everything else (minTlsVersion included)
  iotops.dps_tls.dps_instance:
    name: fleet-dps-weu
    resource_group: iot-fleet
    tags:
      cost_center: "4711"

# With the bundled emulator: after eval "$(python -m dpsemu env --state-dir DIR)" the environment names its
# endpoints and credentials (docs/emulator.md); only its CA is left to give.
- name: Use the bundled emulator for every Azure module of a block
  module_defaults:
    group/iotops.dps_tls.azure:
      ca_bundle: "{{ lookup('ansible.builtin.env', 'DPSEMU_CA_FILE') }}"
  block:
    - name: Create an instance in the emulator
      iotops.dps_tls.dps_instance:
        name: demo-dps
        resource_group: demo
        location: westeurope

- name: Delete an instance
  iotops.dps_tls.dps_instance:
    name: old-dps
    resource_group: iot-fleet
    state: absent
'''

RETURN = r'''
dps:
  description: The instance after the task (predicted in check mode); empty when it is absent.
  returned: always
  type: dict
  contains:
    id:
      description: The Azure resource ID.
      type: str
      sample: /subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/iot-fleet/providers/Microsoft.Devices/provisioningServices/fleet-dps-weu
    name:
      description: The instance name.
      type: str
      sample: fleet-dps-weu
    resource_group:
      description: The resource group.
      type: str
      sample: iot-fleet
    location:
      description: The region.
      type: str
      sample: westeurope
    sku:
      description: The pricing tier.
      type: str
      sample: S1
    capacity:
      description: The number of units.
      type: int
      sample: 1
    min_tls_version:
      description: The minimum TLS version; null when the instance was created without one.
      type: str
      sample: "1.2"
    state:
      description: The service state, for example C(Active).
      type: str
      sample: Active
    provisioning_state:
      description: The Resource Manager provisioning state, for example C(Succeeded).
      type: str
      sample: Succeeded
    id_scope:
      description: The ID scope devices register with.
      type: str
      sample: 0ne00000A0A
    device_provisioning_host_name:
      description: The host name devices connect to.
      type: str
      sample: global.azure-devices-provisioning.net
    service_operations_host_name:
      description: The host name of the service API.
      type: str
      sample: fleet-dps-weu.azure-devices-provisioning.net
    allocation_policy:
      description: The allocation policy.
      type: str
      sample: Hashed
    public_network_access:
      description: Whether public network access is enabled.
      type: str
      sample: Enabled
    data_residency:
      description: Whether data residency is enabled; null when the service does not say.
      type: bool
      sample: false
    ip_filter_rules:
      description: The IP filter rules.
      type: list
      elements: dict
      sample: [{filter_name: office, action: Accept, ip_mask: 192.168.100.0/22, target: all}]
    tags:
      description: The resource tags.
      type: dict
      sample: {team: fleet}
    linked_hubs:
      description: The linked IoT hubs, without connection strings.
      type: list
      elements: dict
      sample: [{name: fleet-hub.azure-devices.net, location: westeurope, allocation_weight: null,
                apply_allocation_policy: true, shared_access_key_name: iothubowner}]
    etag:
      description: The entity tag of the instance.
      type: str
      sample: AAAAAAFD6M4=
changed_properties:
  description: The options whose change the task applied (or would apply in check mode) to an existing instance.
  returned: when an existing instance changed
  type: list
  elements: str
  sample: [tags, capacity]
'''

from ansible_collections.iotops.dps_tls.plugins.module_utils._azure.module import AzureModule
from ansible_collections.iotops.dps_tls.plugins.module_utils._dps import instance


def manage_instance(azure):
    desired = instance.DesiredInstance(azure.params)
    azure.credential_plan()  # incomplete Azure options fail here, before any request
    api = instance.DpsInstances(client=azure.dps_client(), waiter=azure.waiter(), azure_errors=azure.azure_errors)
    return instance.ensure_instance(api, desired, check_mode=azure.check_mode, diff=azure.diff)


def main():
    azure = AzureModule(instance.DPS_INSTANCE_ARGUMENT_SPEC, supports_check_mode=True)
    azure.run(manage_instance)


if __name__ == '__main__':
    main()
