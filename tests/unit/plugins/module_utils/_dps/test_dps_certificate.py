# Copyright: iotops.dps_tls contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""CA certificates: every input check, the verification certificate, the plan and the 412 retry."""

from __future__ import annotations

import base64
import datetime

import pytest

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from cryptography.x509.oid import NameOID

from ansible_collections.iotops.dps_tls.plugins.module_utils._azure import errors
from ansible_collections.iotops.dps_tls.plugins.module_utils._common.errors import DpsTlsError, InvalidInputError
from ansible_collections.iotops.dps_tls.plugins.module_utils._dps import certificate, proof
from ansible_collections.iotops.dps_tls.tests.unit.pki import certificate as make_certificate, key_pem, pem

NOW = datetime.datetime(2026, 11, 29, 6, 0, tzinfo=datetime.timezone.utc)
DAY = datetime.timedelta(days=1)
VALID = dict(not_before=NOW - DAY, not_after=NOW + 3650 * DAY)

CA, CA_KEY = make_certificate('Test Root CA', **VALID)


def params(**overrides):
    base = dict(name='fleet-ca', dps_name='dps1', resource_group='rg1', certificate=pem(CA), certificate_path=None,
                verified=False, private_key=None, private_key_path=None, private_key_passphrase=None,
                verification_certificate=None, state='present')
    base.update(overrides)
    return base


def desired(**overrides):
    return certificate.DesiredCertificate(params(**overrides), now=NOW)


def refused(option, reason, **overrides):
    with pytest.raises(InvalidInputError) as caught:
        desired(**overrides)
    assert caught.value.option == option
    assert reason in caught.value.reason
    return caught.value


# --- input checks ---------------------------------------------------------------------------------------------


def test_a_good_ca_parses_with_fingerprints():
    want = desired()
    assert want.thumbprint == CA.fingerprint(hashes.SHA1()).hex(":").upper()
    assert want.sha256 == CA.fingerprint(hashes.SHA256()).hex(":").upper()
    assert want.warnings == []
    assert want.view()['subject'] == 'CN=Test Root CA'


def test_not_pem():
    refused('certificate', 'not a PEM certificate', certificate='hello')


def test_der_given_as_pem():
    der = CA.public_bytes(serialization.Encoding.DER)
    refused('certificate', 'DER', certificate=der.decode('latin-1'))


def test_der_file(tmp_path):
    path = tmp_path / 'ca.der'
    path.write_bytes(CA.public_bytes(serialization.Encoding.DER))
    refused('certificate_path', 'DER', certificate=None, certificate_path=str(path))


def test_a_key_instead_of_a_certificate():
    refused('certificate', 'holds a private key', certificate=key_pem(CA_KEY))


@pytest.mark.parametrize('option', ['certificate', 'certificate_path', 'verification_certificate'])
def test_a_certificate_with_its_key_is_refused_without_showing_the_key(tmp_path, option):
    bundle = pem(CA) + key_pem(CA_KEY)
    args = {option: bundle}
    if option == 'certificate_path':
        path = tmp_path / 'bundle.pem'
        path.write_text(bundle)
        args = dict(certificate=None, certificate_path=str(path))
    if option == 'verification_certificate':
        args['verified'] = True
    with pytest.raises(InvalidInputError) as caught:
        desired(**args)
    assert caught.value.option == option
    assert 'holds a private key' in caught.value.reason
    assert key_pem(CA_KEY).splitlines()[2] not in str(caught.value) + repr(caught.value.details)
    assert caught.value.__cause__.secret_values == [key_pem(CA_KEY).strip()]


def test_two_certificates():
    refused('certificate', 'holds 2 certificates', certificate=pem(CA) + pem(make_certificate('Other', **VALID)[0]))


def test_broken_pem_block():
    text = pem(CA)
    refused('certificate', 'not a valid X.509 certificate', certificate=text[:100] + '\n-----END CERTIFICATE-----\n')


def test_base64_der_without_headers():
    der = CA.public_bytes(serialization.Encoding.DER)
    refused('certificate', 'DER', certificate=base64.b64encode(der).decode())


def test_not_a_ca():
    refused('certificate', 'not a CA', certificate=pem(make_certificate('Test Root CA', ca=False, **VALID)[0]))


def test_no_basic_constraints():
    refused('certificate', 'not a CA', certificate=pem(make_certificate('Test Root CA', ca=None, **VALID)[0]))


