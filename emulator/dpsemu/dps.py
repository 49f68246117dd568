# Copyright: iotops.dps_tls contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The provisioningServices resource: validation of a PUT body and the shape GET returns."""

import base64
import ipaddress
import re
import secrets

from dpsemu.server import ApiError

RESOURCE_TYPE = "Microsoft.Devices/provisioningServices"
NAME_RE = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9-]{1,62}[A-Za-z0-9])")
SKUS = ("S1",)
CAPACITY = (1, 200)
MIN_TLS_VERSIONS = ("1.2",)
ENUMS = {
    "allocationPolicy": ("Hashed", "GeoLatency", "Static"),
    "publicNetworkAccess": ("Enabled", "Disabled"),
}
DEFAULTS = {"allocationPolicy": "Hashed", "publicNetworkAccess": "Enabled"}
IP_FILTER_ACTIONS = ("Accept", "Reject")
IP_FILTER_TARGETS = ("all", "serviceApi", "deviceApi")
# Fixed at creation: a PUT may repeat the stored value or leave it out, never change it.
IMMUTABLE = {
    "minTlsVersion": "MinTlsVersionCannotBeChanged",
    "enableDataResidency": "EnableDataResidencyCannotBeChanged",
}
CONNECTION_STRING_PARTS = ("HostName", "SharedAccessKeyName", "SharedAccessKey")


def bad(code, message):
    return ApiError(400, code, message)


def new_etag():
    return base64.b64encode(secrets.token_bytes(8)).decode("ascii")


def new_id_scope():
    return "0ne" + secrets.token_hex(4).upper()


def normalize_location(location):
    return location.replace(" ", "").lower()


def check_name(name):
    if not NAME_RE.fullmatch(name) or name.isdigit():
        raise bad("InvalidProvisioningServiceName",
                  "The name '%s' is invalid: use 3-64 letters, digits or hyphens, start and end with a letter or "
                  "digit, and not only digits." % name)


def _enum(field, value):
    for allowed in ENUMS[field]:
        if isinstance(value, str) and value.lower() == allowed.lower():
            return allowed
    raise bad("Invalid" + field[0].upper() + field[1:],
              "properties.%s '%s' is not supported; use one of: %s." % (field, value, ", ".join(ENUMS[field])))


def _choice(value, allowed, code, what):
    for candidate in allowed:
        if isinstance(value, str) and value.lower() == candidate.lower():
            return candidate
    raise bad(code, "%s '%s' is not supported; use one of: %s." % (what, value, ", ".join(allowed)))


def _sku(body):
    sku = body.get("sku")
    if not isinstance(sku, dict):
        raise bad("InvalidSku", "sku is required, e.g. {\"name\": \"S1\", \"capacity\": 1}.")
    name = _choice(sku.get("name"), SKUS, "InvalidSku", "sku.name")
    capacity = sku.get("capacity", 1)
    if isinstance(capacity, bool) or not isinstance(capacity, int) or not CAPACITY[0] <= capacity <= CAPACITY[1]:
        raise bad("InvalidSkuCapacity", "sku.capacity must be an integer from %d to %d." % CAPACITY)
    return {"name": name, "tier": "Standard", "capacity": capacity}


def parse_tags(body):
    tags = body.get("tags") or {}
    if not isinstance(tags, dict) or not all(isinstance(v, str) for v in tags.values()):
        raise bad("InvalidTag", "tags must be an object of string values.")
    if len(tags) > 50 or any(len(k) > 512 or len(v) > 256 for k, v in tags.items()):
        raise bad("InvalidTag", "at most 50 tags; names up to 512 and values up to 256 characters.")
    return dict(tags)


def _linked_hub(index, hub):
    where = "properties.iotHubs[%d]" % index
    if not isinstance(hub, dict):
        raise bad("InvalidIotHubDefinition", "%s must be an object." % where)
    for field in ("connectionString", "location"):
        if not isinstance(hub.get(field), str) or not hub[field].strip():
            raise bad("InvalidIotHubDefinition", "%s.%s is required." % (where, field))
    parts = dict(p.split("=", 1) for p in hub["connectionString"].split(";") if "=" in p)
    if not all(parts.get(key) for key in CONNECTION_STRING_PARTS):
        raise bad("InvalidIotHubConnectionString",
                  "%s.connectionString must have HostName, SharedAccessKeyName and SharedAccessKey." % where)
    weight = hub.get("allocationWeight")
    if weight is not None and (isinstance(weight, bool) or not isinstance(weight, int) or weight < 0):
        raise bad("InvalidIotHubDefinition", "%s.allocationWeight must be a non-negative integer." % where)
    apply_policy = hub.get("applyAllocationPolicy")
    if apply_policy is not None and not isinstance(apply_policy, bool):
        raise bad("InvalidIotHubDefinition", "%s.applyAllocationPolicy must be a boolean." % where)
    stored = {"connectionString": hub["connectionString"], "location": normalize_location(hub["location"]),
              "name": parts["HostName"]}
    for field, value in (("allocationWeight", weight), ("applyAllocationPolicy", apply_policy)):
        if value is not None:
            stored[field] = value
    return stored


