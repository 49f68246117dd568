# Copyright: iotops.dps_tls contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The builtin roots are exactly the certificates DPS chains to: each PEM matches its pin, and each pin matches
the fingerprint published for it (copied here independently, so editing one constant alone fails)."""

from __future__ import annotations

import os
import ssl

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.x509.oid import NameOID

from ansible_collections.iotops.dps_tls.plugins.module_utils._trust.certificate import check_ca_certificate
from ansible_collections.iotops.dps_tls.plugins.module_utils._trust.roots import BUILTIN_ROOTS, DEFAULT_ROOTS
from ansible_collections.iotops.dps_tls.plugins.module_utils._x509 import certificate as x509_certificate

PUBLISHED = {
    "digicert_global_root_g2": ("DigiCert Global Root G2", "CB3CCBB76031E5E0138F8DD39A23F9DE47FFC35E43C1144CEA27D46A5AB1CB5F"),
    "microsoft_rsa_root_ca_2017": ("Microsoft RSA Root Certificate Authority 2017",
                                   "C741F70F4B2A8D88BF2E71C14122EF53EF10EBA0CFA5E64CFA20F418853073E0"),
    "digicert_global_root_g3": ("DigiCert Global Root G3", "31AD6648F8104138C738F39EA4320133393E3A18CC02296EF97C2AC9EF6731D0"),
    "microsoft_ecc_root_ca_2017": ("Microsoft ECC Root Certificate Authority 2017",
                                   "358DF39D764AF9E1B766E9C972DF352EE15CFAC227AF6AD1D70E8E4A6EDCBA02"),
}


def test_the_four_roots_are_carried():
    assert sorted(BUILTIN_ROOTS) == sorted(PUBLISHED)
    assert DEFAULT_ROOTS == ("digicert_global_root_g2", "microsoft_rsa_root_ca_2017")


@pytest.mark.parametrize("name", sorted(PUBLISHED))
def test_each_pem_matches_its_pin_and_the_published_fingerprint(name):
    root = BUILTIN_ROOTS[name]
    cert = x509.load_pem_x509_certificate(root.pem.encode())
    digest = cert.fingerprint(hashes.SHA256()).hex().upper()
    assert digest == PUBLISHED[name][1]
    assert root.sha256.replace(":", "") == PUBLISHED[name][1]
    assert cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == PUBLISHED[name][0] == root.subject
    assert root.pem.count("BEGIN CERTIFICATE") == 1 and root.pem.endswith("-----END CERTIFICATE-----\n")


@pytest.mark.parametrize("name", sorted(PUBLISHED))
def test_each_root_passes_every_check_the_module_makes(name):
    checked = check_ca_certificate(BUILTIN_ROOTS[name].pem, BUILTIN_ROOTS[name].sha256)
    assert checked.sha256 == BUILTIN_ROOTS[name].sha256
    assert checked.pem == BUILTIN_ROOTS[name].pem


@pytest.mark.parametrize("name", sorted(PUBLISHED))
@pytest.mark.parametrize("parser", ["cryptography", "openssl"])
def test_what_each_root_carries_is_what_it_says(monkeypatch, name, parser):
    """Runs take a builtin root's name and expiry from these constants instead of parsing it."""
    if parser == "openssl":
        monkeypatch.setattr(x509_certificate, "HAS_CRYPTOGRAPHY", False)
    root = BUILTIN_ROOTS[name]
    facts = x509_certificate.inspect(ssl.PEM_cert_to_DER_cert(root.pem))
    assert facts == {"is_ca": True, "self_signed": True, "subject": root.distinguished_name,
                     "issuer": root.distinguished_name, "not_after": root.not_after}


@pytest.mark.parametrize("name", sorted(PUBLISHED))
def test_the_role_carries_the_same_roots(name):
    """Windows hosts and the Java/IoT Edge/Node.js branches get the roots from the role's files."""
    role_file = os.path.join(os.path.dirname(__file__), *[".."] * 5, "roles", "root_ca_trust", "files", "roots",
                             name + ".pem")
    with open(role_file) as handle:
        assert handle.read() == BUILTIN_ROOTS[name].pem
