# Copyright: iotops.dps_tls contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What a certificate chain says: names, fingerprints, expiry, key type, and which builtin root it ends in.

Names and key types need cryptography. Without it each certificate still gets its SHA-256 fingerprint (from
the DER bytes), the other fields are null, and the verdict says the certificates were not inspected.
"""

from __future__ import annotations

import datetime

try:
    from cryptography import x509
    from cryptography.hazmat.primitives.asymmetric import dsa, ec, ed448, ed25519, rsa
    HAS_CRYPTOGRAPHY = True
except ImportError:  # pragma: no cover - exercised on hosts without cryptography
    HAS_CRYPTOGRAPHY = False

from ansible_collections.iotops.dps_tls.plugins.module_utils._trust.certificate import normalize_sha256, sha256_of
from ansible_collections.iotops.dps_tls.plugins.module_utils._trust.roots import BUILTIN_ROOTS


def builtin_root_name(sha256):
    """'digicert_global_root_g2' when this fingerprint is one of the builtin roots, else None."""
    for root in BUILTIN_ROOTS.values():
        if root.sha256 == sha256:
            return root.name
    return None


def root_fingerprint(value):
    """A builtin root name or a SHA-256 fingerprint -> the fingerprint, or None if it is neither."""
    if value in BUILTIN_ROOTS:
        return BUILTIN_ROOTS[value].sha256
    return normalize_sha256(value)


def _utc(cert, name):
    value = getattr(cert, name + "_utc", None)  # cryptography >= 42
    if value is None:
        value = getattr(cert, name).replace(tzinfo=datetime.timezone.utc)
    return value


def _key(cert):
    key = cert.public_key()
    if isinstance(key, rsa.RSAPublicKey):
        return "RSA", key.key_size, None
    if isinstance(key, ec.EllipticCurvePublicKey):
        return "EC", key.curve.key_size, key.curve.name
    if isinstance(key, ed25519.Ed25519PublicKey):
        return "Ed25519", 256, None
    if isinstance(key, ed448.Ed448PublicKey):
        return "Ed448", 456, None
    if isinstance(key, dsa.DSAPublicKey):
        return "DSA", key.key_size, None
    return type(key).__name__, None, None


def _alt_names(cert):
    try:
        names = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        return []
    return ([str(n) for n in names.get_values_for_type(x509.DNSName)]
            + [str(n) for n in names.get_values_for_type(x509.IPAddress)])


def describe(der, sent_by_server=True):
    """One certificate_chain entry."""
    sha256 = sha256_of(der)
    entry = {
        "sha256": sha256, "subject": None, "issuer": None, "not_before": None, "not_after": None,
        "key_type": None, "key_bits": None, "key_curve": None,
        "subject_alt_names": [], "builtin_root": builtin_root_name(sha256), "sent_by_server": sent_by_server,
    }
    if not HAS_CRYPTOGRAPHY:
        return entry
    cert = x509.load_der_x509_certificate(der)
    key_type, key_bits, key_curve = _key(cert)
    entry.update({
        "subject": cert.subject.rfc4514_string(),
        "issuer": cert.issuer.rfc4514_string(),
        "not_before": _utc(cert, "not_valid_before").strftime("%Y-%m-%dT%H:%M:%SZ"),
        "not_after": _utc(cert, "not_valid_after").strftime("%Y-%m-%dT%H:%M:%SZ"),
        "key_type": key_type,
        "key_bits": key_bits,
        "key_curve": key_curve,
        "subject_alt_names": _alt_names(cert),
    })
    return entry


def describe_chain(verified_chain, unverified_chain):
    """The verified chain (leaf to trusted root) when there is one, else the chain as the server sent it."""
    sent = set(sha256_of(der) for der in unverified_chain)
    chain = verified_chain or unverified_chain
    return [describe(der, sent_by_server=sha256_of(der) in sent) for der in chain]


def days_left(not_after, now):
    """Whole days from now until an ISO 'not_after' (negative once expired)."""
    end = datetime.datetime.strptime(not_after, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=datetime.timezone.utc)
    return (end - now).total_seconds() / 86400.0
