# Copyright: iotops.dps_tls contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""CA certificates on a DPS instance: check the input offline, upload, prove possession, delete, read.

Every input check runs before the first call to Azure. A certificate is identified by its SHA-1 thumbprint (what
DPS reports) and its verification state; every write carries the etag just read, and a 412 (someone else wrote
in between) makes the step read again and retry once.
"""

from __future__ import annotations

import base64
import binascii
import datetime

from ansible_collections.iotops.dps_tls.plugins.module_utils._azure import names
from ansible_collections.iotops.dps_tls.plugins.module_utils._common.errors import DpsTlsError, InvalidInputError
from ansible_collections.iotops.dps_tls.plugins.module_utils._common.files import read_regular_file
from ansible_collections.iotops.dps_tls.plugins.module_utils._dps import proof
from ansible_collections.iotops.dps_tls.plugins.module_utils._dps.certificate_api import DpsCertificates, EtagConflict
from ansible_collections.iotops.dps_tls.plugins.module_utils._dps.certificate_plan import (
    plan, predicted, refuse_verify_without_code)
from ansible_collections.iotops.dps_tls.plugins.module_utils._dps.proof import check_proof_signature
from ansible_collections.iotops.dps_tls.plugins.module_utils._x509.certificate import (
    check_ca, fingerprints, load_certificate, load_pem_certificate, not_after, pem_of)
from ansible_collections.iotops.dps_tls.plugins.module_utils._x509.keys import load_private_key, matches_certificate
from ansible_collections.iotops.dps_tls.plugins.module_utils._x509.pem import (
    SHA1_SIZE, CertificateError, as_bytes, normalize_fingerprint)

__all__ = ['DpsCertificates', 'EtagConflict', 'certificate_info', 'ensure_certificate', 'plan']

STATES = ('present', 'absent')

DPS_CERTIFICATE_ARGUMENT_SPEC = dict(
    name=dict(type='str', required=True),
    dps_name=dict(type='str', required=True),
    resource_group=dict(type='str', required=True),
    certificate=dict(type='str'),
    certificate_path=dict(type='path'),
    verified=dict(type='bool', default=False),
    private_key=dict(type='str', no_log=True),
    private_key_path=dict(type='path'),
    private_key_passphrase=dict(type='str', no_log=True),
    verification_certificate=dict(type='str'),
    state=dict(type='str', default=STATES[0], choices=list(STATES)),
)
MUTUALLY_EXCLUSIVE = [('certificate', 'certificate_path'), ('private_key', 'private_key_path'),
                      ('private_key', 'verification_certificate'), ('private_key_path', 'verification_certificate')]
REQUIRED_IF = [('state', 'present', ('certificate', 'certificate_path'), True)]


def _read(option, path):
    return read_regular_file(option, path)


def validate_dps_name(dps_name):
    """The instance's name follows the DPS naming rules: refuse a bad one before any request."""
    names.DPS_NAME.require('dps_name', dps_name)


def validate_location(params):
    """Every value that goes into the request path of a certificate call, checked before any request."""
    names.RESOURCE_GROUP.require('resource_group', params['resource_group'])
    validate_dps_name(params['dps_name'])
    if params.get('name') is not None:
        names.CERTIFICATE_NAME.require('name', params['name'])


