# Copyright: iotops.dps_tls contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Compact JWS (JWT) signing and verification with RS256 and PS256, the algorithms Entra ID and MSAL use."""

import base64
import json
import time

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding


class TokenError(Exception):
    """A token that is malformed, badly signed or expired; `reason` says which."""

    def __init__(self, reason, message):
        super().__init__(message)
        self.reason = reason


def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def unb64url(text):
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _padding(alg):
    if alg == "RS256":
        return padding.PKCS1v15()
    if alg == "PS256":
        return padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=hashes.SHA256.digest_size)
    raise TokenError("malformed", "unsupported signing algorithm %r" % alg)


def encode(claims, key, headers=None, alg="RS256"):
    header = {"typ": "JWT", "alg": alg}
    header.update(headers or {})
    signing_input = "%s.%s" % (
        b64url(json.dumps(header, separators=(",", ":")).encode()),
        b64url(json.dumps(claims, separators=(",", ":")).encode()),
    )
    signature = key.sign(signing_input.encode("ascii"), _padding(alg), hashes.SHA256())
    return signing_input + "." + b64url(signature)


def peek(token):
    """Header and claims of a token, unverified (to choose how to verify it)."""
    try:
        header_b64, claims_b64, _sig = token.split(".")
        return json.loads(unb64url(header_b64)), json.loads(unb64url(claims_b64))
    except (ValueError, AttributeError) as exc:
        raise TokenError("malformed", "the token is not a well-formed JWT") from exc


def decode(token, public_key, leeway=60):
    """Verify signature and lifetime; return the claims."""
    header, claims = peek(token)
    signing_input, _sep, signature = token.rpartition(".")
    try:
        public_key.verify(unb64url(signature), signing_input.encode("ascii"), _padding(header.get("alg")),
                          hashes.SHA256())
    except (InvalidSignature, ValueError) as exc:
        raise TokenError("signature", "the token signature is invalid") from exc
    now = time.time()
    if "exp" not in claims or float(claims["exp"]) + leeway < now:
        raise TokenError("expired", "the token has expired")
    if float(claims.get("nbf", 0)) - leeway > now:
        raise TokenError("not_yet_valid", "the token is not valid yet")
    return claims
