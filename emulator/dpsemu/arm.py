# Copyright: iotops.dps_tls contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""ARM routes for Microsoft.Devices/provisioningServices, with long-running operations.

An operation finishes `provisioning_delay` seconds after it started. Its end is worked out lazily from the
clock whenever a request arrives, so nothing runs in the background and a restart mid-operation is harmless.
"""

import re
import time
import uuid

from dpsemu import auth, dps
from dpsemu.server import ApiError, Response

SERVICES = "provisioningServices"
OPERATIONS = "operations"
GROUPS = "resourceGroups"
# Resource groups that exist from the start (the emulator invents no other way to have one): the names the
# collection's tests, demo and docs use. More come with --resource-group or a PUT of the group.
DEFAULT_RESOURCE_GROUPS = (
    "rg", "rg1", "rg-dps-tls", "rg-dps-instance", "rg-info", "rg-info-1", "rg-info-2", "rg-catalogue", "rg-drills",
    "rg-certs", "rg-secrets", "rg-pipelines", "rg-devices", "rg-fleet", "rg-role", "rg-bench", "rg-enroll",
    "rg-enrollments", "rg-demo", "rg-site", "rg-gate", "demo", "iot-fleet", "iot-demo", "iot-prod")
API_VERSION_RE = re.compile(r"\d{4}-\d{2}-\d{2}(-preview)?")
PROVIDER = "/providers/Microsoft.Devices"
SUB = r"/subscriptions/(?P<sub>[^/]+)"
RG = r"/resourceGroups/(?P<rg>[^/]+)"
INSTANCE = SUB + RG + PROVIDER + r"/provisioningServices/(?P<name>[^/]+)"
# What the instance looks like while an operation of each kind runs, and after it fails.
RUNNING = {"create": ("Activating", "Accepted"), "update": ("Active", "Updating"),
           "patch": ("Active", "Updating"), "delete": ("Deleting", "Deleting")}
FAILED = {"create": "ActivationFailed", "update": "Active", "patch": "Active", "delete": "Active"}


def _key(sub, rg, name):
    return "/".join((sub, rg, name)).lower()


def _guard(app, request, sub):
    """ARM's own checks, before the resource provider: token, api-version, subscription."""
    auth.require_arm_token(app, request)
    version = request.query.get("api-version")
    if not version:
        raise ApiError(400, "MissingApiVersionParameter",
                       "The api-version query parameter (?api-version=) is required for all requests.")
    if not API_VERSION_RE.fullmatch(version):
        raise ApiError(400, "InvalidApiVersionParameter",
                       "The api-version '%s' is invalid. The supported format is 'YYYY-MM-DD' or "
                       "'YYYY-MM-DD-preview'." % version)
    if sub.lower() != app.identity.subscription_id:
        raise ApiError(404, "SubscriptionNotFound", "The subscription '%s' could not be found." % sub)
    settle(app)


def settle(app, now=None):
    """Finish every operation whose time has come."""
    now = now or time.time()
    with app.store.lock:
        changed = False
        services = app.store.section(SERVICES)
        for op in app.store.section(OPERATIONS).values():
            if op["status"] != "Running" or op["ready_at"] > now:
                continue
            changed = True
            op["status"] = op["outcome"]
            record = services.get(op["key"])
            if record is None:
                continue
            record.pop("operationId", None)
            if op["outcome"] == "Succeeded":
                if op["kind"] == "delete":
                    del services[op["key"]]
                    continue
                record.update(state="Active", provisioningState="Succeeded")
            else:
                op["error"] = {"code": "OperationFailed",
                               "message": "The %s operation failed (injected by the emulator)." % op["kind"]}
                if op.get("before"):
                    record.clear()
                    record.update(op["before"])
                record.update(state=FAILED[op["kind"]], provisioningState="Failed", etag=dps.new_etag())
        if changed:
            app.store.save()


def ensure_default_groups(app, names):
    """Create the resource groups that exist from the start (kept across restarts)."""
    with app.store.lock:
        groups = app.store.section(GROUPS)
        for name in names:
            groups.setdefault(name.lower(), {"name": name})
        app.store.save()


def require_group(app, rg):
    """ARM answers 404 ResourceGroupNotFound for anything addressed inside a group that does not exist."""
    if rg.lower() not in app.store.section(GROUPS):
        raise ApiError(404, "ResourceGroupNotFound", "Resource group '%s' could not be found." % rg)


