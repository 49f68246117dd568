# Copyright: iotops.dps_tls contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Who the emulator knows: its tenant, subscription, app registration and managed identity.

Everything is generated on first start and kept in the state dir, so a restart keeps credentials valid.
"""

import os
import secrets
import time
import uuid

from cryptography.hazmat.primitives import serialization

from dpsemu import pki, tokens
from dpsemu.store import read_json, write_atomically, write_json

FEDERATION_ISSUER = "https://dpsemu.invalid/federation"
FEDERATION_SUBJECT = "system:serviceaccount:dps-tls:automation"
FEDERATION_AUDIENCE = "api://AzureADTokenExchange"
FEDERATED_TOKEN_LIFETIME = 365 * 24 * 3600


class Identity:
    """The app registration and friends (app.json), the token signing key and the client credential files."""

    def __init__(self, state_dir, ca):
        self.state_dir = state_dir
        self.app_path = os.path.join(state_dir, "app.json")
        self.app = read_json(self.app_path) or {
            "tenant_id": str(uuid.uuid4()),
            "subscription_id": str(uuid.uuid4()),
            "client_id": str(uuid.uuid4()),
            "client_object_id": str(uuid.uuid4()),
            "client_secret": secrets.token_urlsafe(30),
            "managed_identity_client_id": str(uuid.uuid4()),
            "managed_identity_object_id": str(uuid.uuid4()),
            "managed_identity_header": secrets.token_urlsafe(24),
        }
        self.save()
        key_path = os.path.join(state_dir, "token-key.pem")
        if not os.path.exists(key_path):
            write_atomically(key_path, pki.key_pem(pki.new_rsa_key()))
        self.signing_key = pki.load_key(key_path)
        self.signing_kid = tokens.b64url(
            self.signing_key.public_key().public_bytes(
                serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
            )[-20:]
        )
        self.client_certificate_path, _key = pki.ensure_leaf(
            ca, state_dir, "client.pem", "client.pem", "dps-tls automation (%s)" % self.app["client_id"], server=False
        )
        self.client_public_key = pki.load_cert(self.client_certificate_path).public_key()
        self.federated_token_file = os.path.join(state_dir, "federated-token.jwt")
        self._ensure_federated_token()

    def __getattr__(self, name):
        try:
            return self.__dict__["app"][name]
        except KeyError as exc:
            raise AttributeError(name) from exc

    def save(self):
        write_json(self.app_path, self.app)

    def _ensure_federated_token(self):
        """A token like the one a CI system's OIDC issuer hands out, trusted by the app registration."""
        try:
            with open(self.federated_token_file, encoding="ascii") as handle:
                claims = tokens.decode(handle.read().strip(), self.signing_key.public_key(), leeway=0)
            if claims["exp"] - time.time() > 24 * 3600:
                return
        except (OSError, tokens.TokenError):
            pass
        now = int(time.time())
        token = tokens.encode(
            {"iss": FEDERATION_ISSUER, "sub": FEDERATION_SUBJECT, "aud": FEDERATION_AUDIENCE,
             "iat": now, "nbf": now, "exp": now + FEDERATED_TOKEN_LIFETIME, "jti": str(uuid.uuid4())},
            self.signing_key, headers={"kid": self.signing_kid},
        )
        write_atomically(self.federated_token_file, token)
