# Copyright: iotops.dps_tls contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The desired state of a DPS instance: validate, normalize, compare, guard the immutable properties, apply.

minTlsVersion is in no REST spec or SDK model (FACTS 1): it is sent as properties.minTlsVersion in a plain dict
body at creation and never again. Bodies and readings are plain dicts with the service's camelCase names; what the
user sees (results, diffs) uses snake_case names and never carries a connection string.
"""

from __future__ import annotations

import contextlib
import copy
import ipaddress
import re

from ansible_collections.iotops.dps_tls.plugins.module_utils._azure.errors import is_missing_resource
from ansible_collections.iotops.dps_tls.plugins.module_utils._common.errors import DpsTlsError, InvalidInputError

SUPPORTED_MIN_TLS_VERSIONS = ('1.2',)
DEFAULT_MIN_TLS_VERSION = '1.2'
SKUS = ('S1',)
CAPACITY_RANGE = (1, 200)
ALLOCATION_POLICIES = ('Hashed', 'GeoLatency', 'Static')
PUBLIC_NETWORK_ACCESS = ('Enabled', 'Disabled')
IP_FILTER_ACTIONS = ('Accept', 'Reject')
IP_FILTER_TARGETS = ('all', 'serviceApi', 'deviceApi')
CONNECTION_STRING_KEYS = ('HostName', 'SharedAccessKeyName', 'SharedAccessKey')

# Read from the service but never sent back in a PUT (FACTS 1).
READ_ONLY_FIELDS = ('id', 'name', 'type', 'etag', 'systemData', 'resourcegroup', 'subscriptionid')
READ_ONLY_PROPERTIES = ('state', 'provisioningState', 'serviceOperationsHostName', 'deviceProvisioningHostName',
                        'idScope')

# provisioningState values after which no operation runs on the instance.
SETTLED_PROVISIONING_STATES = ('Succeeded', 'Failed', 'Canceled')

# How a linked hub's key appears in the diff: never the key itself.
SECRET_MARK = '(secret)'
SECRET_CHANGED_MARK = '(secret, changed)'

NAME_PATTERN = re.compile(r'^[A-Za-z0-9](?:[A-Za-z0-9-]{1,62})[A-Za-z0-9]$')

DPS_INSTANCE_ARGUMENT_SPEC = dict(
    name=dict(type='str', required=True),
    resource_group=dict(type='str', required=True),
    location=dict(type='str'),
    sku=dict(type='str', default='S1', choices=list(SKUS)),
    capacity=dict(type='int'),
    min_tls_version=dict(type='raw'),
    allocation_policy=dict(type='str', choices=list(ALLOCATION_POLICIES)),
    public_network_access=dict(type='str', choices=list(PUBLIC_NETWORK_ACCESS)),
    ip_filter_rules=dict(type='list', elements='dict', options=dict(
        filter_name=dict(type='str', required=True),
        action=dict(type='str', required=True, choices=list(IP_FILTER_ACTIONS)),
        ip_mask=dict(type='str', required=True),
        target=dict(type='str', default='all', choices=list(IP_FILTER_TARGETS)),
    )),
    linked_hubs=dict(type='list', elements='dict', options=dict(
        connection_string=dict(type='str', required=True, no_log=True),
        location=dict(type='str', required=True),
        allocation_weight=dict(type='int'),
        apply_allocation_policy=dict(type='bool'),
    )),
    data_residency=dict(type='bool'),
    tags=dict(type='dict'),
    append_tags=dict(type='bool', default=True),
    state=dict(type='str', default='present', choices=['present', 'absent']),
    wait=dict(type='bool', default=True),
    timeout=dict(type='int', default=600),
)


# ---------------------------------------------------------------------------------------------------------- input

def normalize_min_tls_version(value):
    """'1.2' from '1.2' or the YAML float 1.2; InvalidInputError for anything DPS does not support."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        raise InvalidInputError('min_tls_version', 'must be a version string such as "1.2", got %r' % (value,))
    text = repr(value) if isinstance(value, float) else str(value).strip()
    if text in SUPPORTED_MIN_TLS_VERSIONS:
        return text
    raise InvalidInputError('min_tls_version', 'DPS supports only %s as minimum TLS version (write "1.2"); got %r' % (
        ', '.join('"%s"' % v for v in SUPPORTED_MIN_TLS_VERSIONS), text))


def validate_name(name):
    if not isinstance(name, str) or not NAME_PATTERN.match(name) or name.isdigit():
        raise InvalidInputError('name', '%r is not a valid DPS instance name: use 3-64 letters, digits and hyphens, '
                                        'start and end with a letter or digit, and not only digits' % (name,))