class DesiredCertificate:
    """The task's options, checked and parsed; building one reads local files only, never Azure."""

    def __init__(self, params, now=None):
        now = now or datetime.datetime.now(datetime.timezone.utc)
        self.name = params['name']
        self.dps_name = params['dps_name']
        self.resource_group = params['resource_group']
        self.state = params.get('state') or 'present'
        self.verified = bool(params.get('verified'))
        self.warnings = []
        self.cert = self.key = self.proof = None
        self.proof_code = None
        validate_location(params)
        if self.state == 'absent':
            return
        option, data = 'certificate', params.get('certificate')
        if params.get('certificate_path'):
            option, data = 'certificate_path', _read('certificate_path', params['certificate_path'])
        if not data:
            raise InvalidInputError('certificate', 'give the CA certificate as certificate or certificate_path')
        self.cert = load_pem_certificate(option, data)
        self.warnings.extend(check_ca(option, self.cert, now))
        self.thumbprint, self.sha256 = fingerprints(self.cert)
        self.pem = pem_of(self.cert).encode('ascii')
        key_option, key_data = 'private_key', params.get('private_key')
        if params.get('private_key_path'):
            key_option, key_data = 'private_key_path', _read('private_key_path', params['private_key_path'])
        if params.get('private_key_passphrase') and not key_data:
            raise InvalidInputError('private_key_passphrase', 'given without private_key or private_key_path')
        if key_data:
            self.key = load_private_key(key_option, key_data, params.get('private_key_passphrase'))
            if not matches_certificate(self.key, self.cert):
                raise InvalidInputError(key_option, 'does not match the certificate (another public key)')
        if params.get('verification_certificate'):
            self.proof = load_pem_certificate('verification_certificate', params['verification_certificate'])
            self.proof_code = check_proof_signature('verification_certificate', self.proof, self.cert)
        if (self.key or self.proof) and not self.verified:
            raise InvalidInputError('verified', 'is false, but a private key or verification certificate was given; '
                                                'set verified to true to prove possession')

    def upload_body(self):
        return {'properties': {'certificate': base64.b64encode(self.pem).decode('ascii')}}

    def view(self):
        """What the certificate will look like once uploaded (before the service adds etag and dates)."""
        return dict(name=self.name, subject=self.cert.subject.rfc4514_string(), thumbprint=self.thumbprint,
                    sha256=self.sha256, expiry=not_after(self.cert).isoformat())


def _decode_certificate(value):
    """The certificate DPS returns (base64 of PEM or DER, or bytes already decoded), or None."""
    if value is None:
        return None
    data = value
    if not isinstance(data, bytes):
        try:
            data = base64.b64decode(data)
        except (binascii.Error, ValueError):
            data = as_bytes(value)
    try:
        return load_certificate(data)
    except CertificateError:
        return None


def _parse_http_date(value):
    if not value:
        return None
    if isinstance(value, datetime.datetime):
        stamp = value
    else:
        import email.utils
        try:
            stamp = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return value
    if stamp.tzinfo is None:
        stamp = stamp.replace(tzinfo=datetime.timezone.utc)
    return stamp.astimezone(datetime.timezone.utc).isoformat()


def certificate_view(raw):
    """The user's view of a certificate DPS returned (a plain dict in the service's camelCase)."""
    props = raw.get('properties') or {}
    cert = _decode_certificate(props.get('certificate'))
    sha256 = fingerprints(cert)[1] if cert is not None else None
    view = dict(
        name=raw.get('name'),
        subject=props.get('subject'),
        thumbprint=normalize_fingerprint(props.get('thumbprint'), SHA1_SIZE) or props.get('thumbprint') or None,
        sha256=sha256,
        expiry=_parse_http_date(props.get('expiry')),
        is_verified=bool(props.get('isVerified')),
        created=_parse_http_date(props.get('created')),
        updated=_parse_http_date(props.get('updated')),
        etag=raw.get('etag'),
    )
    if props.get('verificationCode'):
        view['verification_code'] = props['verificationCode']
    return view


def _public(view):
    """A view without the bookkeeping fields that change on every write (for diffs)."""
    if view is None:
        return {}
    return dict((k, v) for k, v in view.items() if k not in ('etag', 'created', 'updated', 'verification_code'))


