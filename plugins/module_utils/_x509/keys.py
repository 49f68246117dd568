# Copyright: iotops.dps_tls contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Private keys given on purpose (to prove possession of a CA): load them and match them to a certificate."""

from __future__ import annotations

from ansible_collections.iotops.dps_tls.plugins.module_utils._common.errors import InvalidInputError
from ansible_collections.iotops.dps_tls.plugins.module_utils._x509.certificate import require_cryptography
from ansible_collections.iotops.dps_tls.plugins.module_utils._x509.pem import as_bytes

try:
    from cryptography.hazmat.primitives import serialization
except ImportError:  # pragma: no cover - require_cryptography says what to install
    serialization = None


def load_private_key(option, data, passphrase):
    """The private key in PEM data; InvalidInputError for a wrong or missing passphrase or an unreadable key."""
    require_cryptography("to prove possession of a CA certificate")
    data = as_bytes(data)
    password = as_bytes(passphrase) if passphrase else None
    try:
        return serialization.load_pem_private_key(data, password=password)
    except TypeError:
        if password is None:
            raise InvalidInputError("private_key_passphrase", "the private key is encrypted; give its passphrase")
        raise InvalidInputError("private_key_passphrase", "given, but the private key is not encrypted")
    except ValueError:
        if password is not None and b"ENCRYPTED" in data:
            raise InvalidInputError("private_key_passphrase", "does not open the private key (wrong passphrase)")
        raise InvalidInputError(option, "not a PEM private key")


def public_key_der(key):
    return key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)


def matches_certificate(key, cert):
    """True when the private key belongs to the certificate's public key."""
    return public_key_der(key.public_key()) == public_key_der(cert.public_key())
