# Copyright: iotops.dps_tls contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What an X.509 certificate says, read with cryptography: the only place certificates are parsed.

Names are RFC 4514 strings (``CN=DigiCert Global Root G2,OU=www.digicert.com,O=DigiCert Inc,C=US``), times are
timezone-aware UTC, fingerprints come from pem.py. Modules that must work on devices without cryptography use
inspect(), which falls back to the openssl command.
"""

from __future__ import annotations

import base64
import binascii
import datetime
import types

from ansible_collections.iotops.dps_tls.plugins.module_utils._common.errors import (
    InvalidInputError, MissingDependencyError)
from ansible_collections.iotops.dps_tls.plugins.module_utils._x509 import openssl
from ansible_collections.iotops.dps_tls.plugins.module_utils._x509.pem import (
    CertificateError, as_bytes, pem_blocks, refuse_private_keys, sha1_of, sha256_of)

# Whether cryptography imports: None until a certificate must be parsed (see has_cryptography).
HAS_CRYPTOGRAPHY = None
_CRYPTOGRAPHY = None

EXPIRY_WARNING_DAYS = 30
ISO_UTC = "%Y-%m-%dT%H:%M:%SZ"


def _cryptography():
    """The parts of cryptography this module uses; ImportError when it is missing.

    Imported on first use, not with this module: the import takes about 45 ms, which every module run on a device
    would pay, even one that parses no certificate (a ca_trust rerun, a tls_readiness audit without pinned files).
    """
    global _CRYPTOGRAPHY
    if _CRYPTOGRAPHY is None:
        from cryptography import x509
        from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
        from cryptography.hazmat.backends import default_backend
        from cryptography.hazmat.primitives import serialization
        from cryptography.hazmat.primitives.asymmetric import dsa, ec, ed448, ed25519, padding, rsa
        _CRYPTOGRAPHY = types.SimpleNamespace(
            x509=x509, InvalidSignature=InvalidSignature, UnsupportedAlgorithm=UnsupportedAlgorithm,
            default_backend=default_backend, serialization=serialization,
            dsa=dsa, ec=ec, ed448=ed448, ed25519=ed25519, padding=padding, rsa=rsa)
    return _CRYPTOGRAPHY


def has_cryptography():
    """Whether cryptography imports; the first call imports it."""
    global HAS_CRYPTOGRAPHY
    if HAS_CRYPTOGRAPHY is None:
        try:
            _cryptography()
            HAS_CRYPTOGRAPHY = True
        except ImportError:  # pragma: no cover - exercised on devices without cryptography
            HAS_CRYPTOGRAPHY = False
    return HAS_CRYPTOGRAPHY


def require_cryptography(purpose):
    """cryptography's parts (see _cryptography); MissingDependencyError saying purpose when it is missing."""
    if not has_cryptography():
        raise MissingDependencyError("cryptography", purpose)
    return _cryptography()


def load_certificate(data):
    """A cryptography certificate from DER or PEM bytes; CertificateError when they are neither."""
    crypto = require_cryptography("to read X.509 certificates")
    data = as_bytes(data)
    try:
        if b"-----BEGIN" in data:
            return crypto.x509.load_pem_x509_certificate(data, crypto.default_backend())
        # an explicit backend keeps cryptography 2.x (Debian 10 devices) working
        return crypto.x509.load_der_x509_certificate(data, crypto.default_backend())
    except ValueError as exc:
        raise CertificateError("does not parse as an X.509 certificate (%s)" % exc)


def looks_like_der(value):
    """True when value (bytes, or text that carried binary bytes or base64) is a DER certificate."""
    candidates = [as_bytes(value)]
    if not isinstance(value, bytes):
        try:
            candidates.append(value.encode("latin-1"))
        except UnicodeEncodeError:
            pass
        try:
            candidates.append(base64.b64decode(value, validate=True))
        except (binascii.Error, ValueError):
            pass
    for candidate in candidates:
        try:
            load_certificate(candidate)
            return True
        except CertificateError:
            continue
    return False


def load_pem_certificate(option, data):
    """The one certificate in PEM data. InvalidInputError naming option when data holds a private key, is not
    PEM (DER is named as such), holds no certificate or several, or the certificate does not parse."""
    require_cryptography("to check certificates")
    refuse_private_keys(option, data)
    if b"-----BEGIN" not in as_bytes(data):
        if looks_like_der(data):
            raise InvalidInputError(option, "this is a DER (binary or base64) certificate, not PEM; convert it with "
                                            "openssl x509 -inform der -in cert.der -out cert.pem")
        raise InvalidInputError(option, "not a PEM certificate (no -----BEGIN CERTIFICATE----- block)")
    blocks = [body for label, body in pem_blocks(data) if label == "CERTIFICATE"]
    if not blocks:
        raise InvalidInputError(option, "no -----BEGIN CERTIFICATE----- block (another PEM type?)")
    if len(blocks) > 1:
        raise InvalidInputError(option, "holds %d certificates; give exactly one CA certificate" % len(blocks))
    try:
        return load_certificate(base64.b64decode("".join(blocks[0].split()), validate=True))
    except (binascii.Error, ValueError, CertificateError) as exc:
        raise InvalidInputError(option, "the PEM block is not a valid X.509 certificate (%s)"
                                % getattr(exc, "message", exc))


