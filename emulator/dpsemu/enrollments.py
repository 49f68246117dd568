# Copyright: iotops.dps_tls contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Enrollment groups, individual enrollments and registration records of a provisioning service.

The service API (service.py) writes them; the device endpoint (device.py) reads them to decide a registration:
an individual enrollment for the device first, then the group of the first certificate in the device's chain
from the leaf upward, and the first match decides (a disabled match refuses even when a group higher up is
enabled). Allocation picks one of the enrollment's hubs: hashed by a stable hash of the registration id over
the hubs' allocation weights, or the one hub of a static enrollment.
"""

import datetime
import hashlib
import ipaddress
import re
import secrets

from cryptography.hazmat.primitives import serialization

from dpsemu import arm, certificates

GROUPS, INDIVIDUAL, REGISTRATIONS = "enrollmentGroups", "enrollments", "registrations"
ID_RE = re.compile(r"[A-Za-z0-9._:-]{1,128}")
STATUSES = ("enabled", "disabled")
POLICIES = ("hashed", "geoLatency", "static", "custom")


class ServiceError(Exception):
    """A service API error: HTTP status and DPS's six-digit errorCode."""

    def __init__(self, status, error_code, message):
        super().__init__(message)
        self.status = status
        self.error_code = error_code
        self.message = message


def now_utc():
    return datetime.datetime.now(datetime.timezone.utc).isoformat().replace("+00:00", "Z")


def instance_key(instance):
    return arm._key(instance["subscriptionId"], instance["resourceGroup"], instance["name"])  # pylint: disable=protected-access


def section(app, instance, kind):
    """{id (lower case): record} of one kind for this instance (not of an earlier one with the same name)."""
    sections = app.store.section("dataPlane").setdefault(instance_key(instance), {})
    if sections.get("idScope") != instance["idScope"]:
        sections.clear()
        sections["idScope"] = instance["idScope"]
    return sections.setdefault(kind, {})


def check_id(value, what):
    if not isinstance(value, str) or not ID_RE.fullmatch(value) or value in (".", ".."):
        raise ServiceError(400, 400004, "The %s '%s' is invalid: use at most 128 letters, digits, '-', '.', '_' "
                                        "or ':'." % (what, value))
    return value


def _pem_certificate(value, where):
    cert = certificates.load_certificate(value) if isinstance(value, str) else None
    if cert is None:
        raise ServiceError(400, 400004, "%s is not a valid certificate." % where)
    return cert


def certificate_info(cert):
    der = cert.public_bytes(serialization.Encoding.DER)
    return {"subjectName": cert.subject.rfc4514_string(), "issuerName": cert.issuer.rfc4514_string(),
            "sha1Thumbprint": hashlib.sha1(der).hexdigest().upper(),  # nosec - DPS's own thumbprint
            "sha256Thumbprint": hashlib.sha256(der).hexdigest().upper(),
            "serialNumber": format(cert.serial_number, "X"), "version": 3,
            "notBeforeUtc": certificates._utc(cert, "not_valid_before").isoformat(),  # pylint: disable=protected-access
            "notAfterUtc": certificates._utc(cert, "not_valid_after").isoformat()}  # pylint: disable=protected-access


def _certificates(x509, field, where):
    """{'primary': {...}, 'secondary': {...}} with each PEM kept and described by its info block."""
    pair = x509.get(field)
    if not isinstance(pair, dict) or not isinstance(pair.get("primary"), dict):
        raise ServiceError(400, 400004, "%s.%s.primary is required." % (where, field))
    stored = {}
    for slot in ("primary", "secondary"):
        if isinstance(pair.get(slot), dict):
            cert = _pem_certificate(pair[slot].get("certificate"), "%s.%s.%s.certificate" % (where, field, slot))
            stored[slot] = {"pem": cert.public_bytes(serialization.Encoding.PEM).decode("ascii"),
                            "info": certificate_info(cert)}
    return stored


def _attestation(body, individual):
    attestation = body.get("attestation")
    if not isinstance(attestation, dict) or attestation.get("type") != "x509":
        raise ServiceError(400, 400004, "attestation.type must be 'x509' (the only attestation emulated).")
    x509 = attestation.get("x509")
    if not isinstance(x509, dict):
        raise ServiceError(400, 400004, "attestation.x509 is required.")
    if individual:
        return {"clientCertificates": _certificates(x509, "clientCertificates", "attestation.x509")}
    if "caReferences" in x509 and "signingCertificates" in x509:
        raise ServiceError(400, 400004, "attestation.x509 takes caReferences or signingCertificates, not both.")
    if "caReferences" in x509:
        refs = x509["caReferences"]
        if not isinstance(refs, dict) or not isinstance(refs.get("primary"), str) or not refs["primary"]:
            raise ServiceError(400, 400004, "attestation.x509.caReferences.primary is required.")
        return {"caReferences": {k: v for k, v in refs.items() if k in ("primary", "secondary") and v}}
    return {"signingCertificates": _certificates(x509, "signingCertificates", "attestation.x509")}