def _group_url(app, sub, rg):
    return "/subscriptions/%s/resourceGroups/%s" % (app.identity.subscription_id, rg)


def put_group(app, request, sub, rg):
    _guard(app, request, sub)
    with app.store.lock:
        groups = app.store.section(GROUPS)
        status = 200 if rg.lower() in groups else 201
        groups[rg.lower()] = {"name": rg}
        app.store.save()
    return Response(status, {"id": _group_url(app, sub, rg), "name": rg, "properties": {
        "provisioningState": "Succeeded"}})


def get_group(app, request, sub, rg):
    _guard(app, request, sub)
    require_group(app, rg)
    if request.method == "HEAD":
        return Response(204)
    return Response(200, {"id": _group_url(app, sub, rg), "name": app.store.section(GROUPS)[rg.lower()]["name"],
                          "properties": {"provisioningState": "Succeeded"}})


def _not_found(rg, name):
    return ApiError(404, "ResourceNotFound", "The Resource '%s/%s' under resource group '%s' was not found."
                    % (dps.RESOURCE_TYPE, name, rg))


def _start_operation(app, request, record, kind, before):
    """Mark the instance busy and answer with the headers the SDK's ARM poller follows."""
    if record.get("operationId"):
        raise ApiError(409, "AnotherOperationInProgress",
                       "Another operation is in progress on provisioning service '%s'." % record["name"])
    fault = app.faults.take(request.method, request.path, ("fail_operation",))
    op_id = str(uuid.uuid4())
    app.store.section(OPERATIONS)[op_id] = {
        "id": op_id, "kind": kind, "key": _key(record["subscriptionId"], record["resourceGroup"], record["name"]),
        "status": "Running", "outcome": "Failed" if fault else "Succeeded",
        "ready_at": time.time() + float(app.config["provisioning_delay"]), "before": before,
    }
    record["operationId"] = op_id
    record["state"], record["provisioningState"] = RUNNING[kind]
    status_url = "%s%s/operationresults/%s?api-version=%s&asyncinfo=true" % (
        app.base_url, record["id"], op_id, request.query["api-version"])
    return {"Azure-AsyncOperation": status_url, "Location": status_url,
            "Retry-After": str(app.config["retry_after"])}


def get_instance(app, request, sub, rg, name):
    _guard(app, request, sub)
    require_group(app, rg)
    with app.store.lock:
        record = app.store.section(SERVICES).get(_key(sub, rg, name))
        if record is None:
            raise _not_found(rg, name)
        return Response(200, dps.representation(record))


def put_instance(app, request, sub, rg, name):
    _guard(app, request, sub)
    require_group(app, rg)
    body = request.json()
    with app.store.lock:
        services = app.store.section(SERVICES)
        record = services.get(_key(sub, rg, name))
        if_match = request.headers.get("If-Match")
        if if_match and if_match != "*" and (record is None or if_match.strip('"') != record["etag"]):
            raise ApiError(412, "PreconditionFailed", "The If-Match etag does not match the current one.")
        if record is None:
            dps.check_name(name)
            if any(r["name"].lower() == name.lower() for r in services.values()):
                raise ApiError(409, "ProvisioningServiceNameUnavailable",
                               "The name '%s' is already used by another provisioning service." % name)
        wanted = dps.desired_state(body, record)
        if record is None:
            record = new_record(app, sub, rg, name)
            services[_key(sub, rg, name)] = record
            before, kind, status = None, "create", 201
        else:
            before, kind, status = dict(record), "update", 200
            before.pop("operationId", None)
        headers = _start_operation(app, request, record, kind, before)
        record.update(wanted, etag=dps.new_etag())
        app.store.save()
        return Response(status, dps.representation(record), headers)


def new_record(app, sub, rg, name):
    return {
        "id": "/subscriptions/%s/resourceGroups/%s%s/provisioningServices/%s" % (
            app.identity.subscription_id, rg, PROVIDER, name),
        "name": name, "resourceGroup": rg, "subscriptionId": sub.lower(),
        "idScope": dps.new_id_scope(), "createdAt": time.time(),
    }


def patch_instance(app, request, sub, rg, name):
    _guard(app, request, sub)
    require_group(app, rg)
    body = request.json()
    if not isinstance(body, dict) or set(body) - {"tags"}:
        raise ApiError(400, "InvalidRequestContent", "PATCH updates tags only: send {\"tags\": {...}}.")
    tags = dps.parse_tags(body)
    with app.store.lock:
        record = app.store.section(SERVICES).get(_key(sub, rg, name))
        if record is None:
            raise _not_found(rg, name)
        before = dict(record)
        headers = _start_operation(app, request, record, "patch", before)
        record.update(tags=tags, etag=dps.new_etag())
        app.store.save()
        return Response(200, dps.representation(record), headers)


