# Copyright: iotops.dps_tls contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The TLS floor of the IoT hubs a DPS instance links: devices talk to their assigned hub right after DPS.

DPS knows its linked hubs by host name only, so the hubs of the subscription are listed once (azure-mgmt-iothub,
an optional dependency) and matched by host name. A hub the identity cannot see is reported as not found, never
as a hub without a floor.
"""

from __future__ import annotations

from ansible_collections.iotops.dps_tls.plugins.module_utils._azure import auth, client
from ansible_collections.iotops.dps_tls.plugins.module_utils._common.errors import MissingDependencyError


def _hub_client(azure):
    try:
        from azure.mgmt.iothub import IotHubClient
    except ImportError as exc:
        raise MissingDependencyError('azure-mgmt-iothub', "to read the linked IoT hubs' minimum TLS version "
                                                          '(linked_hub_tls)', error=exc)
    plan = azure.credential_plan()
    settings = auth.AzureSettings(azure.params)
    kwargs = client.client_kwargs(settings, azure.waiter())
    kwargs.pop('api_version', None)  # the option names a DPS api-version, not an IoT Hub one
    return IotHubClient(azure.credential(), plan.subscription_id, **kwargs)


def hub_floors(azure):
    """{host name (lower case): minTlsVersion or None} of every IoT hub the identity can see."""
    hubs = _hub_client(azure)
    with azure.azure_errors('listing the IoT hubs of the subscription'):
        readings = [hub.as_dict() for hub in hubs.iot_hub_resource.list_by_subscription()]
    floors = {}
    for reading in readings:
        props = reading.get('properties') or {}
        host = props.get('host_name') or props.get('hostName')
        if host:
            floors[host.lower()] = props.get('min_tls_version') or props.get('minTlsVersion')
    return floors


def add_linked_hub_tls(azure, instances):
    """Each linked hub of each instance gains min_tls_version and iot_hub_found."""
    if not any(dps.get('linked_hubs') for dps in instances):
        return instances
    floors = hub_floors(azure)
    for dps in instances:
        for hub in dps.get('linked_hubs') or []:
            key = (hub.get('name') or '').lower()
            hub['iot_hub_found'] = key in floors
            hub['min_tls_version'] = floors.get(key)
    return instances
