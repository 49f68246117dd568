# Copyright: iotops.dps_tls contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The DPS service API (data plane) of every instance, and ARM's listKeys for its shared access policy.

Real DPS serves it at https://{serviceOperationsHostName}; the emulator serves the instance whose
serviceOperationsHostName is HOST under https://127.0.0.1:PORT/dps/HOST (one listener, no DNS needed).
Calls are authenticated by an Entra token for https://azure-devices-provisioning.net or a SharedAccessSignature
made with a key from listKeys; publicNetworkAccess and IP filter rules (target all or serviceApi) apply.
"""

import base64
import hashlib
import hmac
import re
import secrets
import time
import urllib.parse
import uuid

from dpsemu import arm, enrollments, tokens
from dpsemu.enrollments import ServiceError
from dpsemu.server import ApiError, Response

PREFIX = r"/dps/(?P<host>[^/]+)"
SERVICE_DOMAIN = ".azure-devices-provisioning.net"
AUDIENCE = "https://azure-devices-provisioning.net"
API_VERSION_RE = re.compile(r"\d{4}-\d{2}-\d{2}(-preview)?")
OWNER_POLICY = "provisioningserviceowner"
OWNER_RIGHTS = "ServiceConfig, DeviceConnect, EnrollmentRead, EnrollmentWrite, RegistrationStatusRead, " \
               "RegistrationStatusWrite"
NOT_FOUND = {enrollments.GROUPS: 404203, enrollments.INDIVIDUAL: 404202, enrollments.REGISTRATIONS: 404201}
PAGE_SIZE = 100


def client_address(app):
    """The address the emulator sees callers at: it listens on loopback only, so the loopback of its family."""
    return "::1" if ":" in app.host else "127.0.0.1"


def error_response(exc):
    body = {"errorCode": exc.error_code, "trackingId": str(uuid.uuid4()), "message": exc.message,
            "timestampUtc": enrollments.now_utc()}
    return Response(exc.status, body, {"x-ms-error-code": str(exc.error_code)})


def _instance(app, host):
    arm.settle(app)
    name = host.lower()[:-len(SERVICE_DOMAIN)] if host.lower().endswith(SERVICE_DOMAIN) else None
    for instance in app.store.section(arm.SERVICES).values():
        if name and instance["name"].lower() == name and instance.get("state") == "Active":
            return instance
    raise ServiceError(404, 404001, "No provisioning service answers at %s." % host)


def _check_token(app, value):
    try:
        claims = tokens.decode(value, app.identity.signing_key.public_key(), leeway=0)
    except tokens.TokenError as exc:
        raise ServiceError(401, 401002, "The access token is invalid or expired (%s)." % exc.reason) from exc
    if str(claims.get("aud", "")).rstrip("/") != AUDIENCE or claims.get("tid") != app.identity.tenant_id:
        raise ServiceError(401, 401002, "The access token is not for %s in this tenant." % AUDIENCE)


def _check_signature(app, instance, host, value):
    fields = dict(urllib.parse.parse_qsl(value, keep_blank_values=True))
    key = access_keys(app, instance).get(fields.get("skn", ""))
    resource = fields.get("sr", "")
    try:
        expiry = int(fields.get("se", "0"))
    except ValueError:
        expiry = 0
    if key is None or resource.lower().split("/")[0] != host.lower() or expiry < time.time():
        raise ServiceError(401, 401002, "The shared access signature is invalid, expired or for another host.")
    signed = (urllib.parse.quote_plus(resource.lower()) + "\n" + str(expiry)).encode("utf-8")
    for secret in (key["primaryKey"], key["secondaryKey"]):
        digest = hmac.new(base64.b64decode(secret), signed, hashlib.sha256).digest()
        if hmac.compare_digest(base64.b64encode(digest).decode("ascii"), fields.get("sig", "")):
            return
    raise ServiceError(401, 401002, "The shared access signature does not match a key of policy %s." % fields["skn"])


def _guard(app, request, host):
    """Network rules, then credentials, then api-version: the instance the call is for."""
    with app.store.lock:
        instance = _instance(app, host)
    if enrollments.network_refusal(instance, client_address(app), "serviceApi"):
        raise ServiceError(401, 401002, "Unauthorized.")
    header = (request.headers.get("Authorization") or "").strip()
    scheme, _sep, value = header.partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        _check_token(app, value.strip())
    elif scheme == "SharedAccessSignature" and value.strip():
        _check_signature(app, instance, host, value.strip())
    else:
        raise ServiceError(401, 401002, "An Authorization header (Bearer token or SharedAccessSignature) is required.")
    if not API_VERSION_RE.fullmatch(request.query.get("api-version") or ""):
        raise ServiceError(400, 400001, "The api-version query parameter is missing or invalid.")
    return instance


def _handled(handler):
    def wrapped(app, request, **groups):
        try:
            return handler(app, request, **groups)
        except ServiceError as exc:
            return error_response(exc)
        except ApiError as exc:
            return error_response(ServiceError(exc.status, exc.status * 1000 + 4, exc.message))
    return wrapped


def _check_if_match(request, record):
    """DPS's etag rules: an update needs If-Match (the etag, quoted or not, or *); a mismatch is 412."""
    value = (request.headers.get("If-Match") or "").strip()
    if record is None:
        if value and value != "*":
            raise ServiceError(412, 412002, "If-Match was sent for an item that does not exist.")
        return
    if not value and request.method == "PUT":
        raise ServiceError(409, 409201, "The item already exists; send its etag in If-Match to update it.")
    if value and value != "*" and value.strip('"') != record["etag"].strip('"'):
        raise ServiceError(412, 412002, "The If-Match etag does not match the item's current etag.")


