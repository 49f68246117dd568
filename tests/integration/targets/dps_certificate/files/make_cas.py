# Copyright: iotops.dps_tls contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Test CAs for dps_certificate: good, encrypted, soon expiring, and every kind of bad input.

Usage: python make_cas.py OUT_DIR
"""

import datetime
import os
import sys

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID

NOW = datetime.datetime.now(datetime.timezone.utc)
DAY = datetime.timedelta(days=1)


def ca(cn, key, not_before=NOW - DAY, not_after=NOW + 3650 * DAY, is_ca=True):
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])
    return (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(not_before).not_valid_after(not_after)
            .add_extension(x509.BasicConstraints(ca=is_ca, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))


def pem(cert):
    return cert.public_bytes(serialization.Encoding.PEM)


def key_pem(key, passphrase=None):
    encryption = (serialization.BestAvailableEncryption(passphrase.encode()) if passphrase
                  else serialization.NoEncryption())
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, encryption)


def main(out):
    os.makedirs(out, exist_ok=True)
    files = {}
    good_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    good = ca("Integration Root CA", good_key)
    files["ca.pem"], files["ca.key"] = pem(good), key_pem(good_key)
    files["ca-encrypted.key"] = key_pem(good_key, "correct horse")
    hsm_key = ec.generate_private_key(ec.SECP384R1())
    hsm = ca("HSM Root CA", hsm_key)
    files["hsm-ca.pem"], files["hsm-ca.key"] = pem(hsm), key_pem(hsm_key)
    other_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    files["other.key"] = key_pem(other_key)
    files["two.pem"] = pem(good) + pem(ca("Second CA", other_key))
    files["not-ca.pem"] = pem(ca("Leaf not a CA", other_key, is_ca=False))
    files["expired.pem"] = pem(ca("Expired CA", other_key, NOW - 400 * DAY, NOW - DAY))
    files["soon.pem"] = pem(ca("Soon Expiring CA", other_key, NOW - DAY, NOW + 10 * DAY))
    files["ca.der"] = good.public_bytes(serialization.Encoding.DER)
    files["not-pem.txt"] = b"this is not a certificate\n"
    for name, data in files.items():
        with open(os.path.join(out, name), "wb") as handle:
            handle.write(data)


if __name__ == "__main__":
    main(sys.argv[1])
