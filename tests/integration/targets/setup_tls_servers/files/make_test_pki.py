# Copyright: iotops.dps_tls contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Writes a throwaway test PKI into a directory: python make_test_pki.py DIR.

root -> intermediate -> leaves (RSA, ECDSA, expired, expiring, another name for SNI); an untrusted root with
its own leaf; a client CA with a device certificate (one key plain, one with a passphrase) and a rogue device.
Every leaf is valid for dps.test, localhost and 127.0.0.1. Files: NAME.key, NAME.crt, NAME.chain.pem.
"""

from __future__ import annotations

import datetime
import ipaddress
import os
import sys

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

NOW = datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0)
DAY = datetime.timedelta(days=1)
CLIENT_KEY_PASSPHRASE = b"device-key-passphrase"


def rsa_key():
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def issue(subject_cn, key, issuer=None, ca=False, not_before=None, not_after=None, names=None, client=False):
    """A certificate for key; self-signed when issuer is None, else issuer is (cert, key)."""
    name = x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, "iotops test"),
                      x509.NameAttribute(NameOID.COMMON_NAME, subject_cn)])
    issuer_cert, issuer_key = issuer if issuer else (None, key)
    builder = (x509.CertificateBuilder()
               .subject_name(name)
               .issuer_name(issuer_cert.subject if issuer_cert else name)
               .public_key(key.public_key())
               .serial_number(x509.random_serial_number())
               .not_valid_before(not_before or NOW - DAY)
               .not_valid_after(not_after or NOW + 365 * DAY)
               .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
               .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False))
    if issuer_cert is not None:
        builder = builder.add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer_key.public_key()), critical=False)
    if ca:
        builder = builder.add_extension(x509.KeyUsage(
            digital_signature=True, content_commitment=False, key_encipherment=False, data_encipherment=False,
            key_agreement=False, key_cert_sign=True, crl_sign=True, encipher_only=False, decipher_only=False),
            critical=True)
    else:
        usage = ExtendedKeyUsageOID.CLIENT_AUTH if client else ExtendedKeyUsageOID.SERVER_AUTH
        builder = builder.add_extension(x509.ExtendedKeyUsage([usage]), critical=False)
    if names:
        builder = builder.add_extension(x509.SubjectAlternativeName(names), critical=False)
    return builder.sign(issuer_key, hashes.SHA256())


def write(directory, name, cert, key, chain=(), passphrase=None):
    encryption = (serialization.BestAvailableEncryption(passphrase) if passphrase
                  else serialization.NoEncryption())
    with open(os.path.join(directory, name + ".key"), "wb") as handle:
        handle.write(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, encryption))
    pem = cert.public_bytes(serialization.Encoding.PEM)
    with open(os.path.join(directory, name + ".crt"), "wb") as handle:
        handle.write(pem)
    with open(os.path.join(directory, name + ".chain.pem"), "wb") as handle:
        handle.write(pem + b"".join(c.public_bytes(serialization.Encoding.PEM) for c in chain))


def main(directory):
    os.makedirs(directory, exist_ok=True)
    server_names = [x509.DNSName("dps.test"), x509.DNSName("localhost"),
                    x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]

    root_key = rsa_key()
    root = issue("iotops Test Root CA", root_key, ca=True, not_after=NOW + 3650 * DAY)
    write(directory, "root", root, root_key)
    inter_key = rsa_key()
    inter = issue("iotops Test Intermediate CA", inter_key, (root, root_key), ca=True, not_after=NOW + 1825 * DAY)
    write(directory, "intermediate", inter, inter_key, [root])

    leaves = {
        "leaf_rsa": (rsa_key(), {}),
        "leaf_ecdsa": (ec.generate_private_key(ec.SECP256R1()), {}),
        "leaf_expired": (rsa_key(), {"not_before": NOW - 400 * DAY, "not_after": NOW - 10 * DAY}),
        "leaf_expiring": (rsa_key(), {"not_after": NOW + 10 * DAY}),
    }
    for name, (key, validity) in leaves.items():
        cert = issue("dps.test", key, (inter, inter_key), names=server_names, **validity)
        write(directory, name, cert, key, [inter])
    other_key = rsa_key()
    other = issue("other.test", other_key, (inter, inter_key), names=[x509.DNSName("other.test")])
    write(directory, "leaf_other_name", other, other_key, [inter])

    untrusted_root_key = rsa_key()
    untrusted_root = issue("iotops Untrusted Root CA", untrusted_root_key, ca=True)
    write(directory, "untrusted_root", untrusted_root, untrusted_root_key)
    untrusted_leaf_key = rsa_key()
    untrusted_leaf = issue("dps.test", untrusted_leaf_key, (untrusted_root, untrusted_root_key), names=server_names)
    write(directory, "leaf_untrusted", untrusted_leaf, untrusted_leaf_key)

    client_ca_key = rsa_key()
    client_ca = issue("iotops Test Device CA", client_ca_key, ca=True)
    write(directory, "client_ca", client_ca, client_ca_key)
    device_key = rsa_key()
    device = issue("device-001", device_key, (client_ca, client_ca_key), client=True)
    write(directory, "client", device, device_key)
    write(directory, "client_encrypted", device, device_key, passphrase=CLIENT_KEY_PASSPHRASE)
    rogue_key = rsa_key()
    rogue = issue("rogue-device", rogue_key, (untrusted_root, untrusted_root_key), client=True)
    write(directory, "client_rogue", rogue, rogue_key)


if __name__ == "__main__":
    main(sys.argv[1])