def parse_connection_string(text):
    """Key -> value of an IoT Hub connection string (keys matched case-insensitively, canonical case kept)."""
    fields = {}
    for part in (text or '').split(';'):
        if '=' in part:
            key, value = part.split('=', 1)
            canonical = next((k for k in CONNECTION_STRING_KEYS if k.lower() == key.strip().lower()), key.strip())
            fields[canonical] = value.strip()
    return fields


def normalize_location(location):
    return (location or '').replace(' ', '').lower()


class LinkedHub:
    """A linked IoT hub as the user wants it; its connection string is a secret and stays inside this object."""

    def __init__(self, connection_string, location, allocation_weight=None, apply_allocation_policy=None):
        self.connection_string = connection_string
        self.fields = parse_connection_string(connection_string)
        self.host_name = self.fields.get('HostName', '')
        self.location = location
        self.allocation_weight = allocation_weight
        self.apply_allocation_policy = apply_allocation_policy

    def body(self, current=None):
        """The iotHubs entry to send; a setting the task leaves out keeps the value read for this hub (current)."""
        entry = dict(connectionString=self.connection_string, location=self.location)
        current = current or {}
        for key, value in (('allocationWeight', self.allocation_weight),
                           ('applyAllocationPolicy', self.apply_allocation_policy)):
            if value is None:
                value = current.get(key)
            if value is not None:
                entry[key] = value
        return entry


def _validate_linked_hubs(entries):
    hubs, seen = [], set()
    for index, entry in enumerate(entries):
        option = 'linked_hubs[%d]' % index
        if not entry.get('connection_string'):
            raise InvalidInputError(option + '.connection_string', 'required')
        if not entry.get('location'):
            raise InvalidInputError(option + '.location', 'required (the IoT hub\'s Azure region)')
        hub = LinkedHub(entry['connection_string'], entry['location'], entry.get('allocation_weight'),
                        entry.get('apply_allocation_policy'))
        missing = [k for k in CONNECTION_STRING_KEYS if not hub.fields.get(k)]
        if missing:
            # Never echo the connection string: it is a secret.
            raise InvalidInputError(option + '.connection_string', 'must be an IoT hub connection string with %s '
                                    '(missing: %s)' % (', '.join(CONNECTION_STRING_KEYS), ', '.join(missing)))
        if hub.allocation_weight is not None and hub.allocation_weight < 0:
            raise InvalidInputError(option + '.allocation_weight', 'must be 0 or more, got %d' % hub.allocation_weight)
        if hub.host_name.lower() in seen:
            raise InvalidInputError(option, 'IoT hub %s is listed twice' % hub.host_name)
        seen.add(hub.host_name.lower())
        hubs.append(hub)
    return hubs


def _validate_ip_mask(option, value):
    """DPS IP filter rules take one IPv4 address or an IPv4 range in CIDR notation (192.168.100.0/22)."""
    text = str(value).strip()
    try:
        network = ipaddress.ip_network(text, strict=False)
    except ValueError:
        raise InvalidInputError(option, 'must be an IPv4 address or CIDR range such as 192.168.100.0/22, got %r' % (
            text,))
    if network.version != 4:
        raise InvalidInputError(option, 'DPS IP filter rules take IPv4 addresses and ranges only, got %r' % (text,))


def _validate_ip_filter_rules(entries):
    rules = []
    for index, entry in enumerate(entries):
        option = 'ip_filter_rules[%d]' % index
        for key in ('filter_name', 'action', 'ip_mask'):
            if not entry.get(key):
                raise InvalidInputError('%s.%s' % (option, key), 'required')
        if entry['action'] not in IP_FILTER_ACTIONS:
            raise InvalidInputError(option + '.action', 'must be Accept or Reject, got %r' % entry['action'])
        _validate_ip_mask(option + '.ip_mask', entry['ip_mask'])
        target = entry.get('target') or 'all'
        if target not in IP_FILTER_TARGETS:
            raise InvalidInputError(option + '.target', 'must be one of %s, got %r' % (
                ', '.join(IP_FILTER_TARGETS), target))
        rules.append(dict(filterName=entry['filter_name'], action=entry['action'], ipMask=entry['ip_mask'],
                          target=target))
    return rules


