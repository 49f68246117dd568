# Copyright: iotops.dps_tls contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Proof of possession for a CA certificate: the short-lived certificate DPS asks for.

DPS hands out a verification code; the owner of the CA's private key proves it by signing a certificate whose
subject CN is that code. This builds that certificate with cryptography, so nobody has to hand-craft it.
"""

from __future__ import annotations

import datetime

from ansible_collections.iotops.dps_tls.plugins.module_utils._common.errors import InvalidInputError
from ansible_collections.iotops.dps_tls.plugins.module_utils._x509.certificate import common_name, issued_by

# The proof is checked once, right after it is made: a short life is enough and limits its use elsewhere.
PROOF_LIFETIME = datetime.timedelta(hours=1)
# Tolerates a service clock a little behind ours.
CLOCK_SKEW = datetime.timedelta(minutes=5)


def _hash_for(key):
    """The signature hash for the CA key (None for Ed25519/Ed448, which sign without one)."""
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ed448, ed25519
    if isinstance(key, (ed25519.Ed25519PrivateKey, ed448.Ed448PrivateKey)):
        return None
    return hashes.SHA256()


def verification_certificate(ca_certificate, ca_key, code, now=None):
    """A PEM certificate with CN=code, issued by ca_certificate's subject and signed by ca_key.

    It carries its own fresh key (the service only checks the subject and the signature), never the CA's.
    """
    from cryptography import x509
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    now = now or datetime.datetime.now(datetime.timezone.utc)
    leaf_key = ec.generate_private_key(ec.SECP256R1())
    builder = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, code)]))
        .issuer_name(ca_certificate.subject)
        .public_key(leaf_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - CLOCK_SKEW)
        .not_valid_after(now + PROOF_LIFETIME)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
    )
    cert = builder.sign(ca_key, _hash_for(ca_key))
    return cert.public_bytes(serialization.Encoding.PEM).decode('ascii')


def check_proof_signature(option, proof_cert, ca_cert):
    """A verification certificate made elsewhere must be signed by the CA's key; its CN is the code it proves
    (DPS checks that the CN is the code it issued)."""
    if not issued_by(proof_cert, ca_cert):
        raise InvalidInputError(option, 'not issued and signed by the CA certificate given in certificate')
    code = common_name(proof_cert)
    if not code:
        raise InvalidInputError(option, 'has no subject CN; its CN must be the verification code')
    return code
