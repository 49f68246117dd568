# Copyright: iotops.dps_tls contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""X.509 enrollments (groups and individual) as the user states them, as DPS returns them, and their difference.

Everything here is offline: options are checked and turned into a service API body before any call, and a body
DPS returned is turned into the user's view (no certificates' PEM, no keys) for results and diffs.
"""

from __future__ import annotations

from ansible_collections.iotops.dps_tls.plugins.module_utils._azure import names
from ansible_collections.iotops.dps_tls.plugins.module_utils._common.errors import InvalidInputError
from ansible_collections.iotops.dps_tls.plugins.module_utils._common.files import read_regular_file
from ansible_collections.iotops.dps_tls.plugins.module_utils._x509.certificate import (
    common_name, fingerprints, load_pem_certificate, not_after, pem_of)
from ansible_collections.iotops.dps_tls.plugins.module_utils._x509.pem import normalize_sha256

ALLOCATION_POLICIES = {'hashed': 'hashed', 'geolatency': 'geoLatency', 'static': 'static'}
# Fields the service sets; never compared, never sent back.
SERVICE_FIELDS = ('etag', 'createdDateTimeUtc', 'lastUpdatedDateTimeUtc', 'registrationState')

COMMON_SPEC = dict(
    name=dict(type='str', required=True),
    dps_name=dict(type='str', required=True),
    resource_group=dict(type='str', required=True),
    provisioning_status=dict(type='str', choices=['enabled', 'disabled']),
    allocation_policy=dict(type='str', choices=['hashed', 'geoLatency', 'static']),
    iot_hubs=dict(type='list', elements='str'),
    reprovision_policy=dict(type='dict', options=dict(
        update_hub_assignment=dict(type='bool', default=True),
        migrate_device_data=dict(type='bool', default=True))),
    initial_twin=dict(type='dict'),
    iot_edge=dict(type='bool'),
    state=dict(type='str', default='present', choices=['present', 'absent']),
    auth_mode=dict(type='str', default='entra', choices=['entra', 'shared_access_key']),
    service_endpoint=dict(type='str'),
    timeout=dict(type='int', default=120),
)
GROUP_SPEC = dict(COMMON_SPEC, ca_certificate=dict(type='str'), signing_certificate=dict(type='str'))
INDIVIDUAL_SPEC = dict(COMMON_SPEC, certificate=dict(type='str'), certificate_path=dict(type='path'),
                       device_id=dict(type='str'))
INFO_SPEC = dict(name=dict(type='str'), dps_name=dict(type='str', required=True),
                 resource_group=dict(type='str', required=True),
                 auth_mode=dict(type='str', default='entra', choices=['entra', 'shared_access_key']),
                 service_endpoint=dict(type='str'), timeout=dict(type='int', default=120))
GROUP_INFO_SPEC = dict(INFO_SPEC, registrations=dict(type='bool', default=False))


def check_id(option, value):
    """An id that goes into the service API's URL, matched in full; never '.' or '..'."""
    return names.ENROLLMENT_ID.require(option, value)


def check_service_endpoint(value, option='service_endpoint'):
    if value and not value.lower().startswith('https://'):
        raise InvalidInputError(option, 'must be an https:// URL, got %r' % value)
    return value


def check_location(params):
    """dps_name, resource_group (they go into an ARM URL), timeout and service_endpoint, before any request."""
    check_service_endpoint(params.get('service_endpoint'))
    if params.get('timeout') is not None:
        names.require_in_range('timeout', params['timeout'], names.TIMEOUT_RANGE, ' seconds')
    names.DPS_NAME.require('dps_name', params['dps_name'])
    names.RESOURCE_GROUP.require('resource_group', params.get('resource_group'))


def load_certificate(option, text):
    """(certificate, PEM text) of the one certificate in text; refused, naming the option, when text holds a
    private key, no certificate, several, or DER."""
    cert = load_pem_certificate(option, text)
    return cert, pem_of(cert)


def certificate_facts(cert):
    """The user's view of a certificate: what DPS's info block carries."""
    return dict(subject=cert.subject.rfc4514_string(), sha256=fingerprints(cert)[1],
                not_after=not_after(cert).isoformat())


