# Copyright: iotops.dps_tls contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The views of a DPS instance returned to the user: snake_case names, never a connection string."""

from __future__ import annotations

import re

from ansible_collections.iotops.dps_tls.plugins.module_utils._dps.instance_desired import parse_connection_string

# How a linked hub's key appears in the diff: never the key itself.
SECRET_MARK = '(secret)'
SECRET_CHANGED_MARK = '(secret, changed)'


def properties_of(raw):
    return (raw or {}).get('properties') or {}


def resource_group_of(resource_id):
    match = re.search(r'/resourceGroups/([^/]+)/', resource_id or '', re.IGNORECASE)
    return match.group(1) if match else None


def hub_host(entry):
    """The lower-case host name of an iotHubs entry (from its connection string, else its name)."""
    return (parse_connection_string(entry.get('connectionString')).get('HostName') or entry.get('name') or '').lower()


def _hub_view(entry, connection_string_mark=None):
    fields = parse_connection_string(entry.get('connectionString'))
    view = dict(
        name=entry.get('name') or fields.get('HostName'),
        location=entry.get('location'),
        allocation_weight=entry.get('allocationWeight'),
        apply_allocation_policy=entry.get('applyAllocationPolicy'),
        shared_access_key_name=fields.get('SharedAccessKeyName'),
    )
    if connection_string_mark:
        view['connection_string'] = connection_string_mark
    return view


def _ip_rule_view(rule):
    return dict(filter_name=rule.get('filterName'), action=rule.get('action'), ip_mask=rule.get('ipMask'),
                target=rule.get('target') or 'all')


def instance_view(raw, resource_group=None):
    """The `dps` result for a service reading (or a body about to be sent): snake_case, no secrets."""
    props = properties_of(raw)
    sku = raw.get('sku') or {}
    return dict(
        id=raw.get('id'),
        name=raw.get('name'),
        resource_group=resource_group_of(raw.get('id')) or resource_group,
        location=raw.get('location'),
        sku=sku.get('name'),
        capacity=sku.get('capacity'),
        min_tls_version=props.get('minTlsVersion'),
        state=props.get('state'),
        provisioning_state=props.get('provisioningState'),
        id_scope=props.get('idScope'),
        device_provisioning_host_name=props.get('deviceProvisioningHostName'),
        service_operations_host_name=props.get('serviceOperationsHostName'),
        allocation_policy=props.get('allocationPolicy'),
        public_network_access=props.get('publicNetworkAccess'),
        data_residency=props.get('enableDataResidency'),
        ip_filter_rules=[_ip_rule_view(r) for r in props.get('ipFilterRules') or []],
        tags=dict(raw.get('tags') or {}),
        linked_hubs=[_hub_view(h) for h in props.get('iotHubs') or []],
        etag=raw.get('etag'),
    )


def diff_view(body, resource_group, hub_marks=None):
    """The view for --diff: no bookkeeping fields, and each linked hub's key shown only as a mark."""
    view = instance_view(body, resource_group)
    for key in ('etag', 'state', 'provisioning_state'):
        view.pop(key, None)
    marks = hub_marks or {}
    view['linked_hubs'] = [_hub_view(h, marks.get(hub_host(h), SECRET_MARK))
                           for h in properties_of(body).get('iotHubs') or []]
    return view
