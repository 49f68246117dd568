# Copyright: iotops.dps_tls contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Writes the certificates the ca_trust tests need into a directory, plus their fingerprints as JSON."""

from __future__ import annotations

import datetime
import json
import os
import sys

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

NOW = datetime.datetime.now(datetime.timezone.utc)


def name(cn):
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])


def issue(subject, key, issuer=None, issuer_key=None, ca=True, days=3650, start=None, san=None):
    start = start or NOW - datetime.timedelta(days=1)
    builder = (x509.CertificateBuilder().subject_name(name(subject)).issuer_name(name(issuer or subject))
               .public_key(key.public_key()).serial_number(x509.random_serial_number())
               .not_valid_before(start).not_valid_after(start + datetime.timedelta(days=days)))
    if ca is not None:
        builder = builder.add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
    if san:
        builder = builder.add_extension(x509.SubjectAlternativeName([x509.DNSName(san)]), critical=False)
    return builder.sign(issuer_key or key, hashes.SHA256())


def main(out):
    os.makedirs(out, exist_ok=True)
    keys = {n: ec.generate_private_key(ec.SECP256R1()) for n in ("root", "other", "leaf", "plain", "old", "inter")}
    certs = {
        "test_root": issue("iotops test root", keys["root"]),
        "other_root": issue("iotops other root", keys["other"]),
        "not_ca": issue("iotops not a CA", keys["plain"], ca=False),
        "expired": issue("iotops expired root", keys["old"], start=NOW - datetime.timedelta(days=30), days=2),
        "intermediate": issue("iotops intermediate", keys["inter"], issuer="iotops test root", issuer_key=keys["root"]),
        "leaf": issue("device.test", keys["leaf"], issuer="iotops test root", issuer_key=keys["root"], ca=False,
                      san="device.test"),
    }
    fingerprints = {}
    for label, cert in certs.items():
        with open(os.path.join(out, label + ".pem"), "wb") as handle:
            handle.write(cert.public_bytes(serialization.Encoding.PEM))
        fingerprints[label] = cert.fingerprint(hashes.SHA256()).hex().upper()
    with open(os.path.join(out, "test_root.der"), "wb") as handle:
        handle.write(certs["test_root"].public_bytes(serialization.Encoding.DER))
    with open(os.path.join(out, "two_roots.pem"), "wb") as handle:
        handle.write(certs["test_root"].public_bytes(serialization.Encoding.PEM)
                     + certs["other_root"].public_bytes(serialization.Encoding.PEM))
    with open(os.path.join(out, "leaf.key"), "wb") as handle:
        handle.write(keys["leaf"].private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                                serialization.NoEncryption()))
    with open(os.path.join(out, "fingerprints.json"), "w") as handle:
        json.dump(fingerprints, handle, indent=1)


if __name__ == "__main__":
    main(sys.argv[1])