def _put(kind):
    individual = kind == enrollments.INDIVIDUAL

    def put(app, request, host, item):
        instance = _guard(app, request, host)
        enrollments.check_id(item, "registrationId" if individual else "enrollmentGroupId")
        with app.store.lock:
            records = enrollments.section(app, instance, kind)
            current = records.get(item.lower())
            if current and app.faults.take(request.method, request.path, ("concurrent_write",)):
                current["etag"] = enrollments.new_etag()  # another writer got there first
            _check_if_match(request, current)
            record = enrollments.validate(request.json(), instance, individual, item)
            now = enrollments.now_utc()
            if (current or {}).get("registrationState"):
                record["registrationState"] = current["registrationState"]
            record.update(etag=enrollments.new_etag(), lastUpdatedDateTimeUtc=now,
                          createdDateTimeUtc=(current or {}).get("createdDateTimeUtc", now))
            records[item.lower()] = record
            app.store.save()
            return Response(200, enrollments.representation(record))
    return put


def _get(kind):
    def get(app, request, host, item):
        instance = _guard(app, request, host)
        with app.store.lock:
            record = enrollments.section(app, instance, kind).get(item.lower())
        if record is None:
            raise ServiceError(404, NOT_FOUND[kind], "%s '%s' was not found." % (kind[:-1], item))
        return Response(200, record if kind == enrollments.REGISTRATIONS else enrollments.representation(record))
    return get


def _delete(kind):
    def delete(app, request, host, item):
        instance = _guard(app, request, host)
        with app.store.lock:
            records = enrollments.section(app, instance, kind)
            record = records.get(item.lower())
            if record is None:
                raise ServiceError(404, NOT_FOUND[kind], "%s '%s' was not found." % (kind[:-1], item))
            _check_if_match(request, record)
            del records[item.lower()]
            app.store.save()
        return Response(204)
    return delete


def _page(app, request, items):
    """One page of a query answer, continued with x-ms-continuation (an offset here)."""
    try:
        start = int(request.headers.get("x-ms-continuation") or 0)
        size = int(request.headers.get("x-ms-max-item-count") or app.config.get("service_page_size") or PAGE_SIZE)
    except ValueError as exc:
        raise ServiceError(400, 400004, "x-ms-continuation and x-ms-max-item-count must be numbers.") from exc
    headers = {"x-ms-item-type": "Enrollment"}
    if start + size < len(items):
        headers["x-ms-continuation"] = str(start + size)
    return Response(200, items[start:start + max(size, 1)], headers)


def _query(kind):
    def query(app, request, host, item=None):
        instance = _guard(app, request, host)
        with app.store.lock:
            records = sorted(enrollments.section(app, instance, kind).values(),
                             key=lambda r: (r.get("enrollmentGroupId") or r.get("registrationId")).lower())
        if kind == enrollments.REGISTRATIONS:
            items = [r for r in records if (r.get("enrollmentGroupId") or "").lower() == item.lower()]
        else:
            items = [enrollments.representation(r) for r in records]
        return _page(app, request, items)
    return query


def access_keys(app, instance):
    """The owner policy's keys, made on first use and kept with the instance."""
    with app.store.lock:
        keys = enrollments.section(app, instance, "accessKeys")
        if OWNER_POLICY not in keys:
            keys[OWNER_POLICY] = {"keyName": OWNER_POLICY, "rights": OWNER_RIGHTS,
                                  "primaryKey": base64.b64encode(secrets.token_bytes(32)).decode("ascii"),
                                  "secondaryKey": base64.b64encode(secrets.token_bytes(32)).decode("ascii")}
            app.store.save()
        return keys


def list_keys(app, request, sub, rg, name):
    arm._guard(app, request, sub)  # pylint: disable=protected-access
    with app.store.lock:
        instance = app.store.section(arm.SERVICES).get(arm._key(sub, rg, name))  # pylint: disable=protected-access
        if instance is None:
            raise arm._not_found(rg, name)  # pylint: disable=protected-access
        return Response(200, {"value": list(access_keys(app, instance).values())})


def register(router):
    router.add("POST", arm.INSTANCE + r"/listkeys", list_keys)
    for kind in (enrollments.GROUPS, enrollments.INDIVIDUAL):
        router.add("POST", PREFIX + "/" + kind + r"/query", _handled(_query(kind)))
        item = PREFIX + "/" + kind + r"/(?P<item>[^/]+)"
        router.add("PUT", item, _handled(_put(kind)))
        router.add("GET", item, _handled(_get(kind)))
        router.add("DELETE", item, _handled(_delete(kind)))
    registration = PREFIX + "/" + enrollments.REGISTRATIONS + r"/(?P<item>[^/]+)"
    router.add("POST", registration + r"/query", _handled(_query(enrollments.REGISTRATIONS)))
    router.add("GET", registration, _handled(_get(enrollments.REGISTRATIONS)))
    router.add("DELETE", registration, _handled(_delete(enrollments.REGISTRATIONS)))
