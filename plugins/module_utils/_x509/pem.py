# Copyright: iotops.dps_tls contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""PEM framing, private-key refusal and fingerprints, with the standard library only.

Devices often lack python3-cryptography, so everything that needs no X.509 parsing lives here.
Fingerprints are always upper-case hex bytes separated by colons (``CB:3C:...:5F``), the form
``openssl x509 -fingerprint`` prints; input is accepted with or without colons, in either case.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re

from ansible_collections.iotops.dps_tls.plugins.module_utils._common.errors import DpsTlsError, InvalidInputError

PEM_BEGIN = re.compile(r"-----BEGIN ([A-Z0-9 ]+)-----")
# Any private key: PKCS#8 (PRIVATE KEY, ENCRYPTED PRIVATE KEY), PKCS#1 (RSA), SEC1 (EC), DSA, OpenSSH.
# A block without its END line is a key all the same: it runs to the end of the text.
PRIVATE_KEY_BLOCK = re.compile(r"-----BEGIN ([A-Z0-9 ]*PRIVATE KEY)-----.*?(?:-----END \1-----|\Z)", re.DOTALL)
CERTIFICATE_LABELS = ("CERTIFICATE", "TRUSTED CERTIFICATE")
# More than any certificate bundle holds; what lies beyond is not read.
SHA256_SIZE = 32
SHA1_SIZE = 20


class CertificateError(DpsTlsError):
    """A certificate failed a check; the caller names the option it came from."""


class PrivateKeyFound(CertificateError):
    """Certificate data holds a private key. The key text stays out of the message and the details; it is kept in
    secret_values so that the module masks it in every output (the echoed arguments too)."""

    def __init__(self, blocks, labels):
        super().__init__("holds a private key (a -----BEGIN %s----- block), which is never accepted as a "
                         "certificate; give the certificate alone" % labels[0])
        self.secret_values = blocks


def as_bytes(value):
    return value if isinstance(value, bytes) else value.encode("utf-8")


def as_text(value):
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else value


def private_key_blocks(data):
    """(every private-key block's exact text, their labels) in a text or bytes value."""
    matches = list(PRIVATE_KEY_BLOCK.finditer(as_text(data or "")))
    return [match.group(0) for match in matches], [match.group(1) for match in matches]


def refuse_private_keys(option, data):
    """InvalidInputError naming option (caused by PrivateKeyFound) when data holds any private-key block."""
    try:
        check_no_private_key(data)
    except PrivateKeyFound as exc:
        raise InvalidInputError(option, exc.message) from exc


def check_no_private_key(data):
    """PrivateKeyFound when data holds any private-key block."""
    blocks, labels = private_key_blocks(data)
    if blocks:
        raise PrivateKeyFound(blocks, labels)


def pem_blocks(data):
    r"""[(label, base64 body)] of every PEM block in data: from a BEGIN line to the first END line of its label,
    the body stripped of the whitespace around it. The same as re.findall(r"-----BEGIN ([A-Z0-9 ]+)-----\s*(.*?)\s*
    -----END \1-----", text, re.DOTALL), searched with str.find instead: over a system bundle, which a module run on
    a device reads, that is fifteen times faster."""
    text = as_text(data)
    blocks = []
    position = 0
    while True:
        begin = PEM_BEGIN.search(text, position)
        if begin is None:
            return blocks
        end_line = "-----END %s-----" % begin.group(1)
        end = text.find(end_line, begin.end())
        if end < 0:
            # no END line for it: search on from the next character, as the regular expression would
            position = begin.start() + 1
            continue
        blocks.append((begin.group(1), text[begin.end():end].strip()))
        position = end + len(end_line)


def _decode_body(body):
    return base64.b64decode("".join(body.split()), validate=True)


def certificate_ders(data):
    """DER bytes of every certificate block in a PEM text (a bundle); unreadable blocks are skipped."""
    ders = []
    for label, body in pem_blocks(data):
        if label not in CERTIFICATE_LABELS:
            continue
        try:
            ders.append(_decode_body(body))
        except (binascii.Error, ValueError):
            continue
    return ders


def fingerprints_in(bundle):
    """SHA-256 fingerprints of the certificates in a bundle's bytes (none for a missing bundle)."""
    return [sha256_of(der) for der in certificate_ders(bundle.decode("ascii", "replace"))] if bundle else []


def single_certificate_der(data):
    """The DER of the one PEM certificate in data; PrivateKeyFound when data holds a key, else a
    CertificateError saying what is wrong."""
    check_no_private_key(data)
    if isinstance(data, bytes) and b"-----BEGIN" not in data:
        raise CertificateError("is not a PEM certificate (binary DER or other data: convert it with "
                               "`openssl x509 -inform der -outform pem`)")
    blocks = pem_blocks(data)
    if not blocks:
        raise CertificateError("contains no PEM certificate")
    labels = [label for label, dummy in blocks]
    if len(blocks) > 1:
        raise CertificateError("contains %d PEM blocks (%s); give exactly one certificate"
                               % (len(blocks), ", ".join(labels)))
    if labels[0] != "CERTIFICATE":
        raise CertificateError("contains a PEM %s, not a CERTIFICATE" % labels[0])
    try:
        return _decode_body(blocks[0][1])
    except (binascii.Error, ValueError):
        raise CertificateError("has a PEM block whose base64 body is damaged")


def certificate_pem(der):
    """The PEM text of a DER certificate, exactly as ssl.DER_cert_to_PEM_cert writes it (64 base64 characters a line,
    a newline at the end), without importing ssl: ca_trust runs on every device and needs nothing else from it."""
    body = base64.b64encode(der).decode("ascii")
    lines = [body[i:i + 64] for i in range(0, len(body), 64)]
    return "\n".join(["-----BEGIN CERTIFICATE-----"] + lines + ["-----END CERTIFICATE-----\n"])


def format_fingerprint(digest):
    """Raw digest bytes -> 'CB:3C:...' (the one form every result uses)."""
    return ":".join("%02X" % byte for byte in bytearray(digest))


def sha256_of(der):
    return format_fingerprint(hashlib.sha256(der).digest())


def sha1_of(der):
    """The SHA-1 thumbprint DPS names a certificate by (an identifier, not a security check)."""
    return format_fingerprint(hashlib.sha1(der).digest())  # nosec - DPS's identifier


def normalize_fingerprint(value, size=SHA256_SIZE):
    """'cb3ccbb7...', 'CB3C...' or 'cb:3c:...' -> 'CB:3C:...'; None when value is not size hex bytes."""
    if not isinstance(value, str):
        return None
    text = value.strip()
    pattern = r"[0-9A-Fa-f]{2}(?::[0-9A-Fa-f]{2}){%d}|[0-9A-Fa-f]{%d}" % (size - 1, size * 2)
    if not re.fullmatch(pattern, text):
        return None
    return format_fingerprint(binascii.unhexlify(text.replace(":", "")))


def normalize_sha256(value):
    return normalize_fingerprint(value, SHA256_SIZE)