def _run_step(api, desired, step, view):
    """One step with the etag of the previous answer; (the new reading as a view, the verification code or None)."""
    etag = view['etag'] if view else None
    if step == 'delete':
        api.delete(desired.name, etag)
        return None, None
    if step == 'upload':
        return certificate_view(api.upload(desired.name, desired.upload_body(), etag)), None
    if step == 'verify':
        pem = pem_of(desired.proof)
        return certificate_view(api.verify(desired.name, etag, pem)), None
    answer = certificate_view(api.generate_code(desired.name, etag))
    code = answer.get('verification_code')
    if not code:
        raise DpsTlsError('DPS did not return a verification code for certificate %s' % desired.name)
    if step == 'prove':
        pem = proof.verification_certificate(desired.cert, desired.key, code)
        return certificate_view(api.verify(desired.name, answer['etag'], pem)), code
    return answer, code


def _apply(api, desired, current, steps):
    """Run the steps in order; returns the last reading (a view). An EtagConflict carries the steps done before it."""
    view, code, done = current, None, []
    for step in steps:
        try:
            view, step_code = _run_step(api, desired, step, view)
        except EtagConflict as exc:
            exc.done = done
            raise
        code = step_code or code
        done.append(step)
    if view is not None and code and 'code' in steps:
        view['verification_code'] = code
    return view


def ensure_certificate(api, desired, check_mode=False, diff=False):
    """read -> plan -> (check mode stops) -> apply; on a 412, read again and retry once."""
    with api.writes.changed_on_failure():
        first, after, steps = _converge(api, desired, check_mode)
    if 'verify' in steps and after is not None and not after['is_verified']:
        raise DpsTlsError('DPS did not mark certificate %s verified' % desired.name, changed=True)
    if after is not None and desired.state == 'present' and after.get('sha256') is None:
        after['sha256'] = desired.sha256
    # A write whose answer was lost and that a retry found applied changed the certificate too.
    result = dict(changed=bool(steps) or api.writes.accepted, certificate=after or {}, steps=steps)
    if after and after.get('verification_code'):
        result['verification_code'] = after['verification_code']
    if desired.warnings:
        result['warnings'] = list(desired.warnings)
    if diff:
        result['diff'] = dict(before=_public(first), after=_public(after))
    return result


def _read_and_plan(api, desired):
    """The current reading (a view, or None) and the steps that bring it to the desired state."""
    current = api.get(desired.name)
    current = certificate_view(current) if current is not None else None
    if current is None and desired.state == 'present' and not api.instance_exists():
        # Otherwise check mode would promise an upload that can never happen.
        raise DpsTlsError('DPS instance %s does not exist in resource group %s' % (
            desired.dps_name, desired.resource_group), error_kind='not_found', option='dps_name')
    steps = plan(desired, current)
    if 'upload' in steps and 'verify' in steps:
        refuse_verify_without_code(desired, current)
    return current, steps


def _converge(api, desired, check_mode):
    """(the first reading, the reading after, the steps taken); a 412 makes it read, plan and apply once more."""
    first, done = None, []
    for attempt in (1, 2):
        current, steps = _read_and_plan(api, desired)
        first = current if attempt == 1 else first
        if check_mode or not steps:
            return first, predicted(desired, current, steps) if steps else current, steps
        try:
            after = _apply(api, desired, current, steps)
        except EtagConflict as exc:
            if attempt == 2:
                raise DpsTlsError('%s failed twice with HTTP 412: the certificate keeps changing under this task '
                                  '(another writer?)' % exc, error_kind='precondition_failed')
            # what the first attempt did before the conflict is part of this task's change, as the result says
            done = list(exc.done)
            continue
        return first, after, list(dict.fromkeys(done + steps))  # a proof retried after a 412 is still one step
    raise AssertionError('unreachable')  # pragma: no cover


def certificate_info(api, name=None):
    """certificates: the one named, or all certificates of the instance."""
    if name:
        raw = api.get(name)
        return dict(changed=False, certificates=[certificate_view(raw)] if raw is not None else [])
    return dict(changed=False, certificates=[certificate_view(raw) for raw in api.list()])