def _hubs(params):
    hubs = params.get('iot_hubs')
    for hub in hubs or []:
        if not names.HOST_NAME.accepts(hub):
            raise InvalidInputError('iot_hubs', 'items are IoT hub host names such as fleet-hub.azure-devices.net, '
                                                'got %r' % (hub,))
    if params.get('allocation_policy') == 'static' and (hubs is None or len(hubs) != 1):
        raise InvalidInputError('iot_hubs', 'allocation_policy static needs exactly one hub in iot_hubs')
    return hubs


def _initial_twin(params):
    twin = params.get('initial_twin')
    if twin is None:
        return None
    unknown = set(twin) - {'tags', 'properties'}
    desired = (twin.get('properties') or {})
    if unknown or not isinstance(desired, dict) or set(desired) - {'desired'}:
        raise InvalidInputError('initial_twin', 'takes tags and properties.desired only (the device twin DPS '
                                                'writes at first registration)')
    return {'tags': twin.get('tags') or {}, 'properties': {'desired': desired.get('desired') or {}}}


class DesiredEnrollment:
    """The task's options, checked; `fields` holds only what the user set (the rest is left as DPS has it)."""

    def __init__(self, params, individual):
        self.individual = individual
        self.name = check_id('name', params.get('name'))
        check_location(params)
        self.dps_name, self.resource_group = params['dps_name'], params['resource_group']
        self.state = params.get('state') or 'present'
        self.ca_certificate = None
        self.certificate = None
        self.fields = {}
        if self.state == 'absent':
            return
        self.attestation = self._individual(params) if individual else self._group(params)
        self.fields = self._fields(params)

    def _group(self, params):
        if params.get('ca_certificate') and params.get('signing_certificate'):
            raise InvalidInputError('ca_certificate', 'give ca_certificate or signing_certificate, not both')
        if params.get('ca_certificate'):
            name = params['ca_certificate']
            if not names.CERTIFICATE_NAME.accepts(name):
                raise InvalidInputError('ca_certificate', 'must be a certificate name on the DPS instance (%s), got '
                                                          '%r' % (names.CERTIFICATE_NAME.explanation, name))
            self.ca_certificate = name
            return {'caReferences': {'primary': name}}
        if not params.get('signing_certificate'):
            raise InvalidInputError('ca_certificate', 'an enrollment group needs ca_certificate (a verified CA '
                                                      'certificate on the instance) or signing_certificate (PEM)')
        cert, pem = load_certificate('signing_certificate', params['signing_certificate'])
        self.certificate = certificate_facts(cert)
        return {'signingCertificates': {'primary': {'certificate': pem}}}

    def _individual(self, params):
        if params.get('device_id'):
            check_id('device_id', params['device_id'])
        option, text = 'certificate', params.get('certificate')
        if params.get('certificate_path'):
            option = 'certificate_path'
            text = read_regular_file(option, params['certificate_path'])
        if not text:
            raise InvalidInputError('certificate', "an individual enrollment needs the device's certificate "
                                                   '(certificate or certificate_path)')
        cert, pem = load_certificate(option, text)
        subject_cn = common_name(cert) or 'none'
        if subject_cn.lower() != self.name.lower():
            raise InvalidInputError(option, "the certificate's subject CN (%s) must be the registration id %s: a "
                                            'device registers with its CN' % (subject_cn, self.name))
        self.certificate = certificate_facts(cert)
        return {'clientCertificates': {'primary': {'certificate': pem}}}

    def _fields(self, params):
        fields = {'attestation': {'type': 'x509', 'x509': self.attestation}}
        values = dict(provisioningStatus=params.get('provisioning_status'),
                      allocationPolicy=params.get('allocation_policy'), iotHubs=_hubs(params),
                      initialTwin=_initial_twin(params), deviceId=params.get('device_id'))
        if params.get('reprovision_policy') is not None:
            policy = params['reprovision_policy']
            values['reprovisionPolicy'] = {'updateHubAssignment': policy['update_hub_assignment'],
                                           'migrateDeviceData': policy['migrate_device_data']}
        if params.get('iot_edge') is not None:
            values['capabilities'] = {'iotEdge': params['iot_edge']}
        fields.update((k, v) for k, v in values.items() if v is not None)
        return fields

    def body(self, current):
        """The PUT body: what DPS has, with the user's fields laid over it (a PUT replaces the enrollment)."""
        body = dict((k, v) for k, v in (current or {}).items() if k not in SERVICE_FIELDS)
        body.update(self.fields)
        body['registrationId' if self.individual else 'enrollmentGroupId'] = self.name
        return body


