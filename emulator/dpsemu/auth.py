# Copyright: iotops.dps_tls contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Entra ID stand-in: OpenID discovery, the v2.0 token endpoint, an App Service style managed identity
endpoint, and the bearer-token check ARM applies to every call."""

import time
import uuid

from dpsemu import identity as ids
from dpsemu import tokens
from dpsemu.server import ApiError, Response

TOKEN_LIFETIME = 3600
ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
MANAGED_IDENTITY_PATH = "/msi/token"
RESERVED_SCOPES = {"openid", "profile", "offline_access"}


class EntraError(Exception):
    """An error body shaped like Entra ID's (error, error_description with an AADSTS code, error_codes...)."""

    def __init__(self, status, error, aadsts, description):
        super().__init__(description)
        self.status = status
        self.body = {
            "error": error,
            "error_description": "AADSTS%d: %s Trace ID: %s" % (aadsts, description, uuid.uuid4()),
            "error_codes": [aadsts],
            "timestamp": time.strftime("%Y-%m-%d %H:%M:%SZ", time.gmtime()),
            "trace_id": str(uuid.uuid4()),
            "correlation_id": str(uuid.uuid4()),
        }


def _entra(handler):
    def wrapped(app, request, **groups):
        try:
            return handler(app, request, **groups)
        except EntraError as exc:
            return Response(exc.status, exc.body, {"Cache-Control": "no-store"})
    return wrapped


def _check_tenant(app, tenant):
    if tenant.lower() != app.identity.tenant_id:
        raise EntraError(400, "invalid_request", 90002, "Tenant '%s' not found." % tenant)


def access_token_lifetime(app):
    return int(app.config.get("access_token_lifetime", TOKEN_LIFETIME))


def issue_access_token(app, resource, object_id, client_id):
    now = int(time.time())
    claims = {
        "aud": resource,
        "iss": "%s/%s/v2.0" % (app.base_url, app.identity.tenant_id),
        "iat": now, "nbf": now, "exp": now + access_token_lifetime(app),
        "tid": app.identity.tenant_id, "oid": object_id, "sub": object_id,
        "azp": client_id, "appid": client_id, "idtyp": "app", "ver": "2.0",
    }
    return tokens.encode(claims, app.identity.signing_key, headers={"kid": app.identity.signing_kid})


def openid_configuration(app, _request, tenant):
    try:
        _check_tenant(app, tenant)
    except EntraError as exc:
        return Response(exc.status, exc.body)
    base = "%s/%s" % (app.base_url, app.identity.tenant_id)
    return Response(200, {
        "issuer": base + "/v2.0",
        "token_endpoint": base + "/oauth2/v2.0/token",
        "authorization_endpoint": base + "/oauth2/v2.0/authorize",
        "device_authorization_endpoint": base + "/oauth2/v2.0/devicecode",
        "jwks_uri": base + "/discovery/v2.0/keys",
        "token_endpoint_auth_methods_supported": ["client_secret_post", "private_key_jwt"],
        "id_token_signing_alg_values_supported": ["RS256"],
        "response_types_supported": ["code", "id_token", "token"],
        "subject_types_supported": ["pairwise"],
        "scopes_supported": ["openid", "profile", "email", "offline_access"],
        "tenant_region_scope": "EU",
    })