def _utc(cert, name):
    value = getattr(cert, name + "_utc", None)  # cryptography >= 42
    if value is None:
        value = getattr(cert, name).replace(tzinfo=datetime.timezone.utc)
    return value


def not_after(cert):
    return _utc(cert, "not_valid_after")


def not_before(cert):
    return _utc(cert, "not_valid_before")


def name_text(name):
    return name.rfc4514_string()


def der_of(cert):
    return cert.public_bytes(_cryptography().serialization.Encoding.DER)


def pem_of(cert):
    return cert.public_bytes(_cryptography().serialization.Encoding.PEM).decode("ascii")


def fingerprints(cert):
    """(SHA-1 thumbprint, SHA-256) of a certificate, both colon-separated upper-case hex."""
    der = der_of(cert)
    return sha1_of(der), sha256_of(der)


def is_ca(cert):
    x509 = _cryptography().x509
    try:
        return bool(cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca)
    except x509.ExtensionNotFound:
        return False


def signed_by_key(cert, key):
    """True when cert's signature verifies with key (a public key)."""
    crypto = _cryptography()
    try:
        if isinstance(key, crypto.rsa.RSAPublicKey):
            key.verify(cert.signature, cert.tbs_certificate_bytes, crypto.padding.PKCS1v15(),
                       cert.signature_hash_algorithm)
        elif isinstance(key, crypto.ec.EllipticCurvePublicKey):
            key.verify(cert.signature, cert.tbs_certificate_bytes, crypto.ec.ECDSA(cert.signature_hash_algorithm))
        else:
            key.verify(cert.signature, cert.tbs_certificate_bytes)
    except (crypto.InvalidSignature, crypto.UnsupportedAlgorithm, TypeError, ValueError):
        return False
    return True


def is_self_signed(cert):
    return cert.issuer == cert.subject and signed_by_key(cert, cert.public_key())


def issued_by(cert, issuer):
    """True when cert names issuer's subject as its issuer and carries issuer's signature."""
    return cert.issuer == issuer.subject and signed_by_key(cert, issuer.public_key())


def common_name(cert):
    names = cert.subject.get_attributes_for_oid(_cryptography().x509.oid.NameOID.COMMON_NAME)
    return names[0].value if names else None


def key_info(cert):
    """(key type, key bits, curve name or None) of the certificate's public key."""
    crypto = _cryptography()
    key = cert.public_key()
    if isinstance(key, crypto.rsa.RSAPublicKey):
        return "RSA", key.key_size, None
    if isinstance(key, crypto.ec.EllipticCurvePublicKey):
        return "EC", key.curve.key_size, key.curve.name
    if isinstance(key, crypto.ed25519.Ed25519PublicKey):
        return "Ed25519", 256, None
    if isinstance(key, crypto.ed448.Ed448PublicKey):
        return "Ed448", 456, None
    if isinstance(key, crypto.dsa.DSAPublicKey):
        return "DSA", key.key_size, None
    return type(key).__name__, None, None


def alt_names(cert):
    x509 = _cryptography().x509
    try:
        names = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        return []
    return ([str(n) for n in names.get_values_for_type(x509.DNSName)]
            + [str(n) for n in names.get_values_for_type(x509.IPAddress)])


def check_ca(option, cert, now):
    """Fail unless cert is a CA (basicConstraints CA:TRUE) valid now; a warning when it expires within 30 days."""
    if not is_ca(cert):
        raise InvalidInputError(option, "not a CA certificate (basicConstraints CA:TRUE is missing); DPS needs the "
                                        "root or intermediate CA that signs the device certificates")
    expiry = not_after(cert)
    if expiry <= now:
        raise InvalidInputError(option, "the certificate expired on %s" % expiry.isoformat())
    if not_before(cert) > now:
        raise InvalidInputError(option, "the certificate is not valid before %s" % not_before(cert).isoformat())
    days = (expiry - now).days
    if days < EXPIRY_WARNING_DAYS:
        return ["The CA certificate expires in %d days (%s): devices chaining to it will stop provisioning."
                % (days, expiry.isoformat())]
    return []


def inspect(der):
    """{is_ca, self_signed, not_after (naive UTC), subject, issuer} of a DER certificate; with the openssl
    command when cryptography is missing (devices)."""
    if not has_cryptography():
        return openssl.inspect(der)
    cert = load_certificate(der)
    return {"is_ca": is_ca(cert), "self_signed": is_self_signed(cert),
            "not_after": not_after(cert).replace(tzinfo=None), "subject": name_text(cert.subject),
            "issuer": name_text(cert.issuer)}


def describe(der):
    """Names, validity and key of a DER certificate, for reports (None for each when cryptography is missing)."""
    if not has_cryptography():
        return {"subject": None, "issuer": None, "not_before": None, "not_after": None,
                "key_type": None, "key_bits": None, "key_curve": None, "subject_alt_names": []}
    cert = load_certificate(der)
    key_type, key_bits, key_curve = key_info(cert)
    return {"subject": name_text(cert.subject), "issuer": name_text(cert.issuer),
            "not_before": not_before(cert).strftime(ISO_UTC), "not_after": not_after(cert).strftime(ISO_UTC),
            "key_type": key_type, "key_bits": key_bits, "key_curve": key_curve,
            "subject_alt_names": alt_names(cert)}