def _strip_metadata(value):
    """A twin without the $metadata/$version DPS adds."""
    if isinstance(value, dict):
        return dict((k, _strip_metadata(v)) for k, v in value.items() if not k.startswith('$'))
    return value


def _certificate_view(pair):
    """The primary certificate of a clientCertificates/signingCertificates pair: from its info block or PEM."""
    primary = (pair or {}).get('primary') or {}
    info = primary.get('info') or {}
    if info.get('sha256Thumbprint'):
        sha256 = normalize_sha256(info['sha256Thumbprint']) or info['sha256Thumbprint'].upper()
        return dict(subject=info.get('subjectName'), sha256=sha256,
                    not_after=info.get('notAfterUtc'))
    if primary.get('certificate'):
        return certificate_facts(load_certificate('certificate', primary['certificate'])[0])
    return None


def enrollment_view(raw, individual):
    """The user's view of an enrollment DPS returned (None stays None)."""
    if raw is None:
        return None
    x509 = ((raw.get('attestation') or {}).get('x509')) or {}
    reprovision = raw.get('reprovisionPolicy') or {}
    view = dict(
        name=raw.get('registrationId' if individual else 'enrollmentGroupId'),
        provisioning_status=raw.get('provisioningStatus', 'enabled'),
        allocation_policy=raw.get('allocationPolicy'),
        iot_hubs=list(raw.get('iotHubs') or []),
        reprovision_policy=dict(update_hub_assignment=reprovision.get('updateHubAssignment', True),
                                migrate_device_data=reprovision.get('migrateDeviceData', True)),
        initial_twin=_strip_metadata(raw.get('initialTwin')),
        iot_edge=bool((raw.get('capabilities') or {}).get('iotEdge')),
        etag=raw.get('etag'),
        created=raw.get('createdDateTimeUtc'),
        updated=raw.get('lastUpdatedDateTimeUtc'),
    )
    if individual:
        view.update(device_id=raw.get('deviceId'), certificate=_certificate_view(x509.get('clientCertificates')),
                    registration_state=raw.get('registrationState'))
    else:
        refs = x509.get('caReferences') or {}
        view.update(ca_certificate=refs.get('primary'),
                    signing_certificate=_certificate_view(x509.get('signingCertificates')))
    return view


def predicted_view(desired, current):
    """What the enrollment looks like after the write (check mode's answer, and the diff's after)."""
    view = dict(current or enrollment_view({}, desired.individual))
    view['name'] = desired.name
    fields = desired.fields
    pairs = (('provisioning_status', 'provisioningStatus'), ('allocation_policy', 'allocationPolicy'),
             ('iot_hubs', 'iotHubs'), ('initial_twin', 'initialTwin'), ('device_id', 'deviceId'))
    view.update((ours, fields[theirs]) for ours, theirs in pairs if theirs in fields)
    if 'reprovisionPolicy' in fields:
        view['reprovision_policy'] = dict(update_hub_assignment=fields['reprovisionPolicy']['updateHubAssignment'],
                                          migrate_device_data=fields['reprovisionPolicy']['migrateDeviceData'])
    if 'capabilities' in fields:
        view['iot_edge'] = fields['capabilities']['iotEdge']
    if desired.individual:
        view['certificate'] = desired.certificate
    else:
        view['ca_certificate'] = desired.ca_certificate
        view['signing_certificate'] = desired.certificate
    return view


def comparable(view):
    """A view without what changes on every write (for deciding and for diffs)."""
    if view is None:
        return {}
    view = dict((k, v) for k, v in view.items() if k not in ('etag', 'created', 'updated', 'registration_state'))
    for key in ('certificate', 'signing_certificate'):
        if view.get(key):
            # DPS spells subjects its own way: the fingerprint is what identifies a certificate.
            view[key] = dict(sha256=view[key]['sha256'])
    if view.get('ca_certificate'):
        view['ca_certificate'] = view['ca_certificate'].lower()
    view['iot_hubs'] = sorted(h.lower() for h in view.get('iot_hubs') or [])
    return view