def _hubs(body, instance, policy):
    hubs = body.get("iotHubs") or []
    linked = {h["name"].lower(): h["name"] for h in instance.get("iotHubs") or []}
    if not isinstance(hubs, list) or not all(isinstance(h, str) for h in hubs):
        raise ServiceError(400, 400004, "iotHubs must be a list of IoT hub host names.")
    unknown = [h for h in hubs if h.lower() not in linked]
    if unknown:
        raise ServiceError(400, 400004, "iotHubs names hubs not linked to the service: %s." % ", ".join(unknown))
    if policy == "static" and len(hubs) != 1:
        raise ServiceError(400, 400004, "A static allocation policy needs exactly one hub in iotHubs.")
    return [linked[h.lower()] for h in hubs]


def _choice(body, field, allowed, default):
    value = body.get(field, default)
    if value is None:
        return None
    for candidate in allowed:
        if isinstance(value, str) and value.lower() == candidate.lower():
            return candidate
    raise ServiceError(400, 400004, "%s '%s' is not one of %s." % (field, value, ", ".join(allowed)))


def _dict(body, field, default):
    value = body.get(field, default)
    if value is not None and not isinstance(value, dict):
        raise ServiceError(400, 400004, "%s must be an object." % field)
    return value


def validate(body, instance, individual, item_id):
    """What to store for a PUT body (without etag and dates)."""
    if not isinstance(body, dict):
        raise ServiceError(400, 400004, "The request body must be a JSON object.")
    id_field = "registrationId" if individual else "enrollmentGroupId"
    if body.get(id_field) not in (None, item_id):
        raise ServiceError(400, 400004, "%s in the body is not the id in the path." % id_field)
    policy = _choice(body, "allocationPolicy", POLICIES, None)
    record = {
        id_field: item_id,
        "attestation": _attestation(body, individual),
        "provisioningStatus": _choice(body, "provisioningStatus", STATUSES, "enabled"),
        "allocationPolicy": policy,
        "iotHubs": _hubs(body, instance, policy),
        "reprovisionPolicy": _dict(body, "reprovisionPolicy",
                                   {"updateHubAssignment": True, "migrateDeviceData": True}),
        "initialTwin": _dict(body, "initialTwin", None),
        "capabilities": {"iotEdge": bool((_dict(body, "capabilities", {}) or {}).get("iotEdge"))},
    }
    if individual and body.get("deviceId"):
        record["deviceId"] = check_id(body["deviceId"], "deviceId")
    return record


def representation(record):
    """The body GET returns: certificates as their info block only, as DPS answers."""
    body = {k: v for k, v in record.items() if v is not None and k != "attestation"}
    x509 = {}
    for field, value in record["attestation"].items():
        if field == "caReferences":
            x509[field] = dict(value)
        else:
            x509[field] = {slot: {"info": cert["info"]} for slot, cert in value.items()}
    body["attestation"] = {"type": "x509", "x509": x509}
    return body


def new_etag():
    return '"%s"' % secrets.token_hex(8)


# --- device registration ---------------------------------------------------------------------------------------


def _sha256(cert):
    return hashlib.sha256(cert.public_bytes(serialization.Encoding.DER)).hexdigest().upper()


def _thumbprints(pair):
    return {cert["info"]["sha256Thumbprint"] for cert in pair.values()}


def _group_matches(app, instance, group, fingerprint):
    x509 = group["attestation"]
    if "signingCertificates" in x509:
        return fingerprint in _thumbprints(x509["signingCertificates"])
    verified = verified_by_name(app, instance)
    return any(verified.get(name.lower()) == fingerprint for name in x509["caReferences"].values())


def verified_by_name(app, instance):
    """{certificate name (lower case): SHA-256} of the CA certificates verified on this instance."""
    records = certificates._records(app, instance).values()  # pylint: disable=protected-access
    return {rec["name"].lower(): _sha256(certificates.load_certificate(rec["pem"]))
            for rec in records if rec["isVerified"]}