def delete_instance(app, request, sub, rg, name):
    _guard(app, request, sub)
    require_group(app, rg)
    with app.store.lock:
        record = app.store.section(SERVICES).get(_key(sub, rg, name))
        if record is None:
            return Response(204)
        before = dict(record)
        headers = _start_operation(app, request, record, "delete", before)
        app.store.save()
        return Response(202, None, headers)


def operation_result(app, request, sub, rg, name, op_id):
    _guard(app, request, sub)
    del rg, name  # the operation id alone identifies it
    op = app.store.section(OPERATIONS).get(op_id)
    if op is None:
        raise ApiError(404, "OperationNotFound", "The operation '%s' was not found." % op_id)
    body = {"status": op["status"]}
    headers = {}
    if op["status"] == "Running":
        headers["Retry-After"] = str(app.config["retry_after"])
    if op.get("error"):
        body["error"] = op["error"]
    return Response(200, body, headers)


def list_in_group(app, request, sub, rg):
    _guard(app, request, sub)
    require_group(app, rg)
    prefix = _key(sub, rg, "")
    return _listing(app, lambda key: key.startswith(prefix))


def list_in_subscription(app, request, sub):
    _guard(app, request, sub)
    return _listing(app, lambda key: True)


def _listing(app, wanted):
    with app.store.lock:
        services = app.store.section(SERVICES)
        return Response(200, {"value": [dps.representation(services[key])
                                        for key in sorted(services) if wanted(key)]})


def check_name_availability(app, request, sub):
    _guard(app, request, sub)
    body = request.json()
    name = body.get("name", "") if isinstance(body, dict) else ""
    try:
        dps.check_name(name)
    except ApiError as exc:
        return Response(200, {"nameAvailable": False, "reason": "Invalid", "message": exc.message})
    taken = any(r["name"].lower() == name.lower() for r in app.store.section(SERVICES).values())
    return Response(200, {"nameAvailable": not taken, "reason": "AlreadyExists" if taken else None,
                          "message": "The name '%s' is already in use." % name if taken else None})


def seed(app, body):
    """Plant a finished instance directly (test-only), e.g. one created long ago without minTlsVersion."""
    if not isinstance(body, dict) or not body.get("name") or not body.get("resourceGroup"):
        raise ApiError(400, "InvalidRequestContent", "A seed needs at least name, resourceGroup and location.")
    props = dict(body.get("properties") or {})
    min_tls = props.pop("minTlsVersion", None)
    wanted = dps.desired_state(dict(body, properties=props), None)
    wanted["minTlsVersion"] = min_tls
    sub, rg, name = app.identity.subscription_id, body["resourceGroup"], body["name"]
    dps.check_name(name)
    with app.store.lock:
        app.store.section(GROUPS).setdefault(rg.lower(), {"name": rg})
        record = new_record(app, sub, rg, name)
        record.update(wanted, state="Active", provisioningState="Succeeded", etag=dps.new_etag())
        if body.get("idScope"):
            record["idScope"] = body["idScope"]
        app.store.section(SERVICES)[_key(sub, rg, name)] = record
        app.store.save()
    return dps.representation(record)


def register(router):
    router.add("PUT", SUB + r"/resourcegroups/(?P<rg>[^/]+)", put_group)
    router.add("GET", SUB + r"/resourcegroups/(?P<rg>[^/]+)", get_group)
    router.add("HEAD", SUB + r"/resourcegroups/(?P<rg>[^/]+)", get_group)
    router.add("GET", INSTANCE, get_instance)
    router.add("PUT", INSTANCE, put_instance)
    router.add("PATCH", INSTANCE, patch_instance)
    router.add("DELETE", INSTANCE, delete_instance)
    router.add("GET", INSTANCE + r"/operationresults/(?P<op_id>[^/]+)", operation_result)
    router.add("GET", SUB + RG + PROVIDER + r"/provisioningServices", list_in_group)
    router.add("GET", SUB + PROVIDER + r"/provisioningServices", list_in_subscription)
    router.add("POST", SUB + PROVIDER + r"/checkProvisioningServiceNameAvailability", check_name_availability)
