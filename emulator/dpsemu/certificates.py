# Copyright: iotops.dps_tls contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""CA certificates of a provisioning service, with DPS's etag rules and a real proof-of-possession check.

If-Match is required to update, delete, generate a verification code and verify; quoted, unquoted and `*` are
accepted, anything else that does not match the current etag gets 412. A verification code is used up by the
verify call that succeeds with it; generating a new one replaces the old one; changing the certificate's content
drops both the code and the verified state.
"""

import base64
import binascii
import datetime
import email.utils
import hashlib
import secrets
import time

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.x509.oid import NameOID

from dpsemu import arm, dps
from dpsemu.server import ApiError, Response

CERTIFICATES = "certificates"
CERTIFICATE = arm.INSTANCE + r"/certificates/(?P<cert>[^/]+)"
CERT_TYPE = "Microsoft.Devices/provisioningServices/Certificates"


def _http_date(timestamp):
    return email.utils.formatdate(timestamp, usegmt=True)


def _cert_key(instance_key, name):
    return instance_key + "/" + name.lower()


def load_certificate(text):
    """An x509 certificate from PEM text, base64 of PEM, or base64 of DER; None when it is none of these."""
    data = text.encode("utf-8") if isinstance(text, str) else bytes(text)
    if b"-----BEGIN" not in data:
        try:
            data = base64.b64decode(data, validate=True)
        except (binascii.Error, ValueError):
            return None
    try:
        if b"-----BEGIN CERTIFICATE-----" in data:
            return x509.load_pem_x509_certificate(data)
        return x509.load_der_x509_certificate(data)
    except ValueError:
        return None


def _utc(cert, name):
    """not_valid_before/after as aware datetimes (the *_utc properties exist from cryptography 42)."""
    value = getattr(cert, name + "_utc", None)
    return value if value is not None else getattr(cert, name).replace(tzinfo=datetime.timezone.utc)


def thumbprint(cert):
    return hashlib.sha1(cert.public_bytes(serialization.Encoding.DER)).hexdigest().upper()  # nosec - DPS's own id


def _instance(app, sub, rg, name):
    arm.require_group(app, rg)
    record = app.store.section(arm.SERVICES).get(arm._key(sub, rg, name))  # pylint: disable=protected-access
    if record is None:
        raise arm._not_found(rg, name)  # pylint: disable=protected-access
    return record


def _records(app, instance):
    """The certificate records of this instance (not of an earlier instance that had the same name)."""
    prefix = arm._key(instance["subscriptionId"], instance["resourceGroup"], instance["name"]) + "/"  # pylint: disable=protected-access
    return {key: rec for key, rec in app.store.section(CERTIFICATES).items()
            if key.startswith(prefix) and rec["idScope"] == instance["idScope"]}


def _find(app, instance, name):
    key = _cert_key(arm._key(instance["subscriptionId"], instance["resourceGroup"], instance["name"]), name)  # pylint: disable=protected-access
    record = app.store.section(CERTIFICATES).get(key)
    if record is not None and record["idScope"] != instance["idScope"]:
        del app.store.section(CERTIFICATES)[key]
        record = None
    return key, record


def _not_found(name):
    return ApiError(404, "CertificateNotFound", "The certificate '%s' was not found." % name)


def check_if_match(request, record, required=True):
    """DPS's etag rules: If-Match required (when `required`), `*` or the etag, quoted or not; else 412."""
    value = (request.headers.get("If-Match") or "").strip()
    if not value:
        if required:
            raise ApiError(412, "PreconditionFailed", "The If-Match header with the certificate's etag is required.")
        return
    if value == "*" and record is not None:
        return
    if record is None or value.strip('"') != record["etag"]:
        raise ApiError(412, "PreconditionFailed", "The If-Match etag does not match the certificate's current etag.")


def _concurrent_write(app, request, record):
    """Test fault: another client changed the certificate just before this call."""
    if record is not None and app.faults.take(request.method, request.path, ("concurrent_write",)):
        record["etag"] = dps.new_etag()
        record["updated"] = time.time()


def representation(instance, record, verification_code=None):
    cert = load_certificate(record["pem"])
    props = {
        "subject": cert.subject.rfc4514_string(),
        "expiry": _http_date(_utc(cert, "not_valid_after").timestamp()),
        "thumbprint": thumbprint(cert),
        "isVerified": record["isVerified"],
        "certificate": base64.b64encode(record["pem"].encode("ascii")).decode("ascii"),
        "created": _http_date(record["created"]),
        "updated": _http_date(record["updated"]),
    }
    if verification_code:
        props["verificationCode"] = verification_code
    return {"id": "%s/certificates/%s" % (instance["id"], record["name"]), "name": record["name"],
            "type": CERT_TYPE, "etag": record["etag"], "properties": props}


def get_certificate(app, request, sub, rg, name, cert):
    arm._guard(app, request, sub)  # pylint: disable=protected-access
    with app.store.lock:
        instance = _instance(app, sub, rg, name)
        _key, record = _find(app, instance, cert)
        if record is None:
            raise _not_found(cert)
        return Response(200, representation(instance, record))


def list_certificates(app, request, sub, rg, name):
    arm._guard(app, request, sub)  # pylint: disable=protected-access
    with app.store.lock:
        instance = _instance(app, sub, rg, name)
        records = _records(app, instance)
        return Response(200, {"value": [representation(instance, records[k]) for k in sorted(records)]})


