# Copyright: iotops.dps_tls contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A DPS instance brought to its desired state: compare, guard the immutable properties, build bodies, apply.

minTlsVersion is in no REST spec or SDK model: it is sent as properties.minTlsVersion in a plain dict body at
creation and never again. Bodies and readings are plain dicts with the service's camelCase names; the options are
read in instance_desired, the views returned to the user are built in instance_views, the calls made in
instance_api.
"""

from __future__ import annotations

import copy

from ansible_collections.iotops.dps_tls.plugins.module_utils._azure import names
from ansible_collections.iotops.dps_tls.plugins.module_utils._common.errors import DpsTlsError, InvalidInputError
from ansible_collections.iotops.dps_tls.plugins.module_utils._dps.instance_api import DpsInstances, is_settled
from ansible_collections.iotops.dps_tls.plugins.module_utils._dps.instance_desired import (
    DEFAULT_MIN_TLS_VERSION, DPS_INSTANCE_ARGUMENT_SPEC, DesiredInstance, normalize_location,
    normalize_min_tls_version, parse_connection_string, validate_name)
from ansible_collections.iotops.dps_tls.plugins.module_utils._dps.instance_views import (
    SECRET_CHANGED_MARK, SECRET_MARK, diff_view, hub_host, instance_view, properties_of)

__all__ = ['DPS_INSTANCE_ARGUMENT_SPEC', 'DesiredInstance', 'DpsInstances', 'SECRET_MARK', 'ensure_instance',
           'instance_info', 'instance_view', 'normalize_min_tls_version', 'validate_name']

# Read from the service but never sent back in a PUT.
READ_ONLY_FIELDS = ('id', 'name', 'type', 'etag', 'systemData', 'resourcegroup', 'subscriptionid')
READ_ONLY_PROPERTIES = ('state', 'provisioningState', 'serviceOperationsHostName', 'deviceProvisioningHostName',
                        'idScope')


# ------------------------------------------------------------------------------------------------------- compare

def _key_is_readable(fields):
    """False when the service masks the key (DPS answers SharedAccessKey=****), so it cannot be compared."""
    key = fields.get('SharedAccessKey')
    return bool(key) and set(key) != {'*'}


def linked_hub_changes(current_entries, desired_hubs):
    """Host names of the hubs that are added, removed or changed, and those whose connection string changed.

    A connection string counts as changed when its host name or key name differs, or when the service returns the
    key and it differs. When the service masks the key (as DPS does), a new key under the same key name cannot be
    seen: it is sent with the next write that touches linked_hubs.
    """
    current = dict((parse_connection_string(e.get('connectionString')).get('HostName', e.get('name') or '').lower(),
                    e) for e in current_entries)
    changed, secret_changed = [], []
    for hub in desired_hubs:
        entry = current.pop(hub.host_name.lower(), None)
        if entry is None:
            changed.append(hub.host_name)
            secret_changed.append(hub.host_name)
            continue
        fields = parse_connection_string(entry.get('connectionString'))
        key_changed = fields.get('SharedAccessKeyName') != hub.fields.get('SharedAccessKeyName') or (
            _key_is_readable(fields) and fields.get('SharedAccessKey') != hub.fields.get('SharedAccessKey'))
        if key_changed:
            secret_changed.append(hub.host_name)
        if (key_changed or normalize_location(entry.get('location')) != normalize_location(hub.location) or
                (hub.allocation_weight is not None and entry.get('allocationWeight') != hub.allocation_weight) or
                (hub.apply_allocation_policy is not None and
                 bool(entry.get('applyAllocationPolicy')) != hub.apply_allocation_policy)):
            changed.append(hub.host_name)
    changed.extend(e.get('name') or host for host, e in current.items())
    return changed, secret_changed


def _normalized_rules(rules):
    return [dict(filterName=r.get('filterName'), action=r.get('action'), ipMask=r.get('ipMask'),
                 target=r.get('target') or 'all') for r in rules or []]


def desired_tags(current_tags, desired):
    if desired.tags is None:
        return dict(current_tags)
    if desired.append_tags:
        merged = dict(current_tags)
        merged.update(desired.tags)
        return merged
    return dict(desired.tags)


def changed_properties(raw, desired):
    """Names (option names) of the mutable properties whose desired value differs from the reading."""
    props = properties_of(raw)
    sku = raw.get('sku') or {}
    changes = []
    if desired.capacity is not None and sku.get('capacity') != desired.capacity:
        changes.append('capacity')
    for option, key in (('allocation_policy', 'allocationPolicy'), ('public_network_access', 'publicNetworkAccess')):
        wanted = getattr(desired, option)
        if wanted is not None and (props.get(key) or '').lower() != wanted.lower():
            changes.append(option)
    if desired.ip_filter_rules is not None and _normalized_rules(props.get('ipFilterRules')) != desired.ip_filter_rules:
        changes.append('ip_filter_rules')
    if desired.linked_hubs is not None and linked_hub_changes(props.get('iotHubs') or [], desired.linked_hubs)[0]:
        changes.append('linked_hubs')
    if desired_tags(raw.get('tags') or {}, desired) != dict(raw.get('tags') or {}):
        changes.append('tags')
    return changes


MIGRATION_HINT = ('To get there, create a new DPS instance with the value you want, link the same IoT hubs to it, '
                  'move the enrollments, and re-point devices to its ID scope (see docs/min_tls_version.md). '
                  'Nothing was changed.')


def immutable_conflicts(raw, desired):
    """(option, current, requested) for each property fixed at creation that the task asks to change."""
    props = properties_of(raw)
    conflicts = []
    if desired.min_tls_version is not None and props.get('minTlsVersion') != desired.min_tls_version:
        conflicts.append(('min_tls_version', props.get('minTlsVersion'), desired.min_tls_version))
    if desired.data_residency is not None and bool(props.get('enableDataResidency')) != desired.data_residency:
        conflicts.append(('data_residency', bool(props.get('enableDataResidency')), desired.data_residency))
    if desired.location is not None and normalize_location(raw.get('location')) != normalize_location(
            desired.location):
        conflicts.append(('location', raw.get('location'), desired.location))
    return conflicts


def refuse_immutable_change(name, conflicts):
    parts = []
    for option, current, requested in conflicts:
        if option == 'min_tls_version' and current is None:
            current_text = 'none (it was created without minTlsVersion)'
        else:
            current_text = repr(current)
        parts.append('%s is %s and the task asks for %r' % (option, current_text, requested))
    raise DpsTlsError(
        'DPS instance %s: %s. %s cannot change after creation. %s' % (
            name, '; '.join(parts), ' and '.join(c[0] for c in conflicts), MIGRATION_HINT),
        immutable_conflicts=[dict(option=o, current=c, requested=r) for o, c, r in conflicts])


# --------------------------------------------------------------------------------------------------------- bodies

def _apply_mutable(properties, desired, current_hubs=None):
    """Sets the mutable properties the task gives; the ones it leaves out stay as they are.

    current_hubs: the iotHubs entries read from the service, so that a hub's settings the task leaves out are sent
    back as they are (a PUT replaces the whole list).
    """
    if desired.allocation_policy is not None:
        properties['allocationPolicy'] = desired.allocation_policy
    if desired.public_network_access is not None:
        properties['publicNetworkAccess'] = desired.public_network_access
    if desired.ip_filter_rules is not None:
        properties['ipFilterRules'] = copy.deepcopy(desired.ip_filter_rules)
    if desired.linked_hubs is not None:
        read = dict((hub_host(entry), entry) for entry in current_hubs or [])
        properties['iotHubs'] = [hub.body(read.get(hub.host_name.lower())) for hub in desired.linked_hubs]


def create_body(desired):
    """The PUT body that creates the instance; the only place minTlsVersion is chosen."""
    properties = dict(minTlsVersion=desired.min_tls_version or DEFAULT_MIN_TLS_VERSION)
    _apply_mutable(properties, desired)
    if desired.data_residency is not None:
        properties['enableDataResidency'] = desired.data_residency
    return dict(location=desired.location, sku=dict(name=desired.sku, capacity=desired.capacity or 1),
                tags=dict(desired.tags or {}), properties=properties)


def update_body(raw, desired):
    """The reading with the task's values merged in and read-only fields dropped: what a PUT keeps unchanged.

    A PUT replaces the resource, so minTlsVersion and enableDataResidency go back exactly as they were read
    (or stay absent): echoing them is how they are kept, never how they are changed.
    """
    body = copy.deepcopy(raw)
    for key in READ_ONLY_FIELDS:
        body.pop(key, None)
    properties = body.setdefault('properties', {})
    for key in READ_ONLY_PROPERTIES:
        properties.pop(key, None)
    for hub in properties.get('iotHubs') or []:
        hub.pop('name', None)
    if desired.capacity is not None:
        body.setdefault('sku', {})['capacity'] = desired.capacity
    _apply_mutable(properties, desired, properties_of(raw).get('iotHubs'))
    body['tags'] = desired_tags(raw.get('tags') or {}, desired)
    return body


def ensure_instance(api, desired, check_mode=False, diff=False):
    """read -> compare -> (check mode stops) -> apply -> read back. Returns the module result."""
    with api.writes.changed_on_failure():
        current = api.get(desired.resource_group, desired.name)
        if not is_settled(current) and desired.wait:
            # An earlier run (or someone else) started an operation: compare with its outcome, and do not collide.
            current = api.wait_until_settled(desired.resource_group, desired.name)
        if desired.state == 'absent':
            return _ensure_absent(api, desired, current, check_mode, diff)
        if current is None:
            return _create(api, desired, check_mode, diff)
        return _update(api, desired, current, check_mode, diff)


def _result(changed, dps, diff, before, after):
    result = dict(changed=changed, dps=dps)
    if diff:
        result['diff'] = dict(before=before, after=after)
    return result


def is_deleting(raw):
    props = properties_of(raw)
    return 'Deleting' in (props.get('provisioningState'), props.get('state'))


def _ensure_absent(api, desired, current, check_mode, diff):
    if current is None:
        return _result(False, {}, diff, {}, {})
    if is_deleting(current):
        # An earlier delete is still running (wait: false): the instance is on its way to absent. A second DELETE
        # would only collide with it (409), and this run asks for nothing new.
        return _result(False, {}, diff, {}, {})
    before = diff_view(current, desired.resource_group)
    if not check_mode:
        api.delete(desired.resource_group, desired.name, desired.wait)
    return _result(True, {}, diff, before, {})


def _create(api, desired, check_mode, diff):
    if not desired.location:
        raise InvalidInputError('location', 'required to create DPS instance %s (it does not exist yet)' % (
            desired.name))
    body = create_body(desired)
    after = diff_view(dict(body, name=desired.name), desired.resource_group)
    if check_mode:
        return _result(True, instance_view(dict(body, name=desired.name), desired.resource_group), diff, {}, after)
    created = api.put(resource_group=desired.resource_group, name=desired.name, body=body, wait=desired.wait,
                      operation='creating DPS instance %s' % desired.name)
    return _result(True, instance_view(created or dict(body, name=desired.name), desired.resource_group),
                   diff, {}, after)


def _hub_marks(current, desired):
    """How each linked hub's key shows in the diff: changed when the task sends a new one."""
    if desired.linked_hubs is None:
        return {}
    secret_changed = linked_hub_changes(properties_of(current).get('iotHubs') or [], desired.linked_hubs)[1]
    return dict((h.lower(), SECRET_CHANGED_MARK) for h in secret_changed)


