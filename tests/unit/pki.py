# Copyright: iotops.dps_tls contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Certificates and keys made for the unit tests, and their PEM text."""

from __future__ import annotations

import datetime
import ipaddress

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from cryptography.x509.oid import NameOID

NOW = datetime.datetime.now(datetime.timezone.utc)
DAY = datetime.timedelta(days=1)


def certificate(cn, key=None, issuer=None, ca=True, not_before=None, not_after=None, san=False, key_type="ec"):
    """(certificate, key) for subject CN cn.

    key: a new EC P-256 key when None (RSA 2048 with key_type="rsa"). issuer: a (certificate, key) pair that signs,
    else self-signed. ca: basicConstraints CA true or false; None leaves basicConstraints out. Valid from not_before
    (default a day ago) to not_after (default ten years later). san: DNS dps.test and IP 127.0.0.1.
    """
    if key is None:
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048) if key_type == "rsa" \
            else ec.generate_private_key(ec.SECP256R1())
    not_before = not_before or NOW - DAY
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])
    issuer_cert, issuer_key = issuer or (None, key)
    builder = (x509.CertificateBuilder().subject_name(name)
               .issuer_name(issuer_cert.subject if issuer_cert else name)
               .public_key(key.public_key()).serial_number(x509.random_serial_number())
               .not_valid_before(not_before).not_valid_after(not_after or not_before + 3650 * DAY))
    if ca is not None:
        builder = builder.add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
    if san:
        builder = builder.add_extension(x509.SubjectAlternativeName(
            [x509.DNSName("dps.test"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
    digest = None if isinstance(issuer_key, ed25519.Ed25519PrivateKey) else hashes.SHA256()
    return builder.sign(issuer_key, digest), key


def pem(cert):
    return cert.public_bytes(serialization.Encoding.PEM).decode("ascii")


def key_pem(key, passphrase=None):
    encryption = (serialization.BestAvailableEncryption(passphrase.encode()) if passphrase
                  else serialization.NoEncryption())
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, encryption).decode("ascii")
