# Copyright: iotops.dps_tls contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A device CA and a device certificate it issues (CN = registration id), as a fleet's PKI would make them.

Usage: python make_devices.py OUT_DIR CA_NAME[@ISSUER_CA] DEVICE_ID [DEVICE_ID...]
Writes OUT_DIR/CA_NAME.pem, CA_NAME.key and, per device, DEVICE_ID.pem (device + CA chain) and DEVICE_ID.key.
CA_NAME@ISSUER_CA makes CA_NAME an intermediate issued by the existing ISSUER_CA (the chain then holds both);
CA_NAME "self" makes each device certificate self-signed. An existing CA is reused, so more devices can be added.
"""

import datetime
import os
import sys

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

NOW = datetime.datetime.now(datetime.timezone.utc)


def _write(path, data):
    with open(path, "wb") as handle:
        handle.write(data)


def _key_pem(key):
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())


def load_or_make_ca(out, name, issuer=None):
    cert_path, key_path = os.path.join(out, name + ".pem"), os.path.join(out, name + ".key")
    if os.path.exists(cert_path):
        with open(cert_path, "rb") as cert, open(key_path, "rb") as key:
            return x509.load_pem_x509_certificate(cert.read()), serialization.load_pem_private_key(key.read(), None)
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    issuer_cert, issuer_key = issuer or (None, key)
    cert = (x509.CertificateBuilder().subject_name(subject)
            .issuer_name(issuer_cert.subject if issuer_cert else subject).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(NOW - datetime.timedelta(days=1))
            .not_valid_after(NOW + datetime.timedelta(days=3650))
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
            .sign(issuer_key, hashes.SHA256()))
    _write(cert_path, cert.public_bytes(serialization.Encoding.PEM))
    _write(key_path, _key_pem(key))
    return cert, key


def make_device(out, ca, ca_key, device_id, chain):
    key = ec.generate_private_key(ec.SECP256R1())
    if ca is None:  # self-signed: an individual enrollment holds exactly this certificate
        ca_key = key
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, device_id)])
    cert = (x509.CertificateBuilder().subject_name(subject)
            .issuer_name(ca.subject if ca else subject).public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(NOW - datetime.timedelta(days=1)).not_valid_after(NOW + datetime.timedelta(days=365))
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CLIENT_AUTH]), critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
            .sign(ca_key, hashes.SHA256()))
    _write(os.path.join(out, device_id + ".pem"),
           b"".join(item.public_bytes(serialization.Encoding.PEM) for item in [cert] + chain))
    _write(os.path.join(out, device_id + ".key"), _key_pem(key))


def main(out, ca_name, *device_ids):
    os.makedirs(out, exist_ok=True)
    ca, ca_key, chain = None, None, []
    if ca_name != "self":
        name, _sep, issuer_name = ca_name.partition("@")
        issuer = load_or_make_ca(out, issuer_name) if issuer_name else None
        ca, ca_key = load_or_make_ca(out, name, issuer)
        chain = [ca] + ([issuer[0]] if issuer else [])
    for device_id in device_ids:
        make_device(out, ca, ca_key, device_id, chain)


if __name__ == "__main__":
    main(*sys.argv[1:])
