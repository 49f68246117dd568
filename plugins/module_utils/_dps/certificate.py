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
import hashlib
import re

from ansible_collections.iotops.dps_tls.plugins.module_utils._azure.errors import is_missing_resource
from ansible_collections.iotops.dps_tls.plugins.module_utils._common.errors import (
    DpsTlsError, InvalidInputError, MissingDependencyError)
from ansible_collections.iotops.dps_tls.plugins.module_utils._common.files import read_regular_file
from ansible_collections.iotops.dps_tls.plugins.module_utils._dps import instance, proof

EXPIRY_WARNING_DAYS = 30
# DPS certificate names: letters, digits, '-', '.', '_', at most 256 characters (a path segment of the ARM id).
NAME_PATTERN = re.compile(r'^[A-Za-z0-9._-]{1,256}$')
PEM_CERT_RE = re.compile(r'-----BEGIN CERTIFICATE-----\s+.*?-----END CERTIFICATE-----', re.DOTALL)

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
    state=dict(type='str', default='present', choices=['present', 'absent']),
)
MUTUALLY_EXCLUSIVE = [('certificate', 'certificate_path'), ('private_key', 'private_key_path'),
                      ('private_key', 'verification_certificate'), ('private_key_path', 'verification_certificate')]
REQUIRED_IF = [('state', 'present', ('certificate', 'certificate_path'), True)]


def _crypto():
    try:
        from cryptography import x509
        from cryptography.hazmat.primitives import serialization
    except ImportError as exc:
        raise MissingDependencyError('cryptography', 'to check CA certificates and prove possession', error=exc)
    return x509, serialization


def _read(option, path):
    return read_regular_file(option, path)


def _as_bytes(value):
    return value.encode('utf-8') if not isinstance(value, bytes) else value


def _looks_like_der(x509, value):
    """True when value (bytes, or text that carried binary bytes) is a DER certificate."""
    candidates = [_as_bytes(value)]
    if not isinstance(value, bytes):
        try:
            candidates.append(value.encode('latin-1'))
        except UnicodeEncodeError:
            pass
        try:
            candidates.append(base64.b64decode(value, validate=True))
        except (binascii.Error, ValueError):
            pass
    for candidate in candidates:
        try:
            x509.load_der_x509_certificate(candidate)
            return True
        except ValueError:
            continue
    return False


def load_pem_certificate(option, data):
    """The one certificate in PEM data; InvalidInputError when it is not PEM, holds none or several, or is DER."""
    x509, _serialization = _crypto()
    if b'-----BEGIN' not in _as_bytes(data):
        if _looks_like_der(x509, data):
            raise InvalidInputError(option, 'this is a DER (binary or base64) certificate, not PEM; convert it with '
                                            'openssl x509 -inform der -in cert.der -out cert.pem')
        raise InvalidInputError(option, 'not a PEM certificate (no -----BEGIN CERTIFICATE----- block)')
    data = _as_bytes(data)
    blocks = PEM_CERT_RE.findall(data.decode('utf-8', 'replace'))
    if not blocks:
        raise InvalidInputError(option, 'no -----BEGIN CERTIFICATE----- block (a key or another PEM type?)')
    if len(blocks) > 1:
        raise InvalidInputError(option, 'holds %d certificates; give exactly one CA certificate' % len(blocks))
    try:
        return x509.load_pem_x509_certificate(blocks[0].encode('ascii'))
    except ValueError as exc:
        raise InvalidInputError(option, 'the PEM block is not a valid X.509 certificate (%s)' % exc)


def _not_after(cert):
    value = getattr(cert, 'not_valid_after_utc', None)
    if value is None:
        value = cert.not_valid_after.replace(tzinfo=datetime.timezone.utc)
    return value


def _not_before(cert):
    value = getattr(cert, 'not_valid_before_utc', None)
    if value is None:
        value = cert.not_valid_before.replace(tzinfo=datetime.timezone.utc)
    return value


