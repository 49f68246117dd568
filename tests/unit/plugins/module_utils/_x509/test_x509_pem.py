# Copyright: iotops.dps_tls contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""PEM framing, private-key refusal and the one fingerprint format."""

from __future__ import annotations

import itertools
import re
import ssl

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from ansible_collections.iotops.dps_tls.plugins.module_utils._common.errors import InvalidInputError
from ansible_collections.iotops.dps_tls.plugins.module_utils._x509 import pem

G2 = "CB:3C:CB:B7:60:31:E5:E0:13:8F:8D:D3:9A:23:F9:DE:47:FF:C3:5E:43:C1:14:4C:EA:27:D4:6A:5A:B1:CB:5F"
RSA_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
EC_KEY = ec.generate_private_key(ec.SECP256R1())


def _key(key, form, encryption=None):
    return key.private_bytes(serialization.Encoding.PEM, form,
                             encryption or serialization.NoEncryption()).decode()


KEYS = {
    "PRIVATE KEY": _key(EC_KEY, serialization.PrivateFormat.PKCS8),
    "ENCRYPTED PRIVATE KEY": _key(EC_KEY, serialization.PrivateFormat.PKCS8,
                                  serialization.BestAvailableEncryption(b"unit-passphrase")),
    "RSA PRIVATE KEY": _key(RSA_KEY, serialization.PrivateFormat.TraditionalOpenSSL),
    "EC PRIVATE KEY": _key(EC_KEY, serialization.PrivateFormat.TraditionalOpenSSL),
    "OPENSSH PRIVATE KEY": _key(EC_KEY, serialization.PrivateFormat.OpenSSH),
}


@pytest.mark.parametrize("label", sorted(KEYS))
def test_every_kind_of_private_key_next_to_a_certificate_is_refused_by_option(certs, label):
    data = certs["root"].pem + KEYS[label]
    with pytest.raises(InvalidInputError) as caught:
        pem.refuse_private_keys("certificates[0].content", data)
    assert caught.value.option == "certificates[0].content"
    assert "holds a private key (a -----BEGIN %s----- block)" % label in caught.value.message
    body_line = KEYS[label].splitlines()[1]
    assert body_line not in caught.value.message and body_line not in repr(caught.value.details)
    # the exact block, as it appears in the argument, is what the module masks
    assert caught.value.__cause__.secret_values == [KEYS[label].rstrip("\n")]


def test_a_key_without_its_end_line_is_a_key_to_the_end_of_the_text(certs):
    cut = KEYS["RSA PRIVATE KEY"].split("-----END")[0]
    blocks, labels = pem.private_key_blocks(certs["root"].pem + cut)
    assert blocks == [cut] and labels == ["RSA PRIVATE KEY"]


def test_certificates_and_public_keys_are_no_private_keys(certs):
    public = EC_KEY.public_key().public_bytes(serialization.Encoding.PEM,
                                              serialization.PublicFormat.SubjectPublicKeyInfo).decode()
    pem.refuse_private_keys("ca_file", certs["root"].pem + public)
    assert pem.private_key_blocks(b"") == ([], [])


def test_the_one_certificate_of_a_text(certs):
    assert pem.single_certificate_der("comment\r\n" + certs["root"].pem.replace("\n", "\r\n")) == certs["root"].der
    with pytest.raises(pem.PrivateKeyFound):
        pem.single_certificate_der(certs["root"].pem + KEYS["EC PRIVATE KEY"])


def test_a_bundle_yields_every_readable_certificate(certs):
    damaged = "-----BEGIN CERTIFICATE-----\n!!!!\n-----END CERTIFICATE-----\n"
    text = certs["root"].pem + damaged + certs["other"].pem
    assert pem.certificate_ders(text) == [certs["root"].der, certs["other"].der]


# What pem_blocks replaced: the blocks it finds must stay exactly these.
PEM_BLOCK = re.compile(r"-----BEGIN ([A-Z0-9 ]+)-----\s*(.*?)\s*-----END \1-----", re.DOTALL)
PIECES = ["-----BEGIN CERTIFICATE-----", "-----END CERTIFICATE-----", "-----BEGIN TRUSTED CERTIFICATE-----",
          "-----END TRUSTED CERTIFICATE-----", "-----BEGIN X-----", "-----END X-----", "-----BEGIN ", "-----END ",
          "-----", "-", "AB", " ", "\n", "\r\n", "\u2003", "=", "x9"]


def test_pem_blocks_are_those_of_the_regular_expression(certs):
    bundle = "# comment\n" + certs["root"].pem + "\r\n" + certs["other"].pem.replace("\n", "\r\n") + KEYS["EC PRIVATE KEY"]
    texts = [bundle, bundle[:-40], bundle[100:], "-----BEGIN A-----BEGIN B-----x-----END B-----",
             "-----BEGIN CERTIFICATE-----\n-----BEGIN CERTIFICATE-----\nAA\n-----END CERTIFICATE-----"]
    texts += ["".join(combination) for combination in itertools.product(PIECES, repeat=3)]
    for text in texts:
        assert pem.pem_blocks(text) == PEM_BLOCK.findall(text), text
    assert pem.pem_blocks(bundle.encode()) == PEM_BLOCK.findall(bundle)


def test_certificate_pem_is_what_ssl_writes(certs):
    for der in (certs["root"].der, certs["other"].der, b"", b"x" * 48, b"x" * 49):
        assert pem.certificate_pem(der) == ssl.DER_cert_to_PEM_cert(der)


def test_fingerprints_are_colon_separated_upper_case_hex(certs):
    assert pem.sha256_of(certs["root"].der) == certs["root"].sha256
    assert len(pem.sha1_of(certs["root"].der)) == 59 and pem.sha1_of(b"").startswith("DA:39:A3")


@pytest.mark.parametrize("value", [G2, G2.lower(), G2.replace(":", ""), G2.replace(":", "").lower(), " %s\n" % G2])
def test_every_written_form_of_a_fingerprint_is_accepted(value):
    assert pem.normalize_sha256(value) == G2


@pytest.mark.parametrize("value", [G2[:-3], G2 + ":00", "zz" * 32, G2.replace(":", "", 1), None, 42,
                                   G2.replace(":", "") + "\nCB"])
def test_anything_else_is_not_a_fingerprint(value):
    assert pem.normalize_sha256(value) is None


def test_a_sha1_thumbprint_has_its_own_size():
    thumbprint = "da39a3ee5e6b4b0d3255bfef95601890afd80709"
    assert pem.normalize_fingerprint(thumbprint, pem.SHA1_SIZE) == pem.sha1_of(b"")
    assert pem.normalize_fingerprint(thumbprint) is None