def put_certificate(app, request, sub, rg, name, cert):
    arm._guard(app, request, sub)  # pylint: disable=protected-access
    body = request.json()
    props = body.get("properties") if isinstance(body, dict) else None
    if not isinstance(props, dict) or not props.get("certificate"):
        raise ApiError(400, "InvalidCertificate", "properties.certificate (base64 of a PEM or DER certificate) "
                                                  "is required.")
    parsed = load_certificate(props["certificate"])
    if parsed is None:
        raise ApiError(400, "InvalidCertificate", "properties.certificate is not an X.509 certificate.")
    pem = parsed.public_bytes(serialization.Encoding.PEM).decode("ascii")
    with app.store.lock:
        instance = _instance(app, sub, rg, name)
        key, record = _find(app, instance, cert)
        _concurrent_write(app, request, record)
        check_if_match(request, record, required=record is not None)
        now = time.time()
        if record is None:
            record = {"name": cert, "idScope": instance["idScope"], "created": now, "isVerified": False}
            app.store.section(CERTIFICATES)[key] = record
        if record.get("pem") != pem:
            record.update(pem=pem, isVerified=False)
            record.pop("verificationCode", None)
        if props.get("isVerified") is True:
            # DPS lets an owner mark a certificate verified at upload (no proof of possession).
            record["isVerified"] = True
        record.update(etag=dps.new_etag(), updated=now)
        app.store.save()
        # 200 for a create too: DPS (and the SDK, which accepts nothing else) answer 200.
        return Response(200, representation(instance, record))


def delete_certificate(app, request, sub, rg, name, cert):
    arm._guard(app, request, sub)  # pylint: disable=protected-access
    with app.store.lock:
        instance = _instance(app, sub, rg, name)
        key, record = _find(app, instance, cert)
        if record is None:
            return Response(204)
        _concurrent_write(app, request, record)
        check_if_match(request, record)
        del app.store.section(CERTIFICATES)[key]
        app.store.save()
        return Response(200)


def generate_verification_code(app, request, sub, rg, name, cert):
    arm._guard(app, request, sub)  # pylint: disable=protected-access
    with app.store.lock:
        instance = _instance(app, sub, rg, name)
        _key, record = _find(app, instance, cert)
        if record is None:
            raise _not_found(cert)
        _concurrent_write(app, request, record)
        check_if_match(request, record)
        code = secrets.token_hex(24).upper()
        record.update(verificationCode=code, etag=dps.new_etag(), updated=time.time())
        app.store.save()
        return Response(200, representation(instance, record, verification_code=code))


def _proof_error(message):
    return ApiError(400, "CertificateVerificationFailed", message)


def check_proof(record, text):
    """The proof of possession: a certificate whose CN is the current code, signed by the CA's key."""
    code = record.get("verificationCode")
    if not code:
        raise _proof_error("No verification code is pending for this certificate: generate one first.")
    proof = load_certificate(text or "")
    if proof is None:
        raise _proof_error("The verification certificate is not a PEM or base64 DER certificate.")
    names = proof.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    if not names or names[0].value != code:
        raise _proof_error("The verification certificate's subject CN is not the current verification code.")
    now = datetime.datetime.now(datetime.timezone.utc)
    if not _utc(proof, "not_valid_before") <= now <= _utc(proof, "not_valid_after"):
        raise _proof_error("The verification certificate is not valid now.")
    try:
        proof.verify_directly_issued_by(load_certificate(record["pem"]))
    except (ValueError, TypeError, InvalidSignature) as exc:
        raise _proof_error("The verification certificate was not signed by the key of the uploaded certificate "
                           "(%s)." % (exc or type(exc).__name__)) from exc


def verify_certificate(app, request, sub, rg, name, cert):
    arm._guard(app, request, sub)  # pylint: disable=protected-access
    body = request.json()
    with app.store.lock:
        instance = _instance(app, sub, rg, name)
        _key, record = _find(app, instance, cert)
        if record is None:
            raise _not_found(cert)
        _concurrent_write(app, request, record)
        check_if_match(request, record)
        check_proof(record, body.get("certificate") if isinstance(body, dict) else None)
        record.pop("verificationCode")
        record.update(isVerified=True, etag=dps.new_etag(), updated=time.time())
        app.store.save()
        return Response(200, representation(instance, record))


def verified_cas(app, id_scope):
    """(instance record, [verified CA certificates]) of the instance with this id scope, or (None, [])."""
    with app.store.lock:
        for instance in app.store.section(arm.SERVICES).values():
            if instance.get("idScope", "").lower() == (id_scope or "").lower() and instance.get("state") == "Active":
                return instance, [load_certificate(rec["pem"]) for rec in _records(app, instance).values()
                                  if rec["isVerified"]]
    return None, []


def all_verified_pems(app):
    """Every verified CA certificate of every instance (the device endpoint's TLS trust store)."""
    with app.store.lock:
        instances = {i["idScope"] for i in app.store.section(arm.SERVICES).values()}
        return sorted({rec["pem"] for rec in app.store.section(CERTIFICATES).values()
                       if rec["isVerified"] and rec["idScope"] in instances})


def register(router):
    router.add("GET", arm.INSTANCE + r"/certificates", list_certificates)
    router.add("GET", CERTIFICATE, get_certificate)
    router.add("PUT", CERTIFICATE, put_certificate)
    router.add("DELETE", CERTIFICATE, delete_certificate)
    router.add("POST", CERTIFICATE + r"/generateVerificationCode", generate_verification_code)
    router.add("POST", CERTIFICATE + r"/verify", verify_certificate)