def trust_anchors(app):
    """PEMs the device endpoint's handshake accepts besides verified CAs: signing and device certificates."""
    pems = set()
    with app.store.lock:
        for per_instance in app.store.section("dataPlane").values():
            for kind in (GROUPS, INDIVIDUAL):
                for record in per_instance.get(kind, {}).values():
                    for pair in record["attestation"].values():
                        pems.update(cert["pem"] for cert in pair.values() if isinstance(cert, dict))
    return sorted(pems)


def match(app, instance, registration_id, chain):
    """(kind, enrollment) deciding this device, or (None, None). chain: certificates, leaf first."""
    with app.store.lock:
        individual = section(app, instance, INDIVIDUAL).get(registration_id.lower())
        if individual and _sha256(chain[0]) in _thumbprints(individual["attestation"]["clientCertificates"]):
            return "individual", individual
        groups = sorted(section(app, instance, GROUPS).values(), key=lambda g: g["enrollmentGroupId"].lower())
        for cert in chain[1:]:
            fingerprint = _sha256(cert)
            for group in groups:
                if _group_matches(app, instance, group, fingerprint):
                    return "group", group
    return None, None


def allocate(instance, enrollment, registration_id):
    """The host name of the hub the device is assigned to, or None when no hub can take it."""
    linked = {h["name"].lower(): h for h in instance.get("iotHubs") or []}
    named = [linked[h.lower()] for h in enrollment.get("iotHubs") or [] if h.lower() in linked]
    policy = enrollment.get("allocationPolicy") or instance.get("allocationPolicy", "Hashed")
    if policy.lower() == "static":
        return (named or list(linked.values()) or [{"name": None}])[0]["name"]
    candidates = [h for h in (named or list(linked.values())) if h.get("applyAllocationPolicy", True)]
    weights = [(h["name"], 1 if h.get("allocationWeight") is None else int(h["allocationWeight"]))
               for h in sorted(candidates, key=lambda h: h["name"])]
    total = sum(weight for _name, weight in weights)
    if not total:
        return None
    point = int(hashlib.sha256(registration_id.lower().encode("utf-8")).hexdigest(), 16) % total
    for name, weight in weights:
        if point < weight:
            return name
        point -= weight
    return None


def record_registration(app, instance, registration_id, state):
    with app.store.lock:
        records = section(app, instance, REGISTRATIONS)
        previous = records.get(registration_id.lower())
        state = dict(state, createdDateTimeUtc=(previous or {}).get("createdDateTimeUtc", state["createdDateTimeUtc"]),
                     etag=new_etag())
        records[registration_id.lower()] = state
        app.store.save()
    return state


def registration_state(app, instance, registration_id, kind, enrollment):
    """The registration record for a device matched to an enrollment (status disabled, assigned or failed)."""
    now = now_utc()
    state = {"registrationId": registration_id, "createdDateTimeUtc": now, "lastUpdatedDateTimeUtc": now}
    if kind == "group":
        state["enrollmentGroupId"] = enrollment["enrollmentGroupId"]
    if enrollment["provisioningStatus"] == "disabled":
        state.update(status="disabled")
        return _recorded(app, instance, registration_id, state, enrollment if kind == "individual" else None)
    hub = allocate(instance, enrollment, registration_id)
    if hub is None:
        state.update(status="failed", errorCode=400209,
                     errorMessage="No IoT hub of %s can take the device." % instance["name"])
    else:
        state.update(status="assigned", substatus="initialAssignment", assignedHub=hub,
                     deviceId=enrollment.get("deviceId") or registration_id)
    return _recorded(app, instance, registration_id, state, enrollment if kind == "individual" else None)


def _recorded(app, instance, registration_id, state, individual):
    """The record at registrations/{id}; an individual enrollment also carries it, as DPS returns it."""
    state = record_registration(app, instance, registration_id, state)
    if individual is not None:
        with app.store.lock:
            individual["registrationState"] = state
            app.store.save()
    return state


# --- network rules ---------------------------------------------------------------------------------------------


def network_refusal(instance, address, api):
    """Why traffic from address to api ('deviceApi' or 'serviceApi') is refused, or None when it may pass."""
    if instance.get("publicNetworkAccess") == "Disabled":
        return "public network access is disabled"
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return None
    for rule in instance.get("ipFilterRules") or []:
        if rule.get("target", "all") not in ("all", api):
            continue
        if ip in ipaddress.ip_network(rule["ipMask"], strict=False):
            if rule["action"] == "Accept":
                return None
            return "IP filter rule %s rejects %s" % (rule["filterName"], address)
    return None