def jwks(app, _request, tenant):
    del tenant  # one signing key serves every tenant path, as in Entra
    numbers = app.identity.signing_key.public_key().public_numbers()

    def b64int(value):
        return tokens.b64url(value.to_bytes((value.bit_length() + 7) // 8, "big"))

    return Response(200, {"keys": [{"kty": "RSA", "use": "sig", "kid": app.identity.signing_kid,
                                    "n": b64int(numbers.n), "e": b64int(numbers.e)}]})


def _resource_from_scope(scope):
    scopes = [s for s in (scope or "").split() if s not in RESERVED_SCOPES]
    if not scopes:
        raise EntraError(400, "invalid_request", 900144,
                         "The request body must contain the following parameter: 'scope'.")
    if len(scopes) != 1 or not scopes[0].endswith("/.default"):
        raise EntraError(400, "invalid_scope", 1002012,
                         "The provided value for scope %s is not valid. Client credential flows must have a scope "
                         "value with /.default suffixed to the resource identifier (application ID URI)." % scope)
    return scopes[0][: -len("/.default")]


def _federated_credentials(app):
    """issuer -> subject of the federated credentials the app registration trusts: the fixed one of
    federated-token.jwt and the Azure DevOps service connection (pipelines.py)."""
    return {ids.FEDERATION_ISSUER: ids.FEDERATION_SUBJECT, app.pipelines.issuer: app.pipelines.subject}


def _verify_assertion(app, request, assertion):
    try:
        header, claims = tokens.peek(assertion)
    except tokens.TokenError as exc:
        raise EntraError(400, "invalid_request", 50027, "JWT token is invalid or malformed.") from exc
    federated = _federated_credentials(app)
    if claims.get("iss") in federated:
        key = app.identity.signing_key.public_key()
    elif header.get("alg") in ("RS256", "PS256"):
        key = app.identity.client_public_key
    else:
        raise EntraError(401, "invalid_client", 5002730, "Invalid JWT token. Unsupported key for the signing algorithm.")
    try:
        claims = tokens.decode(assertion, key, leeway=300)
    except tokens.TokenError as exc:
        if exc.reason == "expired":
            raise EntraError(400, "invalid_client", 700024,
                             "Client assertion is not within its valid time range.") from exc
        raise EntraError(401, "invalid_client", 700027,
                         "Client assertion failed signature validation.") from exc
    if claims.get("iss") in federated:
        if claims.get("aud") != ids.FEDERATION_AUDIENCE:
            raise EntraError(400, "invalid_request", 700212,
                             "No matching federated identity record found for presented assertion audience.")
        if claims.get("sub") != federated[claims["iss"]]:
            raise EntraError(400, "invalid_request", 700213,
                             "No matching federated identity record found for presented assertion subject.")
        return
    token_paths = {"%s/%s/oauth2/v2.0/token" % (base, app.identity.tenant_id)
                   for base in (app.base_url, "https://" + (request.headers.get("Host") or ""))}
    if claims.get("aud") not in token_paths:
        raise EntraError(401, "invalid_client", 700021,
                         "Client assertion audience claim does not match Realm issuer.")
    if claims.get("iss") != app.identity.client_id or claims.get("sub") != app.identity.client_id:
        raise EntraError(401, "invalid_client", 700023,
                         "Client assertion issuer and subject must be the client id.")


@_entra
def token(app, request, tenant):
    _check_tenant(app, tenant)
    form = request.form()
    if form.get("grant_type") != "client_credentials":
        raise EntraError(400, "unsupported_grant_type", 70003,
                         "The app requested an unsupported grant type '%s'." % form.get("grant_type"))
    if form.get("client_id", "").lower() != app.identity.client_id:
        raise EntraError(400, "unauthorized_client", 700016,
                         "Application with identifier '%s' was not found in the directory '%s'."
                         % (form.get("client_id"), tenant))
    resource = _resource_from_scope(form.get("scope"))
    if "client_assertion" in form:
        if form.get("client_assertion_type") != ASSERTION_TYPE:
            raise EntraError(400, "invalid_request", 70002, "The client_assertion_type is not supported.")
        _verify_assertion(app, request, form["client_assertion"])
    elif "client_secret" in form:
        if form["client_secret"] != app.identity.client_secret:
            raise EntraError(401, "invalid_client", 7000215, "Invalid client secret provided.")
    else:
        raise EntraError(401, "invalid_client", 7000218,
                         "The request body must contain the following parameter: 'client_assertion' or "
                         "'client_secret'.")
    access_token = issue_access_token(app, resource, app.identity.client_object_id, app.identity.client_id)
    expires_in = access_token_lifetime(app) - 1
    return Response(200, {"token_type": "Bearer", "expires_in": expires_in,
                          "ext_expires_in": expires_in, "access_token": access_token},
                    {"Cache-Control": "no-store", "Pragma": "no-cache"})


def managed_identity_token(app, request):
    """App Service (api-version 2019-08-01) style: GET ?resource=...&api-version=..., X-IDENTITY-HEADER."""
    if request.headers.get("X-IDENTITY-HEADER") != app.identity.managed_identity_header:
        return Response(401, {"statusCode": 401, "message": "The X-IDENTITY-HEADER is missing or wrong."})
    resource = request.query.get("resource", "")
    if resource.endswith("/.default"):
        resource = resource[: -len("/.default")]
    if not resource:
        return Response(400, {"statusCode": 400, "message": "The 'resource' query parameter is required."})
    client_id = request.query.get("client_id")
    if client_id and client_id != app.identity.managed_identity_client_id:
        return Response(400, {"statusCode": 400, "message": "No managed identity with client_id %s." % client_id})
    access_token = issue_access_token(app, resource, app.identity.managed_identity_object_id,
                                      app.identity.managed_identity_client_id)
    expires_on = int(time.time()) + access_token_lifetime(app)
    return Response(200, {"access_token": access_token, "expires_on": str(expires_on), "resource": resource,
                          "token_type": "Bearer", "client_id": app.identity.managed_identity_client_id})


def _unauthorized(app, code, message):
    challenge = ('Bearer authorization_uri="%s/%s", error="invalid_token", error_description="%s"'
                 % (app.base_url, app.identity.tenant_id, message.replace('"', "'")))
    return ApiError(401, code, message, {"WWW-Authenticate": challenge})


def require_arm_token(app, request):
    """What ARM checks before any resource provider sees the call: a bearer token signed by the
    directory, not expired, for this tenant and with ARM itself as the audience."""
    header = request.headers.get("Authorization") or ""
    if not header:
        raise _unauthorized(app, "AuthenticationFailed", "Authentication failed. The 'Authorization' header is missing.")
    scheme, _sep, value = header.partition(" ")
    if scheme.lower() != "bearer" or not value.strip():
        raise _unauthorized(app, "AuthenticationFailedInvalidHeader",
                            "Authentication failed. The 'Authorization' header is provided in an invalid format.")
    try:
        claims = tokens.decode(value.strip(), app.identity.signing_key.public_key(), leeway=0)
    except tokens.TokenError as exc:
        if exc.reason == "expired":
            raise _unauthorized(app, "ExpiredAuthenticationToken",
                                "The access token expiry UTC time is earlier than current UTC time.") from exc
        raise _unauthorized(app, "InvalidAuthenticationToken",
                            "The access token is invalid (%s)." % exc) from exc
    audience = str(claims.get("aud", ""))
    if audience.rstrip("/") != app.base_url:
        raise _unauthorized(app, "InvalidAuthenticationTokenAudience",
                            "The access token has been obtained for wrong audience or resource '%s'. It should "
                            "exactly match with one of the allowed audiences '%s', '%s/'."
                            % (audience, app.base_url, app.base_url))
    if claims.get("tid") != app.identity.tenant_id:
        raise _unauthorized(app, "InvalidAuthenticationTokenTenant",
                            "The access token is from the wrong issuer tenant '%s'." % claims.get("tid"))
    return claims


def register(router):
    tenant = r"/(?P<tenant>[^/]+)"
    router.add("GET", tenant + r"/v2\.0/\.well-known/openid-configuration", openid_configuration)
    router.add("GET", tenant + r"/discovery/v2\.0/keys", jwks)
    router.add("POST", tenant + r"/oauth2/v2\.0/token", token)
    router.add("GET", MANAGED_IDENTITY_PATH, managed_identity_token)
