# Copyright: iotops.dps_tls contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Checks a CA certificate before it may go near a trust store, and reads fingerprints out of bundles.

PEM framing and fingerprints need only the standard library. The X.509 checks (CA, self-signed, expiry)
use cryptography when it is importable; devices often lack python3-cryptography but always have the
openssl command that their trust-store tools call, so that is the fallback.
"""

from __future__ import annotations

import base64
import binascii
import datetime
import hashlib
import os
import re
import ssl
import subprocess
import tempfile
from collections import namedtuple

try:
    from cryptography import x509
    from cryptography.hazmat.backends import default_backend
    from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
    from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
    HAS_CRYPTOGRAPHY = True
except ImportError:  # pragma: no cover - exercised on devices without cryptography
    HAS_CRYPTOGRAPHY = False

from ansible_collections.iotops.dps_tls.plugins.module_utils._common.errors import DpsTlsError

PEM_BLOCK = re.compile(r"-----BEGIN ([A-Z0-9 ]+)-----\s*(.*?)\s*-----END \1-----", re.DOTALL)
SHA256_PIN = re.compile(r"^[0-9A-Fa-f]{2}(:?[0-9A-Fa-f]{2}){31}$")

# What the module knows about a checked certificate; pem is the canonical form it writes.
Certificate = namedtuple("Certificate", ["sha256", "subject", "not_after", "pem"])


class CertificateError(DpsTlsError):
    """A certificate failed a check; the caller names the option it came from."""


def normalize_sha256(value):
    """'cb3ccbb7...' or 'CB:3C:...' -> 'CB:3C:...' (the form openssl and the DPS docs print)."""
    text = value.strip()
    if not SHA256_PIN.match(text):
        return None
    digits = text.replace(":", "").upper()
    return ":".join(digits[i:i + 2] for i in range(0, len(digits), 2))


def sha256_of(der):
    digest = hashlib.sha256(der).hexdigest().upper()
    return ":".join(digest[i:i + 2] for i in range(0, len(digest), 2))


def pem_certificates(text):
    """DER bytes of every CERTIFICATE block in a PEM text (a bundle); unreadable blocks are skipped."""
    ders = []
    for label, body in PEM_BLOCK.findall(text):
        if label not in ("CERTIFICATE", "TRUSTED CERTIFICATE"):
            continue
        try:
            ders.append(base64.b64decode("".join(body.split()), validate=True))
        except (binascii.Error, ValueError):
            continue
    return ders


def bundle_fingerprints(path):
    """SHA-256 fingerprints of the certificates in a bundle file; None when there is no bundle."""
    try:
        with open(path, "rb") as handle:
            text = handle.read().decode("ascii", "replace")
    except (IOError, OSError):
        return None
    return [sha256_of(der) for der in pem_certificates(text)]


def single_pem_certificate(data):
    """The DER of the one PEM certificate in data, or a CertificateError saying what is wrong."""
    if isinstance(data, bytes):
        if b"-----BEGIN" not in data:
            raise CertificateError("is not a PEM certificate (binary DER or other data: convert it with "
                                   "`openssl x509 -inform der -outform pem`)")
        data = data.decode("ascii", "replace")
    blocks = PEM_BLOCK.findall(data)
    if not blocks:
        raise CertificateError("contains no PEM certificate")
    labels = [label for label, dummy in blocks]
    if len(blocks) > 1:
        raise CertificateError("contains %d PEM blocks (%s); give exactly one certificate per entry"
                               % (len(blocks), ", ".join(labels)))
    if labels[0] != "CERTIFICATE":
        raise CertificateError("contains a PEM %s, not a CERTIFICATE" % labels[0])
    try:
        return base64.b64decode("".join(blocks[0][1].split()), validate=True)
    except (binascii.Error, ValueError):
        raise CertificateError("has a PEM block whose base64 body is damaged")


def check_ca_certificate(data, pin, now=None):
    """Every check a certificate must pass before it is written: one PEM certificate that parses, a CA,
    self-signed (it is installed as a root anchor), not expired, and its SHA-256 equal to the pin."""
    der = single_pem_certificate(data)
    facts = _inspect(der)
    now = now or datetime.datetime.now(datetime.timezone.utc).replace(tzinfo=None)
    if not facts["is_ca"]:
        raise CertificateError("is not a CA certificate (basicConstraints CA:TRUE is missing): %s" % facts["subject"])
    if not facts["self_signed"]:
        raise CertificateError("is not a self-signed root (issuer %s, subject %s); install roots only"
                               % (facts["issuer"], facts["subject"]))
    if facts["not_after"] < now:
        raise CertificateError("expired on %s: %s" % (facts["not_after"].strftime("%Y-%m-%d"), facts["subject"]))
    fingerprint = sha256_of(der)
    if fingerprint != pin:
        raise CertificateError("has SHA-256 %s but the pin is %s (%s)" % (fingerprint, pin, facts["subject"]))
    return Certificate(sha256=fingerprint, subject=facts["subject"],
                       not_after=facts["not_after"].strftime("%Y-%m-%dT%H:%M:%SZ"),
                       pem=ssl.DER_cert_to_PEM_cert(der))


def _inspect(der):
    if HAS_CRYPTOGRAPHY:
        return _inspect_with_cryptography(der)
    return _inspect_with_openssl(der)


def _inspect_with_cryptography(der):
    try:
        # an explicit backend keeps cryptography 2.x (Debian 10 devices) working
        cert = x509.load_der_x509_certificate(der, default_backend())
    except ValueError as exc:
        raise CertificateError("does not parse as an X.509 certificate (%s)" % exc)
    try:
        is_ca = cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    except x509.ExtensionNotFound:
        is_ca = False
    not_after = getattr(cert, "not_valid_after_utc", None)
    not_after = not_after.replace(tzinfo=None) if not_after else cert.not_valid_after
    return {"is_ca": is_ca, "self_signed": cert.issuer == cert.subject and _signed_by_own_key(cert),
            "not_after": not_after, "subject": cert.subject.rfc4514_string(),
            "issuer": cert.issuer.rfc4514_string()}


def _signed_by_own_key(cert):
    key = cert.public_key()
    try:
        if isinstance(key, rsa.RSAPublicKey):
            key.verify(cert.signature, cert.tbs_certificate_bytes, padding.PKCS1v15(), cert.signature_hash_algorithm)
        elif isinstance(key, ec.EllipticCurvePublicKey):
            key.verify(cert.signature, cert.tbs_certificate_bytes, ec.ECDSA(cert.signature_hash_algorithm))
        else:
            key.verify(cert.signature, cert.tbs_certificate_bytes)
    except (InvalidSignature, UnsupportedAlgorithm, TypeError, ValueError):  # not signed by its own key
        return False
    return True


def _inspect_with_openssl(der, openssl="openssl"):
    """The same facts from the openssl command, for devices without python3-cryptography."""
    fd, path = tempfile.mkstemp(suffix=".pem")
    try:
        with os.fdopen(fd, "w") as handle:
            handle.write(ssl.DER_cert_to_PEM_cert(der))
        info = _openssl([openssl, "x509", "-in", path, "-noout", "-subject", "-issuer", "-enddate",
                         "-nameopt", "RFC2253", "-ext", "basicConstraints"])
        if info is None:
            raise CertificateError("does not parse as an X.509 certificate (openssl x509 rejected it)")
        # verify against itself alone, checking its own signature: true only for a genuine self-signed cert
        verified = _openssl([openssl, "verify", "-check_ss_sig", "-no_check_time", "-CAfile", path, path])
    finally:
        os.unlink(path)
    fields = dict(line.split("=", 1) for line in info.splitlines() if "=" in line and not line.startswith(" "))
    subject = fields.get("subject", "").strip()
    issuer = fields.get("issuer", "").strip()
    not_after = datetime.datetime.strptime(fields["notAfter"].strip(), "%b %d %H:%M:%S %Y %Z")
    return {"is_ca": bool(re.search(r"CA:TRUE", info)), "self_signed": subject == issuer and verified is not None,
            "not_after": not_after, "subject": subject, "issuer": issuer}


def _openssl(argv):
    # no default store: only the file given may vouch for the certificate (works on OpenSSL 1.1 and 3)
    env = dict(os.environ, SSL_CERT_FILE=os.devnull, SSL_CERT_DIR=os.devnull)
    try:
        proc = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, check=False, env=env)
    except OSError as exc:
        raise DpsTlsError("Checking certificates needs the Python package cryptography or the openssl command, "
                          "and neither is available (%s)" % exc, missing_package="cryptography")
    if proc.returncode != 0:
        return None
    return proc.stdout.decode("utf-8", "replace")
