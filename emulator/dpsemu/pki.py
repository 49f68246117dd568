# Copyright: iotops.dps_tls contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The emulator's own CA and the certificates it issues (HTTPS server, app registration client)."""

import datetime
import ipaddress
import os

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from dpsemu.store import write_atomically

SERVER_NAMES = ("localhost", "127.0.0.1", "::1")


def new_rsa_key(bits=2048):
    return rsa.generate_private_key(public_exponent=65537, key_size=bits)


def key_pem(key):
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode("ascii")


def cert_pem(cert):
    return cert.public_bytes(serialization.Encoding.PEM).decode("ascii")


def load_key(path):
    with open(path, "rb") as handle:
        return serialization.load_pem_private_key(handle.read(), password=None)


def load_cert(path):
    with open(path, "rb") as handle:
        return x509.load_pem_x509_certificate(handle.read())


def _name(common_name):
    return x509.Name([
        x509.NameAttribute(NameOID.ORGANIZATION_NAME, "iotops.dps_tls emulator"),
        x509.NameAttribute(NameOID.COMMON_NAME, common_name),
    ])


def _builder(subject, issuer, public_key, days):
    now = datetime.datetime.now(datetime.timezone.utc)
    return (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer)
        .public_key(public_key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=days))
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public_key), critical=False)
    )


def _san(names):
    entries = []
    for name in names:
        try:
            entries.append(x509.IPAddress(ipaddress.ip_address(name)))
        except ValueError:
            entries.append(x509.DNSName(name))
    return x509.SubjectAlternativeName(entries)


class CertificateAuthority:
    """A CA kept in the state dir (ca.pem, ca-key.pem) that signs everything the emulator serves."""

    def __init__(self, key, cert):
        self.key = key
        self.cert = cert

    @classmethod
    def load_or_create(cls, state_dir):
        cert_path = os.path.join(state_dir, "ca.pem")
        key_path = os.path.join(state_dir, "ca-key.pem")
        if os.path.exists(cert_path) and os.path.exists(key_path):
            return cls(load_key(key_path), load_cert(cert_path))
        key = new_rsa_key()
        subject = _name("iotops.dps_tls emulator CA")
        cert = (
            _builder(subject, subject, key.public_key(), days=3650)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .add_extension(
                x509.KeyUsage(
                    digital_signature=True, content_commitment=False, key_encipherment=False,
                    data_encipherment=False, key_agreement=False, key_cert_sign=True, crl_sign=True,
                    encipher_only=False, decipher_only=False,
                ),
                critical=True,
            )
            .sign(key, hashes.SHA256())
        )
        write_atomically(key_path, key_pem(key))
        write_atomically(cert_path, cert_pem(cert), mode=0o644)
        return cls(key, cert)

    def issue(self, common_name, key, names=(), server=True, days=825):
        """Sign a leaf certificate for key: a TLS server (with SAN names) or a TLS client."""
        usage = ExtendedKeyUsageOID.SERVER_AUTH if server else ExtendedKeyUsageOID.CLIENT_AUTH
        builder = (
            _builder(_name(common_name), self.cert.subject, key.public_key(), days)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.ExtendedKeyUsage([usage]), critical=False)
            .add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_public_key(self.cert.public_key()), critical=False
            )
        )
        if names:
            builder = builder.add_extension(_san(names), critical=False)
        return builder.sign(self.key, hashes.SHA256())


def ensure_leaf(ca, state_dir, cert_name, key_name, common_name, names=(), server=True):
    """Return (cert_path, key_path) of a leaf the CA issued, creating it on first use.

    A combined PEM (certificate then key) is written when cert_name == key_name.
    """
    cert_path = os.path.join(state_dir, cert_name)
    key_path = os.path.join(state_dir, key_name)
    if os.path.exists(cert_path) and os.path.exists(key_path):
        return cert_path, key_path
    key = new_rsa_key()
    cert = ca.issue(common_name, key, names=names, server=server)
    if cert_path == key_path:
        write_atomically(cert_path, cert_pem(cert) + key_pem(key))
    else:
        write_atomically(key_path, key_pem(key))
        write_atomically(cert_path, cert_pem(cert), mode=0o644)
    return cert_path, key_path
