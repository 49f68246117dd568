# Copyright: iotops.dps_tls contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Certificate checks, with cryptography and with the openssl fallback devices use without it."""

from __future__ import annotations

import pytest

from ansible_collections.iotops.dps_tls.plugins.module_utils._common.errors import InvalidInputError
from ansible_collections.iotops.dps_tls.plugins.module_utils._trust.certificate import (
    CertificateError, check_ca_certificate, normalize_sha256)
from ansible_collections.iotops.dps_tls.plugins.module_utils._trust.store import fingerprints_in, load_certificate
from ansible_collections.iotops.dps_tls.plugins.module_utils._x509 import certificate


@pytest.fixture(params=["cryptography", "openssl"])
def backend(request, monkeypatch):
    if request.param == "openssl":
        monkeypatch.setattr(certificate, "HAS_CRYPTOGRAPHY", False)
    return request.param


def test_a_good_root_passes_and_is_written_canonically(certs, backend):
    messy = "Comment line\r\n" + certs["root"].pem.replace("\n", "\r\n")
    checked = check_ca_certificate(messy, certs["root"].sha256)
    assert checked.sha256 == certs["root"].sha256
    assert checked.pem == certs["root"].pem
    assert "unit root" in checked.subject


@pytest.mark.parametrize("label, words", [
    ("not_ca", "is not a CA certificate"),
    ("no_constraints", "is not a CA certificate"),
    ("expired", "expired on"),
    ("intermediate", "is not a self-signed root"),
    ("forged", "is not a self-signed root"),
])
def test_wrong_certificates_are_refused(certs, backend, label, words):
    with pytest.raises(CertificateError, match=words):
        check_ca_certificate(certs[label].pem, certs[label].sha256)


def test_a_wrong_pin_is_refused(certs, backend):
    with pytest.raises(CertificateError, match="but the pin is %s" % certs["other"].sha256):
        check_ca_certificate(certs["root"].pem, certs["other"].sha256)


@pytest.mark.parametrize("data, words", [
    (lambda c: c["root"].der, "not a PEM certificate"),
    (lambda c: c["root"].pem + c["other"].pem, "contains 2 PEM blocks"),
    (lambda c: c["key_pem"], "holds a private key"),
    (lambda c: c["root"].pem + c["key_pem"], "holds a private key"),
    (lambda c: "just text", "contains no PEM certificate"),
    (lambda c: "-----BEGIN CERTIFICATE-----\n!!!!\n-----END CERTIFICATE-----\n", "base64 body is damaged"),
    (lambda c: "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n", "does not parse"),
])
def test_malformed_input_is_refused(certs, backend, data, words):
    with pytest.raises(CertificateError, match=words):
        check_ca_certificate(data(certs), certs["root"].sha256)


@pytest.mark.parametrize("value, expected", [
    ("cb3ccbb76031e5e0138f8dd39a23f9de47ffc35e43c1144cea27d46a5ab1cb5f",
     "CB:3C:CB:B7:60:31:E5:E0:13:8F:8D:D3:9A:23:F9:DE:47:FF:C3:5E:43:C1:14:4C:EA:27:D4:6A:5A:B1:CB:5F"),
    (" CB:3C:CB:B7:60:31:E5:E0:13:8F:8D:D3:9A:23:F9:DE:47:FF:C3:5E:43:C1:14:4C:EA:27:D4:6A:5A:B1:CB:5F ",
     "CB:3C:CB:B7:60:31:E5:E0:13:8F:8D:D3:9A:23:F9:DE:47:FF:C3:5E:43:C1:14:4C:EA:27:D4:6A:5A:B1:CB:5F"),
    ("CB:3C", None),
    ("zz" * 32, None),
])
def test_pins_are_normalized(value, expected):
    assert normalize_sha256(value) == expected


def test_fingerprints_in_reads_every_certificate_of_a_bundle(certs):
    bundle = ("# comment\n" + certs["root"].pem + certs["other"].pem.rstrip("\n")).encode()
    assert fingerprints_in(bundle) == [certs["root"].sha256, certs["other"].sha256]
    assert fingerprints_in(None) == []


def test_a_root_with_its_key_is_refused_naming_the_entry(certs, tmp_path):
    src = tmp_path / "root-and-key.pem"
    src.write_text(certs["root"].pem + certs["key_pem"])
    for index, entry in enumerate([dict(name="a", content=certs["root"].pem + certs["key_pem"]),
                                   dict(name="b", src=str(src))]):
        entry["sha256"] = certs["root"].sha256.replace(":", "").lower()
        with pytest.raises(InvalidInputError) as caught:
            load_certificate(index, entry)
        option = "content" if "content" in entry else "src"
        assert caught.value.message.startswith("certificates[%d].%s: the certificate holds a private key"
                                               % (index, option))
        assert certs["key_pem"].splitlines()[2] not in caught.value.message