def test_expired():
    expired = make_certificate('Test Root CA', not_before=NOW - 10 * DAY, not_after=NOW - DAY)[0]
    refused('certificate', 'expired', certificate=pem(expired))


def test_not_yet_valid():
    future = make_certificate('Test Root CA', not_before=NOW + DAY, not_after=NOW + 3650 * DAY)[0]
    refused('certificate', 'not valid before', certificate=pem(future))


def test_expiring_soon_warns():
    want = desired(certificate=pem(make_certificate('Test Root CA', not_before=NOW - DAY, not_after=NOW + 10 * DAY)[0]))
    assert len(want.warnings) == 1 and 'expires in 10 days' in want.warnings[0]


def test_unreadable_path(tmp_path):
    refused('certificate_path', 'cannot read', certificate=None, certificate_path=str(tmp_path / 'missing.pem'))


def test_key_mismatch():
    other = ec.generate_private_key(ec.SECP256R1())
    refused('private_key', 'does not match', private_key=key_pem(other), verified=True)


def test_key_of_another_type():
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    refused('private_key', 'does not match', private_key=key_pem(other), verified=True)


def test_wrong_passphrase_is_not_echoed():
    error = refused('private_key_passphrase', 'wrong passphrase', private_key=key_pem(CA_KEY, 'right one'),
                    private_key_passphrase='wrong one', verified=True)
    assert 'wrong one' not in error.message and 'right one' not in error.message


def test_missing_passphrase():
    refused('private_key_passphrase', 'encrypted', private_key=key_pem(CA_KEY, 'right one'), verified=True)


def test_passphrase_for_a_plain_key():
    refused('private_key_passphrase', 'not encrypted', private_key=key_pem(CA_KEY), private_key_passphrase='x',
            verified=True)


def test_passphrase_without_key():
    refused('private_key_passphrase', 'without private_key', private_key_passphrase='x')


def test_garbage_key():
    refused('private_key', 'not a PEM private key', private_key='nope', verified=True)


def test_key_file_with_passphrase(tmp_path):
    path = tmp_path / 'ca.key'
    path.write_text(key_pem(CA_KEY, 'right one'))
    want = desired(private_key_path=str(path), private_key_passphrase='right one', verified=True)
    assert want.key is not None


def test_key_without_verified():
    refused('verified', 'set verified to true', private_key=key_pem(CA_KEY))


def test_bad_name():
    refused('name', 'letters, digits', name='bad name/with slash')


def test_absent_needs_no_certificate():
    want = desired(state='absent', certificate=None)
    assert certificate.plan(want, None) == []


def test_verification_certificate_by_another_key():
    other_ca, other_key = make_certificate('Test Root CA', **VALID)
    signed = proof.verification_certificate(other_ca, other_key, 'ABC123')
    refused('verification_certificate', 'not issued and signed', verification_certificate=signed, verified=True)


def test_verification_certificate_accepted():
    signed = proof.verification_certificate(CA, CA_KEY, 'ABC123')
    want = desired(verification_certificate=signed, verified=True)
    assert want.proof_code == 'ABC123'


# --- the verification certificate ------------------------------------------------------------------------------


@pytest.mark.parametrize('key', [
    ec.generate_private_key(ec.SECP384R1()),
    rsa.generate_private_key(public_exponent=65537, key_size=2048),
    ed25519.Ed25519PrivateKey.generate(),
], ids=['ec', 'rsa', 'ed25519'])
def test_verification_certificate_is_signed_by_the_ca_with_the_code_as_cn(key):
    ca, ca_key = make_certificate('Test Root CA', key=key, **VALID)
    signed = x509.load_pem_x509_certificate(proof.verification_certificate(ca, ca_key, 'C0DE42', now=NOW).encode())
    signed.verify_directly_issued_by(ca)
    assert signed.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == 'C0DE42'
    assert signed.issuer == ca.subject
    assert signed.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo) \
        != ca.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    assert signed.not_valid_after_utc - NOW == proof.PROOF_LIFETIME
    assert signed.not_valid_before_utc < NOW
    assert not signed.extensions.get_extension_for_class(x509.BasicConstraints).value.ca


# --- views, plans, and the 412 retry ----------------------------------------------------------------------------


