# Copyright: iotops.dps_tls contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A CA and a device certificate it issues, with plain and passphrase-protected keys.

Usage: python make_keys.py OUT_DIR  (passphrases from SECRET_CA_PASSPHRASE and SECRET_CLIENT_PASSPHRASE)
"""

import datetime
import os
import sys

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

NOW = datetime.datetime.now(datetime.timezone.utc)


def certificate(subject, issuer, public_key, signing_key, is_ca):
    return (x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)]))
            .issuer_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, issuer)]))
            .public_key(public_key).serial_number(x509.random_serial_number())
            .not_valid_before(NOW - datetime.timedelta(days=1)).not_valid_after(NOW + datetime.timedelta(days=30))
            .add_extension(x509.BasicConstraints(ca=is_ca, path_length=None), critical=True)
            .sign(signing_key, hashes.SHA256()))


def write(path, data):
    with open(path, "wb") as handle:
        handle.write(data)
    os.chmod(path, 0o600)


def key_pem(key, passphrase=None):
    encryption = (serialization.BestAvailableEncryption(passphrase.encode()) if passphrase
                  else serialization.NoEncryption())
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, encryption)


def main(out):
    ca_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    ca = certificate("Secrets Test CA", "Secrets Test CA", ca_key.public_key(), ca_key, True)
    device_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    device = certificate("secrets-device", "Secrets Test CA", device_key.public_key(), ca_key, False)
    write(os.path.join(out, "ca.pem"), ca.public_bytes(serialization.Encoding.PEM))
    write(os.path.join(out, "ca.key"), key_pem(ca_key))
    write(os.path.join(out, "ca-encrypted.key"), key_pem(ca_key, os.environ["SECRET_CA_PASSPHRASE"]))
    write(os.path.join(out, "device.pem"), device.public_bytes(serialization.Encoding.PEM))
    write(os.path.join(out, "device.key"), key_pem(device_key))
    write(os.path.join(out, "device-encrypted.key"), key_pem(device_key, os.environ["SECRET_CLIENT_PASSPHRASE"]))


if __name__ == "__main__":
    main(sys.argv[1])