class DesiredInstance:
    """The task's options, validated and normalized. None means "not managed by this task"."""

    def __init__(self, params):
        self.name = params['name']
        validate_name(self.name)
        self.resource_group = params.get('resource_group')
        if not self.resource_group:
            raise InvalidInputError('resource_group', 'required')
        self.state = params.get('state') or 'present'
        self.wait = params.get('wait', True) is not False
        self.location = params.get('location') or None
        sku = params.get('sku') or 'S1'
        if sku not in SKUS:
            raise InvalidInputError('sku', 'DPS offers only the S1 SKU, got %r' % sku)
        self.sku = sku
        self.capacity = params.get('capacity')
        if self.capacity is not None and not CAPACITY_RANGE[0] <= self.capacity <= CAPACITY_RANGE[1]:
            raise InvalidInputError('capacity', 'must be between %d and %d units, got %d' % (
                CAPACITY_RANGE + (self.capacity,)))
        self.min_tls_version = normalize_min_tls_version(params.get('min_tls_version'))
        self.allocation_policy = params.get('allocation_policy')
        if self.allocation_policy is not None and self.allocation_policy not in ALLOCATION_POLICIES:
            raise InvalidInputError('allocation_policy', 'must be one of %s' % ', '.join(ALLOCATION_POLICIES))
        self.public_network_access = params.get('public_network_access')
        if self.public_network_access is not None and self.public_network_access not in PUBLIC_NETWORK_ACCESS:
            raise InvalidInputError('public_network_access', 'must be Enabled or Disabled')
        rules = params.get('ip_filter_rules')
        self.ip_filter_rules = None if rules is None else _validate_ip_filter_rules(rules)
        hubs = params.get('linked_hubs')
        self.linked_hubs = None if hubs is None else _validate_linked_hubs(hubs)
        self.data_residency = params.get('data_residency')
        tags = params.get('tags')
        self.tags = None if tags is None else dict((str(k), '' if v is None else str(v)) for k, v in tags.items())
        self.append_tags = params.get('append_tags', True) is not False
        timeout = params.get('timeout')
        if timeout is not None and timeout <= 0:
            raise InvalidInputError('timeout', 'must be a positive number of seconds, got %s' % timeout)


# ------------------------------------------------------------------------------------------------ reading & views

def _properties(raw):
    return (raw or {}).get('properties') or {}


def resource_group_of(resource_id):
    match = re.search(r'/resourceGroups/([^/]+)/', resource_id or '', re.IGNORECASE)
    return match.group(1) if match else None


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
    props = _properties(raw)
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
    props = _properties(raw)
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
    props = _properties(raw)
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
        read = dict((_hub_host(entry), entry) for entry in current_hubs or [])
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
    _apply_mutable(properties, desired, _properties(raw).get('iotHubs'))
    body['tags'] = desired_tags(raw.get('tags') or {}, desired)
    return body


def _diff_view(body, resource_group, hub_marks=None):
    view = instance_view(body, resource_group)
    for key in ('etag', 'state', 'provisioning_state'):
        view.pop(key, None)
    hubs = (_properties(body).get('iotHubs') or [])
    marks = hub_marks or {}
    view['linked_hubs'] = [_hub_view(h, marks.get(_hub_host(h), SECRET_MARK)) for h in hubs]
    return view


def _hub_host(entry):
    return (parse_connection_string(entry.get('connectionString')).get('HostName') or entry.get('name') or '').lower()


# ------------------------------------------------------------------------------------------------------ the steps

class DpsInstances:
    """The DPS instance operations of an IotDpsClient, with errors mapped and waits bounded by the waiter."""

    def __init__(self, client, waiter, azure_errors):
        self.ops = client.iot_dps_resource
        self.waiter = waiter
        self.azure_errors = azure_errors

    def get(self, resource_group, name):
        """The instance as a plain dict, or None when it does not exist (and only then)."""
        from azure.core.exceptions import ResourceNotFoundError
        with self.azure_errors('reading DPS instance %s' % name):
            try:
                return self.ops.get(provisioning_service_name=name, resource_group_name=resource_group).as_dict()
            except ResourceNotFoundError as exc:
                if not is_missing_resource(exc):
                    raise
                return None

    def wait_until_settled(self, resource_group, name):
        return self.waiter.poll(lambda: self.get(resource_group, name), is_settled,
                                'waiting for the running operation on DPS instance %s' % name)

    def list(self, resource_group=None):
        with self.azure_errors('listing DPS instances in %s' % (
                'resource group %s' % resource_group if resource_group else 'the subscription')):
            if resource_group:
                pages = self.ops.list_by_resource_group(resource_group_name=resource_group)
            else:
                pages = self.ops.list_by_subscription()
            return [item.as_dict() for item in pages]

    def _finish(self, poller, operation, wait):
        if not wait:
            return poller.polling_method().resource()
        return self.waiter.result(poller, operation)

    def put(self, resource_group, name, body, wait, operation):
        with self.azure_errors(operation):
            poller = self.ops.begin_create_or_update(
                resource_group_name=resource_group, provisioning_service_name=name, iot_dps_description=body,
                polling=bool(wait))
        with changed_on_failure(), self.azure_errors(operation):
            result = self._finish(poller, operation, wait)
        return result.as_dict() if result is not None else None

    def update_tags(self, resource_group, name, tags, wait):
        operation = 'updating the tags of DPS instance %s' % name
        with self.azure_errors(operation):
            poller = self.ops.begin_update(resource_group_name=resource_group, provisioning_service_name=name,
                                           provisioning_service_tags=dict(tags=tags), polling=bool(wait))
        with changed_on_failure(), self.azure_errors(operation):
            result = self._finish(poller, operation, wait)
        return result.as_dict() if result is not None else None

    def delete(self, resource_group, name, wait):
        operation = 'deleting DPS instance %s' % name
        with self.azure_errors(operation):
            poller = self.ops.begin_delete(provisioning_service_name=name, resource_group_name=resource_group,
                                           polling=bool(wait))
        if wait:
            with changed_on_failure(), self.azure_errors(operation):
                self.waiter.result(poller, operation)