def check_ca(option, cert, now):
    """Fail unless cert is a CA (basicConstraints CA:TRUE) valid now; a warning when it expires within 30 days."""
    x509, _serialization = _crypto()
    try:
        constraints = cert.extensions.get_extension_for_class(x509.BasicConstraints).value
    except x509.ExtensionNotFound:
        constraints = None
    if constraints is None or not constraints.ca:
        raise InvalidInputError(option, 'not a CA certificate (basicConstraints CA:TRUE is missing); DPS needs the '
                                        'root or intermediate CA that signs the device certificates')
    expiry = _not_after(cert)
    if expiry <= now:
        raise InvalidInputError(option, 'the certificate expired on %s' % expiry.isoformat())
    if _not_before(cert) > now:
        raise InvalidInputError(option, 'the certificate is not valid before %s' % _not_before(cert).isoformat())
    days = (expiry - now).days
    if days < EXPIRY_WARNING_DAYS:
        return ['The CA certificate expires in %d days (%s): devices chaining to it will stop provisioning.'
                % (days, expiry.isoformat())]
    return []


def load_private_key(option, data, passphrase):
    """The private key in PEM data; InvalidInputError for a wrong or missing passphrase or an unreadable key."""
    _x509, serialization = _crypto()
    data = _as_bytes(data)
    password = _as_bytes(passphrase) if passphrase else None
    try:
        return serialization.load_pem_private_key(data, password=password)
    except TypeError:
        if password is None:
            raise InvalidInputError('private_key_passphrase', 'the private key is encrypted; give its passphrase')
        raise InvalidInputError('private_key_passphrase', 'given, but the private key is not encrypted')
    except ValueError:
        if password is not None and b'ENCRYPTED' in data:
            raise InvalidInputError('private_key_passphrase', 'does not open the private key (wrong passphrase)')
        raise InvalidInputError(option, 'not a PEM private key')


def _public_der(key):
    _x509, serialization = _crypto()
    return key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)


def fingerprints(cert):
    _x509, serialization = _crypto()
    der = cert.public_bytes(serialization.Encoding.DER)
    return hashlib.sha1(der).hexdigest().upper(), hashlib.sha256(der).hexdigest().upper()  # nosec - DPS's id


def check_proof_signature(option, proof_cert, ca_cert):
    """The verification certificate must be signed by the CA's key (its CN is checked by DPS)."""
    from cryptography.exceptions import InvalidSignature
    try:
        proof_cert.verify_directly_issued_by(ca_cert)
    except (ValueError, TypeError, InvalidSignature):
        raise InvalidInputError(option, 'not issued and signed by the CA certificate given in certificate')
    x509, _serialization = _crypto()
    names = proof_cert.subject.get_attributes_for_oid(x509.oid.NameOID.COMMON_NAME)
    if not names:
        raise InvalidInputError(option, 'has no subject CN; its CN must be the verification code')
    return names[0].value


def validate_dps_name(dps_name):
    """The instance's name follows the DPS naming rules: refuse a bad one before any request."""
    try:
        instance.validate_name(dps_name)
    except InvalidInputError as exc:
        raise InvalidInputError('dps_name', exc.reason) from exc


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
        if not NAME_PATTERN.match(self.name or ''):
            raise InvalidInputError('name', 'use 1-256 letters, digits, ".", "-" or "_"')
        validate_dps_name(self.dps_name)
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
        self.pem = self.cert.public_bytes(_crypto()[1].Encoding.PEM)
        key_option, key_data = 'private_key', params.get('private_key')
        if params.get('private_key_path'):
            key_option, key_data = 'private_key_path', _read('private_key_path', params['private_key_path'])
        if params.get('private_key_passphrase') and not key_data:
            raise InvalidInputError('private_key_passphrase', 'given without private_key or private_key_path')
        if key_data:
            self.key = load_private_key(key_option, key_data, params.get('private_key_passphrase'))
            if _public_der(self.key.public_key()) != _public_der(self.cert.public_key()):
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
                    sha256=self.sha256, expiry=_not_after(self.cert).isoformat())


def _decode_certificate(value):
    """The certificate DPS returns (base64 of PEM or DER, or bytes already decoded), or None."""
    x509, _serialization = _crypto()
    if value is None:
        return None
    data = value
    if not isinstance(data, bytes):
        try:
            data = base64.b64decode(data)
        except (binascii.Error, ValueError):
            data = _as_bytes(value)
    try:
        if b'-----BEGIN' in data:
            return x509.load_pem_x509_certificate(data)
        return x509.load_der_x509_certificate(data)
    except ValueError:
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
        thumbprint=(props.get('thumbprint') or '').upper() or None,
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