def _ip_filter_rule(index, rule):
    where = "properties.ipFilterRules[%d]" % index
    if not isinstance(rule, dict) or not isinstance(rule.get("filterName"), str) or not rule["filterName"]:
        raise bad("InvalidIpFilterRule", "%s.filterName is required." % where)
    action = _choice(rule.get("action"), IP_FILTER_ACTIONS, "InvalidIpFilterRule", where + ".action")
    try:
        ipaddress.ip_network(str(rule.get("ipMask")), strict=False)
    except ValueError as exc:
        raise bad("InvalidIpFilterRule", "%s.ipMask must be an IP address or CIDR range." % where) from exc
    stored = {"filterName": rule["filterName"], "action": action, "ipMask": rule["ipMask"]}
    if rule.get("target") is not None:
        stored["target"] = _choice(rule["target"], IP_FILTER_TARGETS, "InvalidIpFilterRule", where + ".target")
    return stored


def _list(props, field, check):
    items = props.get(field) or []
    if not isinstance(items, list):
        raise bad("InvalidRequestContent", "properties.%s must be a list." % field)
    return [check(i, item) for i, item in enumerate(items)]


def desired_state(body, existing):
    """Validate a PUT body against the stored instance (None on create); return what to store."""
    if not isinstance(body, dict):
        raise bad("InvalidRequestContent", "The request body must be a JSON object.")
    props = body.get("properties") or {}
    if not isinstance(props, dict):
        raise bad("InvalidRequestContent", "properties must be an object.")
    location = body.get("location")
    if existing is None and not (isinstance(location, str) and location.strip()):
        raise bad("LocationRequired", "location is required to create a provisioning service.")
    if location is not None and existing is not None and normalize_location(location) != existing["location"]:
        raise bad("InvalidResourceLocation", "The location of an existing provisioning service cannot be changed "
                  "(stored '%s', requested '%s')." % (existing["location"], location))
    wanted = {
        "location": normalize_location(location) if location else existing["location"],
        "sku": _sku(body),
        "tags": parse_tags(body),
        "allocationPolicy": _enum("allocationPolicy", props.get("allocationPolicy", DEFAULTS["allocationPolicy"])),
        "publicNetworkAccess": _enum("publicNetworkAccess",
                                     props.get("publicNetworkAccess", DEFAULTS["publicNetworkAccess"])),
        "iotHubs": _list(props, "iotHubs", _linked_hub),
        "ipFilterRules": _list(props, "ipFilterRules", _ip_filter_rule),
    }
    if existing is not None:
        _keep_masked_keys(wanted["iotHubs"], existing["iotHubs"])
    if "disableLocalAuth" in props:
        if not isinstance(props["disableLocalAuth"], bool):
            raise bad("InvalidRequestContent", "properties.disableLocalAuth must be a boolean.")
        wanted["disableLocalAuth"] = props["disableLocalAuth"]
    if "minTlsVersion" in props and existing is None and props["minTlsVersion"] not in MIN_TLS_VERSIONS:
        raise bad("InvalidMinTlsVersion", "properties.minTlsVersion '%s' is not supported; the supported value is "
                  "'1.2'." % props["minTlsVersion"])
    if "enableDataResidency" in props and not isinstance(props["enableDataResidency"], bool):
        raise bad("InvalidRequestContent", "properties.enableDataResidency must be a boolean.")
    for field, code in IMMUTABLE.items():
        if existing is None:
            wanted[field] = props.get(field, False if field == "enableDataResidency" else None)
        elif field in props and props[field] != existing.get(field):
            raise bad(code, "properties.%s is set when the provisioning service is created and cannot be changed "
                      "(stored %r, requested %r)." % (field, existing.get(field), props[field]))
        else:
            wanted[field] = existing.get(field)
    return wanted


def _keep_masked_keys(hubs, stored_hubs):
    """A hub re-sent with the masked key GET shows keeps its stored key (assumption, see docs)."""
    stored = {(h["name"].lower(), _masked(h["connectionString"])): h["connectionString"] for h in stored_hubs}
    for hub in hubs:
        if "SharedAccessKey=****" in hub["connectionString"].split(";"):
            original = stored.get((hub["name"].lower(), hub["connectionString"]))
            if original is None:
                raise bad("InvalidIotHubConnectionString",
                          "A masked connection string was sent for linked hub %s, which is not linked yet."
                          % hub["name"])
            hub["connectionString"] = original


def _masked(connection_string):
    # Assumption: like the portal and CLI show it, the key is never read back.
    return ";".join("SharedAccessKey=****" if part.startswith("SharedAccessKey=") else part
                    for part in connection_string.split(";"))


def representation(record):
    """The JSON body GET returns for a stored instance."""
    props = {
        "state": record["state"],
        "provisioningState": record["provisioningState"],
        "iotHubs": [dict(hub, connectionString=_masked(hub["connectionString"])) for hub in record["iotHubs"]],
        "allocationPolicy": record["allocationPolicy"],
        "serviceOperationsHostName": "%s.azure-devices-provisioning.net" % record["name"].lower(),
        "deviceProvisioningHostName": "global.azure-devices-provisioning.net",
        "idScope": record["idScope"],
        "authorizationPolicies": [],
        "publicNetworkAccess": record["publicNetworkAccess"],
        "ipFilterRules": record["ipFilterRules"],
        "privateEndpointConnections": [],
        "enableDataResidency": record["enableDataResidency"],
    }
    if "disableLocalAuth" in record:
        props["disableLocalAuth"] = record["disableLocalAuth"]
    if record.get("minTlsVersion") is not None:
        props["minTlsVersion"] = record["minTlsVersion"]
    return {
        "id": record["id"],
        "name": record["name"],
        "type": RESOURCE_TYPE,
        "location": record["location"],
        "tags": record["tags"],
        "etag": record["etag"],
        "resourcegroup": record["resourceGroup"],
        "subscriptionid": record["subscriptionId"],
        "sku": record["sku"],
        "properties": props,
    }
