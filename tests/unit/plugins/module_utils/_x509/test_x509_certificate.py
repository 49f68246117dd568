# Copyright: iotops.dps_tls contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What a certificate says: parsing, expiry, names, keys, CA and self-signed checks, with both backends."""

from __future__ import annotations

import datetime
import ssl

import pytest

from ansible_collections.iotops.dps_tls.plugins.module_utils._common.errors import (
    InvalidInputError, MissingDependencyError)
from ansible_collections.iotops.dps_tls.plugins.module_utils._trust.roots import BUILTIN_ROOTS
from ansible_collections.iotops.dps_tls.plugins.module_utils._x509 import certificate
from ansible_collections.iotops.dps_tls.plugins.module_utils._x509.pem import CertificateError

G2_DER = ssl.PEM_cert_to_DER_cert(BUILTIN_ROOTS["digicert_global_root_g2"].pem)


class OldCertificate(object):
    """What cryptography before 42 offers: naive datetimes, no *_utc properties."""

    def __init__(self, cert):
        self.not_valid_after = cert.not_valid_after_utc.replace(tzinfo=None)
        self.not_valid_before = cert.not_valid_before_utc.replace(tzinfo=None)


def test_pem_and_der_load_to_the_same_certificate(certs):
    assert certificate.load_certificate(certs["root"].pem) == certificate.load_certificate(certs["root"].der)
    with pytest.raises(CertificateError, match="does not parse"):
        certificate.load_certificate(b"\x30\x03\x02\x01\x00")


def test_expiry_is_aware_utc_with_and_without_the_utc_properties(certs):
    cert = certs["root"].cert
    for subject in (cert, OldCertificate(cert)):
        assert certificate.not_after(subject) == cert.not_valid_after_utc
        assert certificate.not_before(subject) == cert.not_valid_before_utc
        assert certificate.not_after(subject).tzinfo == datetime.timezone.utc


def test_names_keys_and_fingerprints_of_a_builtin_root():
    facts = certificate.describe(G2_DER)
    assert facts["subject"] == facts["issuer"] == "CN=DigiCert Global Root G2,OU=www.digicert.com,O=DigiCert Inc,C=US"
    assert (facts["key_type"], facts["key_bits"], facts["key_curve"]) == ("RSA", 2048, None)
    assert (facts["not_before"], facts["not_after"]) == ("2013-08-01T12:00:00Z", "2038-01-15T12:00:00Z")
    cert = certificate.load_certificate(G2_DER)
    assert certificate.fingerprints(cert)[1] == BUILTIN_ROOTS["digicert_global_root_g2"].sha256
    assert certificate.fingerprints(cert)[0] == "DF:3C:24:F9:BF:D6:66:76:1B:26:80:73:FE:06:D1:CC:8D:4F:82:A4"


@pytest.mark.parametrize("label, is_ca, self_signed", [
    ("root", True, True), ("intermediate", True, False), ("not_ca", False, True), ("no_constraints", False, True),
    ("forged", True, False)])
def test_ca_and_self_signed_with_cryptography_and_openssl(certs, monkeypatch, label, is_ca, self_signed):
    with_cryptography = certificate.inspect(certs[label].der)
    monkeypatch.setattr(certificate, "HAS_CRYPTOGRAPHY", False)
    with_openssl = certificate.inspect(certs[label].der)
    assert with_cryptography == with_openssl
    assert (with_openssl["is_ca"], with_openssl["self_signed"]) == (is_ca, self_signed)


def test_without_cryptography_reports_say_nothing_and_parsing_names_the_package(certs, monkeypatch):
    monkeypatch.setattr(certificate, "HAS_CRYPTOGRAPHY", False)
    assert certificate.describe(certs["root"].der)["subject"] is None
    with pytest.raises(MissingDependencyError, match="pip install cryptography"):
        certificate.load_certificate(certs["root"].der)


def test_issued_by_checks_name_and_signature(certs):
    root, intermediate = certs["root"].cert, certs["intermediate"].cert
    assert certificate.issued_by(intermediate, root)
    assert not certificate.issued_by(intermediate, certs["other"].cert)
    assert not certificate.issued_by(certs["forged"].cert, certs["forged"].cert)
    assert certificate.common_name(root) == "unit root"


@pytest.mark.parametrize("data, words", [
    (lambda c: c["root"].der, "this is a DER (binary or base64) certificate"),
    (lambda c: "hello", "not a PEM certificate"),
    (lambda c: c["root"].pem + c["other"].pem, "holds 2 certificates"),
    (lambda c: c["root"].pem + c["key_pem"], "holds a private key"),
    (lambda c: c["key_pem"], "holds a private key"),
    (lambda c: "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n", "not a valid X.509 certificate"),
])
def test_load_pem_certificate_names_the_option(certs, data, words):
    with pytest.raises(InvalidInputError) as caught:
        certificate.load_pem_certificate("certificate_path", data(certs))
    assert caught.value.option == "certificate_path" and words in caught.value.reason


def test_check_ca_refuses_a_leaf_and_warns_before_expiry(certs):
    root = certs["root"].cert
    now = root.not_valid_before_utc + datetime.timedelta(days=1)
    assert certificate.check_ca("certificate", root, now) == []
    soon = root.not_valid_after_utc - datetime.timedelta(days=10)
    assert "expires in 10 days" in certificate.check_ca("certificate", root, soon)[0]
    with pytest.raises(InvalidInputError, match="expired on"):
        certificate.check_ca("certificate", root, root.not_valid_after_utc + datetime.timedelta(seconds=1))
    with pytest.raises(InvalidInputError, match="not valid before"):
        certificate.check_ca("certificate", root, root.not_valid_before_utc - datetime.timedelta(days=1))
    with pytest.raises(InvalidInputError, match="not a CA certificate"):
        certificate.check_ca("certificate", certs["not_ca"].cert, now)