def _send_update(api, desired, body, changes, repair):
    """The one write an update needs: a tags PATCH when only tags change, else a PUT of the merged reading (which
    also repairs an instance whose last operation failed)."""
    if changes == ['tags'] and not repair:
        return api.update_tags(desired.resource_group, desired.name, body['tags'], desired.wait)
    operation = ('updating DPS instance %s (%s)' % (desired.name, ', '.join(changes)) if changes else
                 'repairing DPS instance %s (its last operation failed)' % desired.name)
    return api.put(resource_group=desired.resource_group, name=desired.name, body=body, wait=desired.wait,
                   operation=operation)


def _update(api, desired, current, check_mode, diff):
    conflicts = immutable_conflicts(current, desired)
    if conflicts:
        refuse_immutable_change(desired.name, conflicts)
    changes = changed_properties(current, desired)
    before = diff_view(current, desired.resource_group)
    # An instance whose last operation failed (a create that ended ActivationFailed) is not in the desired state even
    # when its settings match: sending them again is how ARM repairs it.
    repair = properties_of(current).get('provisioningState') == 'Failed'
    if not changes and not repair:
        return _result(False, instance_view(current, desired.resource_group), diff, before, before)
    body = update_body(current, desired)
    # The body lacks the read-only fields (id, idScope, host names): the after view takes them from the reading.
    predicted = dict(current, sku=body.get('sku'), tags=body['tags'],
                     properties=dict(properties_of(current), **properties_of(body)))
    after = diff_view(predicted, desired.resource_group, _hub_marks(current, desired))
    if not check_mode:
        predicted = _send_update(api, desired, body=body, changes=changes, repair=repair) or predicted
    result = _result(True, instance_view(predicted, desired.resource_group), diff, before, after)
    result['changed_properties'] = changes
    return result


def validate_info_query(resource_group=None, name=None):
    """The values an instance read puts into the request path follow the Azure naming rules."""
    if resource_group is not None:
        names.RESOURCE_GROUP.require('resource_group', resource_group)
    if name is not None:
        if resource_group is None:
            raise InvalidInputError('resource_group', 'required when name is set')
        validate_name(name)


def instance_info(api, resource_group=None, name=None):
    """dps_instances: one instance, those of a resource group, or all in the subscription."""
    validate_info_query(resource_group, name)
    if name:
        raw = api.get(resource_group, name)
        readings = [raw] if raw else []
    else:
        readings = api.list(resource_group)
    return dict(changed=False, dps_instances=[instance_view(r, resource_group) for r in readings])
