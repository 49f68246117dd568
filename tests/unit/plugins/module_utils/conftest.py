# Copyright: iotops.dps_tls contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Certificates made fresh for each test session: a root, a leaf, and every kind of wrong certificate."""

from __future__ import annotations

import datetime

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

NOW = datetime.datetime.now(datetime.timezone.utc)


def _issue(subject, key, issuer=None, issuer_key=None, ca=True, start=None, days=3650):
    start = start or NOW - datetime.timedelta(days=1)
    builder = (x509.CertificateBuilder()
               .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)]))
               .issuer_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, issuer or subject)]))
               .public_key(key.public_key()).serial_number(x509.random_serial_number())
               .not_valid_before(start).not_valid_after(start + datetime.timedelta(days=days)))
    if ca is not None:
        builder = builder.add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
    return builder.sign(issuer_key or key, hashes.SHA256())


class Made(object):
    def __init__(self, cert):
        self.cert = cert
        self.pem = cert.public_bytes(serialization.Encoding.PEM).decode()
        self.der = cert.public_bytes(serialization.Encoding.DER)
        self.sha256 = ":".join("%02X" % b for b in cert.fingerprint(hashes.SHA256()))


@pytest.fixture(scope="session")
def certs():
    keys = [ec.generate_private_key(ec.SECP256R1()) for dummy in range(6)]
    made = {
        "root": Made(_issue("unit root", keys[0])),
        "other": Made(_issue("unit other root", keys[1])),
        "not_ca": Made(_issue("unit not a CA", keys[2], ca=False)),
        "no_constraints": Made(_issue("unit no constraints", keys[3], ca=None)),
        "expired": Made(_issue("unit expired", keys[4], start=NOW - datetime.timedelta(days=10), days=2)),
        "intermediate": Made(_issue("unit intermediate", keys[5], issuer="unit root", issuer_key=keys[0])),
        # claims to be self-signed (issuer == subject) but is signed by another key
        "forged": Made(_issue("unit forged", keys[5], issuer_key=keys[0])),
    }
    made["key_pem"] = keys[0].private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                            serialization.NoEncryption()).decode()
    return made