@contextlib.contextmanager
def changed_on_failure():
    """Around the wait for a write Azure accepted: a failure there (a timeout, an operation that ended Failed)
    still changed the instance."""
    try:
        yield
    except DpsTlsError as exc:
        exc.details['changed'] = True
        raise


def is_settled(raw):
    """True when no operation runs on the instance (or it is gone)."""
    return raw is None or _properties(raw).get('provisioningState') in (None,) + SETTLED_PROVISIONING_STATES


def ensure_instance(api, desired, check_mode=False, diff=False):
    """read -> compare -> (check mode stops) -> apply -> read back. Returns the module result."""
    current = api.get(desired.resource_group, desired.name)
    if not is_settled(current) and desired.wait:
        # An earlier run (or someone else) started an operation: compare with its outcome, and do not collide with it.
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
    props = _properties(raw)
    return 'Deleting' in (props.get('provisioningState'), props.get('state'))


def _ensure_absent(api, desired, current, check_mode, diff):
    if current is None:
        return _result(False, {}, diff, {}, {})
    if is_deleting(current):
        # An earlier delete is still running (wait: false): the instance is on its way to absent. A second DELETE
        # would only collide with it (409), and this run asks for nothing new.
        return _result(False, {}, diff, {}, {})
    before = _diff_view(current, desired.resource_group)
    if not check_mode:
        api.delete(desired.resource_group, desired.name, desired.wait)
    return _result(True, {}, diff, before, {})


def _create(api, desired, check_mode, diff):
    if not desired.location:
        raise InvalidInputError('location', 'required to create DPS instance %s (it does not exist yet)' % (
            desired.name))
    body = create_body(desired)
    after = _diff_view(dict(body, name=desired.name), desired.resource_group)
    if check_mode:
        return _result(True, instance_view(dict(body, name=desired.name), desired.resource_group), diff, {}, after)
    created = api.put(desired.resource_group, desired.name, body, desired.wait,
                      'creating DPS instance %s' % desired.name)
    return _result(True, instance_view(created or dict(body, name=desired.name), desired.resource_group),
                   diff, {}, after)


def _update(api, desired, current, check_mode, diff):
    conflicts = immutable_conflicts(current, desired)
    if conflicts:
        refuse_immutable_change(desired.name, conflicts)
    changes = changed_properties(current, desired)
    # An instance whose last operation failed (a create that ended ActivationFailed) is not in the desired state even
    # when its settings match: sending them again is how ARM repairs it.
    repair = _properties(current).get('provisioningState') == 'Failed'
    if not changes and not repair:
        view = instance_view(current, desired.resource_group)
        return _result(False, view, diff, _diff_view(current, desired.resource_group),
                       _diff_view(current, desired.resource_group))
    body = update_body(current, desired)
    marks = {}
    if desired.linked_hubs is not None:
        secret_changed = linked_hub_changes(_properties(current).get('iotHubs') or [], desired.linked_hubs)[1]
        marks = dict((h.lower(), SECRET_CHANGED_MARK) for h in secret_changed)
    before = _diff_view(current, desired.resource_group)
    # The body lacks the read-only fields (id, idScope, host names): the after view takes them from the reading.
    predicted = dict(current, sku=body.get('sku'), tags=body['tags'],
                     properties=dict(_properties(current), **_properties(body)))
    after = _diff_view(predicted, desired.resource_group, marks)
    if not check_mode:
        if changes == ['tags'] and not repair:
            predicted = api.update_tags(desired.resource_group, desired.name, body['tags'], desired.wait) or predicted
        else:
            operation = ('updating DPS instance %s (%s)' % (desired.name, ', '.join(changes)) if changes else
                         'repairing DPS instance %s (its last operation failed)' % desired.name)
            predicted = api.put(desired.resource_group, desired.name, body, desired.wait, operation) or predicted
    result = _result(True, instance_view(predicted, desired.resource_group), diff, before, after)
    result['changed_properties'] = changes
    return result


def validate_info_query(resource_group=None, name=None):
    if name:
        if not resource_group:
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
