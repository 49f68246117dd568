# Copyright: iotops.dps_tls contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What a certificate chain says: names, fingerprints, expiry, key type, and which builtin root it ends in.

Names and key types need cryptography. Without it each certificate still gets its SHA-256 fingerprint (from
the DER bytes), the other fields are null, and the verdict says the certificates were not inspected.
cryptography takes tens of milliseconds to import, so it is imported on first use: a probe does that while
its handshakes are in flight (load_parser).
"""

from __future__ import annotations

import datetime

from ansible_collections.iotops.dps_tls.plugins.module_utils._trust.roots import BUILTIN_ROOTS
from ansible_collections.iotops.dps_tls.plugins.module_utils._x509.pem import normalize_sha256, sha256_of


def load_parser():
    """The certificate parser (_x509.certificate), imported on first use."""
    from ansible_collections.iotops.dps_tls.plugins.module_utils._x509 import certificate
    return certificate


def builtin_root_name(sha256):
    """'digicert_global_root_g2' when this fingerprint (in any accepted form) is one of the builtin roots."""
    sha256 = normalize_sha256(sha256)
    for root in BUILTIN_ROOTS.values():
        if root.sha256 == sha256:
            return root.name
    return None


def root_fingerprint(value):
    """A builtin root name or a SHA-256 fingerprint -> the fingerprint, or None if it is neither."""
    if value in BUILTIN_ROOTS:
        return BUILTIN_ROOTS[value].sha256
    return normalize_sha256(value)


def describe(der, sent_by_server=True):
    """One certificate_chain entry."""
    sha256 = sha256_of(der)
    entry = {"sha256": sha256, "builtin_root": builtin_root_name(sha256), "sent_by_server": sent_by_server}
    entry.update(load_parser().describe(der))
    return entry


def describe_chain(verified_chain, unverified_chain):
    """The verified chain (leaf to trusted root) when there is one, else the chain as the server sent it."""
    sent = set(sha256_of(der) for der in unverified_chain)
    chain = verified_chain or unverified_chain
    return [describe(der, sent_by_server=sha256_of(der) in sent) for der in chain]


def days_left(not_after, now):
    """Whole days from now until an ISO 'not_after' (negative once expired)."""
    end = datetime.datetime.strptime(not_after, load_parser().ISO_UTC).replace(tzinfo=datetime.timezone.utc)
    return (end - now).total_seconds() / 86400.0
