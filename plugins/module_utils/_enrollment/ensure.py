# Copyright: iotops.dps_tls contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Desired state of an enrollment: read -> compare -> (check mode stops) -> write with the etag -> read back.

A PUT replaces the whole enrollment, so the body is what DPS holds with the user's fields laid over it; an
option left out keeps its value. Nothing is deleted unless state is absent. A 412 (another writer between our
read and our write) makes the step read again and decide again, once.
"""

from __future__ import annotations

import urllib.parse

from ansible_collections.iotops.dps_tls.plugins.module_utils._common.errors import DpsTlsError, InvalidInputError
from ansible_collections.iotops.dps_tls.plugins.module_utils._enrollment import model, service
from ansible_collections.iotops.dps_tls.plugins.module_utils._enrollment.service import EtagConflict

GROUPS, INDIVIDUAL = 'enrollmentGroups', 'enrollments'


def kind_of(desired):
    return INDIVIDUAL if desired.individual else GROUPS


def refuse_unusable_ca(api, desired):
    """A group on a CA that is missing or unverified could never register a device: refuse it before any write."""
    if not desired.ca_certificate:
        return
    cert = api.ca_certificate(desired.ca_certificate)
    if cert is None:
        raise InvalidInputError('ca_certificate', 'no certificate named %s on DPS instance %s; upload and verify it '
                                                  'with dps_certificate first. Nothing was changed.' % (
                                                      desired.ca_certificate, desired.dps_name))
    if not (cert.get('properties') or {}).get('isVerified'):
        raise InvalidInputError('ca_certificate', 'certificate %s on DPS instance %s is not verified, so no device '
                                                  'could register through this group; prove possession with '
                                                  'dps_certificate (verified: true) first. Nothing was changed.' % (
                                                      desired.ca_certificate, desired.dps_name))


def refuse_unlinked_hubs(api, desired):
    hubs = desired.fields.get('iotHubs') or []
    linked = {hub.lower() for hub in api.linked_hubs}
    unknown = [hub for hub in hubs if hub.lower() not in linked]
    if unknown:
        raise InvalidInputError('iot_hubs', '%s %s not linked to DPS instance %s (linked: %s). Nothing was changed.'
                                % (', '.join(unknown), 'is' if len(unknown) == 1 else 'are', desired.dps_name,
                                   ', '.join(sorted(api.linked_hubs)) or 'none'))


def _write(api, desired, raw, current, wrote):
    """One write: PUT (or DELETE); returns the view after it. A write whose answer is lost counts as a change."""
    kind = kind_of(desired)
    try:
        if desired.state == 'absent':
            api.delete(kind, desired.name, current['etag'])
            wrote.append('delete')
            return None
        answer = api.put(kind, desired.name, desired.body(raw), etag=current['etag'] if current else None)
        wrote.append('put')
        return model.enrollment_view(answer, desired.individual)
    except DpsTlsError as exc:
        from azure.core.exceptions import ServiceResponseError
        if isinstance(exc.__cause__, ServiceResponseError):
            exc.details['changed'] = True
        raise


def _decide(desired, current):
    """(changed, predicted view) for the current view."""
    if desired.state == 'absent':
        return current is not None, None
    predicted = model.predicted_view(desired, current)
    return model.comparable(current) != model.comparable(predicted) or current is None, predicted


def ensure_enrollment(api, desired, check_mode=False, diff=False):
    wrote = []
    try:
        return _ensure(api, desired, check_mode, diff, wrote)
    except DpsTlsError as exc:
        if wrote:
            exc.details['changed'] = True
        raise


def _ensure(api, desired, check_mode, diff, wrote):
    if desired.state == 'present':
        refuse_unusable_ca(api, desired)
        refuse_unlinked_hubs(api, desired)
    first = None
    for attempt in (1, 2):
        raw = api.get(kind_of(desired), desired.name)
        current = model.enrollment_view(raw, desired.individual)
        first = current if attempt == 1 else first
        changed, after = _decide(desired, current)
        if check_mode or not changed:
            after = after if changed else current
            break
        try:
            after = _write(api, desired, raw, current, wrote)
            break
        except EtagConflict as exc:
            if attempt == 2:
                raise DpsTlsError('%s twice: the enrollment keeps changing under this task (another writer?)'
                                  % exc.message, error_kind='precondition_failed')
    result = dict(changed=bool(changed or wrote), enrollment=after or {})
    if diff:
        result['diff'] = dict(before=model.comparable(first), after=model.comparable(after))
    return result


def registration_view(raw):
    return dict(registration_id=raw.get('registrationId'), status=raw.get('status'),
                substatus=raw.get('substatus'), assigned_hub=raw.get('assignedHub'), device_id=raw.get('deviceId'),
                enrollment_group=raw.get('enrollmentGroupId'), created=raw.get('createdDateTimeUtc'),
                updated=raw.get('lastUpdatedDateTimeUtc'), error_code=raw.get('errorCode'),
                error_message=raw.get('errorMessage'), etag=raw.get('etag'))


def enrollment_info(api, individual, name=None, registrations=False):
    """The enrollments (one by name, or all), with the registration records of each group when asked."""
    kind = INDIVIDUAL if individual else GROUPS
    if name:
        model.check_id('name', name)
        raws = [raw for raw in [api.get(kind, name)] if raw is not None]
    else:
        raws = api.query('%s/query' % kind, kind)
    views = [model.enrollment_view(raw, individual) for raw in raws]
    if registrations and not individual:
        for view in views:
            records = api.query('registrations/%s/query' % urllib.parse.quote(view['name'], safe=''),
                                'the registrations of %s' % view['name'])
            view['registrations'] = [registration_view(record) for record in records]
    key = 'enrollments' if individual else 'enrollment_groups'
    return {'changed': False, key: views}


def manage(azure, individual):
    """A module's whole run: options checked offline, then the instance, then the enrollment."""
    desired = model.DesiredEnrollment(azure.params, individual=individual)
    azure.credential_plan()
    try:
        api = service.ServiceApi(azure, azure.params)
    except DpsTlsError as exc:
        if desired.state == 'absent' and exc.details.get('error_kind') == 'not_found':
            # no instance, no enrollment: already absent
            return dict(changed=False, enrollment={})
        raise
    return ensure_enrollment(api, desired, check_mode=azure.check_mode, diff=azure.diff)


def read(azure, individual):
    """An info module's whole run."""
    model.check_location(azure.params)
    if azure.params.get('name'):
        model.check_id('name', azure.params['name'])
    azure.credential_plan()
    api = service.ServiceApi(azure, azure.params)
    return enrollment_info(api, individual, name=azure.params.get('name'),
                           registrations=azure.params.get('registrations'))