class EtagConflict(Exception):
    """DPS answered 412: the certificate changed since it was read."""


class DpsCertificates:
    """The certificate operations of an IotDpsClient, with errors mapped and 412 reported as EtagConflict."""

    def __init__(self, client, azure_errors, resource_group, dps_name):
        self.ops = client.dps_certificate
        self.instances = client.iot_dps_resource
        self.azure_errors = azure_errors
        self.where = dict(resource_group_name=resource_group, provisioning_service_name=dps_name)
        self.dps_name = dps_name

    def _call(self, operation, method, **kwargs):
        from azure.core.exceptions import HttpResponseError
        with self.azure_errors(operation):
            try:
                result = method(**dict(self.where, **kwargs))
            except HttpResponseError as exc:
                if exc.status_code == 412:
                    raise EtagConflict(operation)
                raise
        return result.as_dict() if hasattr(result, 'as_dict') else result

    @staticmethod
    def _if_match(etag):
        from azure.core import MatchConditions
        return dict(etag=etag, match_condition=MatchConditions.IfNotModified)

    def get(self, name):
        from azure.core.exceptions import ResourceNotFoundError
        with self.azure_errors('reading certificate %s of DPS instance %s' % (name, self.dps_name)):
            try:
                return self.ops.get(certificate_name=name, **self.where).as_dict()
            except ResourceNotFoundError as exc:
                if not is_missing_resource(exc):
                    raise
                return None

    def instance_exists(self):
        from azure.core.exceptions import ResourceNotFoundError
        with self.azure_errors('reading DPS instance %s' % self.dps_name):
            try:
                self.instances.get(**self.where)
            except ResourceNotFoundError as exc:
                if not is_missing_resource(exc):
                    raise
                return False
        return True

    def list(self):
        with self.azure_errors('listing the certificates of DPS instance %s' % self.dps_name):
            result = self.ops.list(**self.where)
        return [item.as_dict() for item in (result.value or [])]

    def upload(self, name, body, etag=None):
        kwargs = self._if_match(etag) if etag else {}
        return self._call('uploading certificate %s to DPS instance %s' % (name, self.dps_name),
                          self.ops.create_or_update, certificate_name=name, certificate_description=body, **kwargs)

    def generate_code(self, name, etag):
        return self._call('generating a verification code for certificate %s' % name,
                          self.ops.generate_verification_code, certificate_name=name, **self._if_match(etag))

    def verify(self, name, etag, verification_pem):
        return self._call('verifying certificate %s' % name, self.ops.verify_certificate, certificate_name=name,
                          request={'certificate': verification_pem}, **self._if_match(etag))

    def delete(self, name, etag):
        return self._call('deleting certificate %s from DPS instance %s' % (name, self.dps_name),
                          self.ops.delete, certificate_name=name, **self._if_match(etag))


def _public(view):
    """A view without the bookkeeping fields that change on every write (for diffs)."""
    if view is None:
        return {}
    return dict((k, v) for k, v in view.items() if k not in ('etag', 'created', 'updated', 'verification_code'))


def plan(desired, current):
    """The steps that bring `current` (a view, or None) to `desired`: upload, prove, code, delete."""
    if desired.state == 'absent':
        return ['delete'] if current is not None else []
    steps = []
    same = current is not None and current['thumbprint'] == desired.thumbprint
    if not same:
        steps.append('upload')
    verified_now = same and current['is_verified']
    if desired.verified and not verified_now:
        if desired.key is not None:
            steps.append('prove')
        elif desired.proof is not None:
            steps.append('verify')
        else:
            steps.append('code')
    return steps