def service_view(want, verified=False, etag='e1', code=None):
    props = dict(subject='CN=Test Root CA', thumbprint=want.thumbprint, isVerified=verified,
                 expiry='Wed, 26 Nov 2036 05:38:27 GMT', certificate=base64.b64encode(want.pem).decode())
    if code:
        props['verificationCode'] = code
    return dict(name=want.name, etag=etag, properties=props)


def test_view_of_a_service_reading():
    want = desired()
    view = certificate.certificate_view(service_view(want, verified=True))
    assert view['sha256'] == want.sha256
    assert view['expiry'] == '2036-11-26T05:38:27+00:00'
    assert view['is_verified'] is True


@pytest.mark.parametrize('verified, reading, steps', [
    (False, None, ['upload']),
    (True, None, ['upload', 'code']),
    (True, dict(verified=False), ['code']),
    (True, dict(verified=True), []),
    (False, dict(verified=False), []),
    (False, dict(verified=True), []),
])
def test_plan(verified, reading, steps):
    want = desired(verified=verified)
    current = certificate.certificate_view(service_view(want, **reading)) if reading is not None else None
    assert certificate.plan(want, current) == steps


def test_plan_reuploads_another_certificate_and_proves_with_key():
    want = desired(verified=True, private_key=key_pem(CA_KEY))
    current = certificate.certificate_view(service_view(want, verified=True))
    current['thumbprint'] = 'OTHER'
    assert certificate.plan(want, current) == ['upload', 'prove']


class FakeApi:
    """Stands in for DpsCertificates: the service's answers, with 412s on demand."""

    def __init__(self, want, conflicts=0, instance=True, conflict_at=None):
        self.want = want
        self.instance = instance
        self.stored = None
        self.conflicts = conflicts
        self.conflict_at = conflict_at
        self.calls = []
        self.writes = errors.Writes(errors.azure_errors)

    def _maybe_conflict(self, name):
        self.calls.append(name)
        if self.conflicts and self.conflict_at in (None, name):
            self.conflicts -= 1
            raise certificate.EtagConflict(name)

    def get(self, name):
        self.calls.append('get')
        return self.stored

    def instance_exists(self):
        self.calls.append('instance')
        return self.instance

    def upload(self, name, body, etag=None):
        with self.writes.sending('upload'):
            self._maybe_conflict('upload')
            self.stored = service_view(self.want, etag='e2')
        return self.stored

    def generate_code(self, name, etag):
        with self.writes.sending('code'):
            self._maybe_conflict('code')
        return service_view(self.want, etag='e3', code='C0DE')

    def verify(self, name, etag, pem_text):
        with self.writes.sending('verify'):
            self._maybe_conflict('verify')
            signed = x509.load_pem_x509_certificate(pem_text.encode())
            signed.verify_directly_issued_by(CA)
            assert signed.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == 'C0DE'
            self.stored = service_view(self.want, verified=True, etag='e4')
        return self.stored

    def delete(self, name, etag):
        with self.writes.sending('delete'):
            self._maybe_conflict('delete')
            self.stored = None


def test_prove_then_rerun():
    want = desired(verified=True, private_key=key_pem(CA_KEY))
    api = FakeApi(want)
    result = certificate.ensure_certificate(api, want, diff=True)
    assert result['changed'] and result['certificate']['is_verified']
    assert result['diff']['before'] == {} and result['diff']['after']['is_verified']
    rerun = FakeApi(want)  # a new task: its own record of writes
    rerun.stored = api.stored
    again = certificate.ensure_certificate(rerun, want)
    assert not again['changed'] and again['steps'] == []


def test_check_mode_writes_nothing():
    want = desired(verified=True, private_key=key_pem(CA_KEY))
    api = FakeApi(want)
    result = certificate.ensure_certificate(api, want, check_mode=True)
    assert result['changed'] and result['certificate']['is_verified']
    assert api.calls == ['get', 'instance']


def test_a_missing_instance_fails_even_in_check_mode():
    want = desired(verified=True, private_key=key_pem(CA_KEY))
    api = FakeApi(want, instance=False)
    with pytest.raises(DpsTlsError) as caught:
        certificate.ensure_certificate(api, want, check_mode=True)
    assert 'dps1 does not exist in resource group rg1' in caught.value.message
    assert api.calls == ['get', 'instance']


