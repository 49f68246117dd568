# Copyright: iotops.dps_tls contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Checks a CA certificate before it may go near a trust store, and reads fingerprints out of bundles.

The parsing is the X.509 toolkit's (_x509): PEM framing and fingerprints with the standard library only, the
X.509 checks with cryptography or, on devices without it, the openssl command. A builtin root is not parsed: what
it says is carried next to its pin (roots.py).
"""

from __future__ import annotations

import datetime
from collections import namedtuple

from ansible_collections.iotops.dps_tls.plugins.module_utils._trust.roots import BUILTIN_ROOTS
from ansible_collections.iotops.dps_tls.plugins.module_utils._x509.certificate import ISO_UTC, inspect
from ansible_collections.iotops.dps_tls.plugins.module_utils._x509.pem import (  # noqa: F401 pylint: disable=unused-import
    CertificateError, certificate_ders, certificate_pem, fingerprints_in, normalize_sha256, sha256_of,
    single_certificate_der)

# What the module knows about a checked certificate; pem is the canonical form it writes.
Certificate = namedtuple("Certificate", ["sha256", "subject", "not_after", "pem"])


single_pem_certificate = single_certificate_der


def check_ca_certificate(data, pin, now=None):
    """Every check a certificate must pass before it is written: one PEM certificate that parses, a CA,
    self-signed (it is installed as a root anchor), not expired, and its SHA-256 equal to the pin."""
    der = single_certificate_der(data)
    fingerprint = sha256_of(der)
    facts = _builtin_facts(fingerprint) or inspect(der)
    now = now or datetime.datetime.now(datetime.timezone.utc).replace(tzinfo=None)
    if not facts["is_ca"]:
        raise CertificateError("is not a CA certificate (basicConstraints CA:TRUE is missing): %s" % facts["subject"])
    if not facts["self_signed"]:
        raise CertificateError("is not a self-signed root (issuer %s, subject %s); install roots only"
                               % (facts["issuer"], facts["subject"]))
    if facts["not_after"] < now:
        raise CertificateError("expired on %s: %s" % (facts["not_after"].strftime("%Y-%m-%d"), facts["subject"]))
    if fingerprint != pin:
        raise CertificateError("has SHA-256 %s but the pin is %s (%s)" % (fingerprint, pin, facts["subject"]))
    return Certificate(sha256=fingerprint, subject=facts["subject"], not_after=facts["not_after"].strftime(ISO_UTC),
                       pem=certificate_pem(der))


def _builtin_facts(fingerprint):
    """What inspect() says of the builtin root with this SHA-256, else None. The DER hashed to it, so it is that very
    certificate, and its facts are known without parsing it: that spares a run on a device the import of
    cryptography (about 45 ms) or, without cryptography, two openssl commands per root."""
    for root in BUILTIN_ROOTS.values():
        if root.sha256 == fingerprint:
            return {"is_ca": True, "self_signed": True, "not_after": root.not_after,
                    "subject": root.distinguished_name, "issuer": root.distinguished_name}
    return None