def _apply(api, desired, current, steps, wrote):
    """Run the steps with the etag of each previous answer; returns the last reading (a view).

    wrote gets one entry per write the service accepted, so that a later failure can say something changed.
    """
    view = current
    code = None
    for step in steps:
        etag = view['etag'] if view else None
        if step == 'delete':
            api.delete(desired.name, etag)
            return None
        if step == 'upload':
            view = certificate_view(api.upload(desired.name, desired.upload_body(), etag))
            wrote.append(step)
        elif step in ('prove', 'code'):
            answer = certificate_view(api.generate_code(desired.name, etag))
            wrote.append(step)
            code = answer.get('verification_code')
            if not code:
                raise DpsTlsError('DPS did not return a verification code for certificate %s' % desired.name)
            view = answer
            if step == 'prove':
                pem = proof.verification_certificate(desired.cert, desired.key, code)
                view = certificate_view(api.verify(desired.name, view['etag'], pem))
        elif step == 'verify':
            pem = desired.proof.public_bytes(_crypto()[1].Encoding.PEM).decode('ascii')
            view = certificate_view(api.verify(desired.name, etag, pem))
    if code and 'code' in steps:
        view['verification_code'] = code
    return view


def _predicted(desired, current, steps):
    """What check mode reports: the reading as it would be after the steps."""
    if 'delete' in steps:
        return None
    view = dict(current or {}, **desired.view())
    view.setdefault('etag', None)
    if 'upload' in steps:
        view.update(is_verified=False, etag=None)
    if 'prove' in steps or 'verify' in steps:
        view['is_verified'] = True
    return view


def refuse_verify_without_code(desired, current):
    """A verification certificate proves a code DPS issued for the certificate as uploaded now; an upload voids it."""
    if current is None:
        why = 'is not uploaded to DPS instance %s yet' % desired.dps_name
    else:
        why = 'on DPS instance %s holds another certificate that this task would replace' % desired.dps_name
    raise InvalidInputError(
        'verification_certificate',
        'certificate %s %s, so DPS has no verification code it could prove. Run the task without '
        'verification_certificate first: it uploads the certificate and returns the verification code; then issue '
        'the verification certificate with that code as its subject CN and run again with it. Nothing was changed.' % (
            desired.name, why))


def ensure_certificate(api, desired, check_mode=False, diff=False):
    """read -> plan -> (check mode stops) -> apply; on a 412, read again and retry once."""
    wrote = []
    try:
        return _ensure_certificate(api, desired, check_mode, diff, wrote)
    except DpsTlsError as exc:
        if wrote:
            # A write went through before the failure: the task did change the certificate.
            exc.details['changed'] = True
        raise


def _ensure_certificate(api, desired, check_mode, diff, wrote):
    first = done = None
    for attempt in (1, 2):
        current = api.get(desired.name)
        current = certificate_view(current) if current is not None else None
        if attempt == 1:
            first = current
        if current is None and desired.state == 'present' and not api.instance_exists():
            # Otherwise check mode would promise an upload that can never happen.
            raise DpsTlsError('DPS instance %s does not exist in resource group %s' % (
                desired.dps_name, desired.resource_group), error_kind='not_found')
        steps = plan(desired, current)
        if 'upload' in steps and 'verify' in steps:
            refuse_verify_without_code(desired, current)
        if check_mode or not steps:
            after = _predicted(desired, current, steps) if steps else current
            break
        try:
            after = _apply(api, desired, current, steps, wrote)
            break
        except EtagConflict as exc:
            if attempt == 2:
                raise DpsTlsError('%s failed twice with HTTP 412: the certificate keeps changing under this task '
                                  '(another writer?)' % exc, error_kind='precondition_failed')
            # what the first attempt wrote before the conflict is part of this task's change, as the result says
            done = list(wrote)
    if 'verify' in steps and after is not None and not after['is_verified']:
        raise DpsTlsError('DPS did not mark certificate %s verified' % desired.name)
    if after is not None and desired.state == 'present' and after.get('sha256') is None:
        after['sha256'] = desired.sha256
    steps = list(dict.fromkeys((done or []) + steps))  # a proof retried after a 412 is still one step
    result = dict(changed=bool(steps), certificate=after or {}, steps=steps)
    if after and after.get('verification_code'):
        result['verification_code'] = after['verification_code']
    if desired.warnings:
        result['warnings'] = list(desired.warnings)
    if diff:
        result['diff'] = dict(before=_public(first), after=_public(after))
    return result


def certificate_info(api, name=None):
    if name:
        raw = api.get(name)
        return dict(changed=False, certificates=[certificate_view(raw)] if raw is not None else [])
    return dict(changed=False, certificates=[certificate_view(raw) for raw in api.list()])