def test_one_412_is_retried_after_a_fresh_read():
    want = desired(verified=True, private_key=key_pem(CA_KEY))
    api = FakeApi(want, conflicts=1)
    result = certificate.ensure_certificate(api, want)
    assert result['certificate']['is_verified']
    assert api.calls == ['get', 'instance', 'upload', 'get', 'instance', 'upload', 'code', 'verify']


def test_a_412_after_the_upload_still_reports_the_upload():
    # the upload went through, then the code request met someone else's write: the retry proves possession only,
    # and the result and the diff describe the whole change from the first reading
    want = desired(verified=True, private_key=key_pem(CA_KEY))
    api = FakeApi(want, conflicts=1, conflict_at='code')
    result = certificate.ensure_certificate(api, want, diff=True)
    assert api.calls == ['get', 'instance', 'upload', 'code', 'get', 'code', 'verify']
    assert result['changed'] and result['steps'] == ['upload', 'prove']
    assert result['diff']['before'] == {} and result['diff']['after']['is_verified']


def test_two_412s_fail():
    want = desired(verified=True, private_key=key_pem(CA_KEY))
    with pytest.raises(DpsTlsError) as caught:
        certificate.ensure_certificate(FakeApi(want, conflicts=2), want)
    assert '412' in caught.value.message


def test_two_step_returns_the_code():
    want = desired(verified=True)
    result = certificate.ensure_certificate(FakeApi(want), want)
    assert result['verification_code'] == 'C0DE'
    assert not result['certificate']['is_verified']


@pytest.mark.parametrize('stored', [None, 'another'], ids=['not-uploaded', 'replaced'])
def test_verification_certificate_without_a_pending_code_is_refused_before_any_write(stored):
    signed = proof.verification_certificate(CA, CA_KEY, 'ABC123')
    want = desired(verified=True, verification_certificate=signed)
    for check_mode in (True, False):
        api = FakeApi(want)
        if stored:
            api.stored = service_view(desired(certificate=pem(make_certificate('Other CA', **VALID)[0])))
        with pytest.raises(InvalidInputError) as caught:
            certificate.ensure_certificate(api, want, check_mode=check_mode)
        assert caught.value.option == 'verification_certificate'
        assert 'without verification_certificate first' in caught.value.message
        assert 'upload' not in api.calls and 'verify' not in api.calls


def test_a_failure_after_a_write_reports_changed():
    want = desired(verified=True, private_key=key_pem(CA_KEY))
    api = FakeApi(want)

    def broken_code(name, etag):
        raise DpsTlsError('generating a verification code for certificate fleet-ca failed: HTTP 500')
    api.generate_code = broken_code
    with pytest.raises(DpsTlsError) as caught:
        certificate.ensure_certificate(api, want)
    assert caught.value.details.get('changed') is True
    # Nothing written before the failure: no changed flag.
    api = FakeApi(want)

    def broken_upload(name, body, etag=None):
        raise DpsTlsError('uploading certificate fleet-ca failed: HTTP 500')
    api.upload = broken_upload
    with pytest.raises(DpsTlsError) as caught:
        certificate.ensure_certificate(api, want)
    assert 'changed' not in caught.value.details


def test_a_wrong_subscription_fails_instead_of_reading_as_absent():
    from azure.core.exceptions import ResourceNotFoundError
    from azure.core.rest import HttpRequest
    from azure.mgmt.core.exceptions import ARMErrorFormat
    from ansible_collections.iotops.dps_tls.plugins.module_utils._azure import errors

    class Response:
        status_code, reason, content_type = 404, 'Not Found', 'application/json'
        headers = {'content-type': 'application/json'}
        request = HttpRequest('GET', 'https://arm.local/x')

        def text(self, encoding=None):
            return '{"error": {"code": "SubscriptionNotFound", "message": "not found"}}'

        def body(self):
            return self.text().encode()

    class Ops:
        def get(self, **kwargs):
            raise ResourceNotFoundError(response=Response(), error_format=ARMErrorFormat)

    class Client:
        dps_certificate = iot_dps_resource = Ops()
    api = certificate.DpsCertificates(Client(), errors.azure_errors, 'rg1', 'dps1')
    want = desired(state='absent')
    with pytest.raises(errors.AzureApiError) as caught:
        certificate.ensure_certificate(api, want)
    assert caught.value.details['option'] == 'subscription_id'
    with pytest.raises(errors.AzureApiError):
        api.instance_exists()
