# Copyright: iotops.dps_tls contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The desired state of a DPS instance, from the task's options: the argument spec, its choice lists, validation.

The choice lists below are the one source for the argument spec, the validation and (checked by a unit test) the
module documentation.
"""

from __future__ import annotations

import ipaddress

from ansible_collections.iotops.dps_tls.plugins.module_utils._azure import names
from ansible_collections.iotops.dps_tls.plugins.module_utils._azure.module import TIMEOUT_OPTION
from ansible_collections.iotops.dps_tls.plugins.module_utils._common.errors import InvalidInputError

SUPPORTED_MIN_TLS_VERSIONS = ('1.2',)
DEFAULT_MIN_TLS_VERSION = '1.2'
STATES = ('present', 'absent')
SKUS = ('S1',)
CAPACITY_RANGE = names.CAPACITY_RANGE
ALLOCATION_POLICIES = ('Hashed', 'GeoLatency', 'Static')
PUBLIC_NETWORK_ACCESS = ('Enabled', 'Disabled')
IP_FILTER_ACTIONS = ('Accept', 'Reject')
IP_FILTER_TARGETS = ('all', 'serviceApi', 'deviceApi')
CONNECTION_STRING_KEYS = ('HostName', 'SharedAccessKeyName', 'SharedAccessKey')

DPS_INSTANCE_ARGUMENT_SPEC = dict(
    name=dict(type='str', required=True),
    resource_group=dict(type='str', required=True),
    location=dict(type='str'),
    sku=dict(type='str', default=SKUS[0], choices=list(SKUS)),
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
    state=dict(type='str', default=STATES[0], choices=list(STATES)),
    wait=dict(type='bool', default=True),
    timeout=TIMEOUT_OPTION,
)


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


def validate_name(name, option='name'):
    """The instance's name follows the DPS naming rules (it goes into the request path)."""
    names.DPS_NAME.require(option, name)


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

    def __init__(self, entry):
        self.connection_string = entry['connection_string']
        self.fields = parse_connection_string(self.connection_string)
        self.host_name = self.fields.get('HostName', '')
        self.location = entry['location']
        self.allocation_weight = entry.get('allocation_weight')
        self.apply_allocation_policy = entry.get('apply_allocation_policy')

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


def _validate_linked_hub(option, entry):
    hub = LinkedHub(entry)
    missing = [k for k in CONNECTION_STRING_KEYS if not hub.fields.get(k)]
    if missing:
        # Never echo the connection string: it is a secret.
        raise InvalidInputError(option + '.connection_string', 'must be an IoT hub connection string with %s '
                                '(missing: %s)' % (', '.join(CONNECTION_STRING_KEYS), ', '.join(missing)))
    if not names.HOST_NAME.accepts(hub.host_name):
        raise InvalidInputError(option + '.connection_string', names.HOST_NAME.explanation)
    if hub.allocation_weight is not None:
        names.require_in_range(option + '.allocation_weight', hub.allocation_weight, names.ALLOCATION_WEIGHT_RANGE)
    return hub


def _validate_linked_hubs(entries):
    hubs, seen = [], set()
    for index, entry in enumerate(entries):
        option = 'linked_hubs[%d]' % index
        hub = _validate_linked_hub(option, entry)
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
        _validate_ip_mask('ip_filter_rules[%d].ip_mask' % index, entry['ip_mask'])
        rules.append(dict(filterName=entry['filter_name'], action=entry['action'], ipMask=entry['ip_mask'],
                          target=entry.get('target') or 'all'))
    return rules


class DesiredInstance:
    """The task's options, validated and normalized. None means "not managed by this task".

    The argument spec already guarantees required options, types and choices; this checks what it cannot.
    """

    def __init__(self, params):
        self.name = params['name']
        validate_name(self.name)
        self.resource_group = names.RESOURCE_GROUP.require('resource_group', params['resource_group'])
        self.state = params['state']
        self.wait = params['wait']
        self.location = params.get('location') or None
        self.sku = params['sku']
        self.capacity = params.get('capacity')
        if self.capacity is not None:
            names.require_in_range('capacity', self.capacity, CAPACITY_RANGE, ' units')
        self.min_tls_version = normalize_min_tls_version(params.get('min_tls_version'))
        self.allocation_policy = params.get('allocation_policy')
        self.public_network_access = params.get('public_network_access')
        rules = params.get('ip_filter_rules')
        self.ip_filter_rules = None if rules is None else _validate_ip_filter_rules(rules)
        hubs = params.get('linked_hubs')
        self.linked_hubs = None if hubs is None else _validate_linked_hubs(hubs)
        self.data_residency = params.get('data_residency')
        self.tags = names.normalize_tags(params.get('tags'))
        self.append_tags = params['append_tags']
        names.require_in_range('timeout', params['timeout'], names.TIMEOUT_RANGE, ' seconds')
