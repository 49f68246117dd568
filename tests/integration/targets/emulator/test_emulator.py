# Copyright: iotops.dps_tls contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Drive the running emulator with the real azure-identity credentials and the real IotDpsClient.

Run by runme.sh twice: `before-restart`, then `after-restart` (same state dir, emulator restarted).
"""

import base64
import json
import os
import ssl
import sys
import time
import urllib.error
import urllib.request

from azure.core.exceptions import ClientAuthenticationError, HttpResponseError, ResourceNotFoundError
from azure.identity import (CertificateCredential, ClientSecretCredential, ManagedIdentityCredential,
                            WorkloadIdentityCredential)
from azure.mgmt.iothubprovisioningservices import IotDpsClient
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

URL = os.environ["DPSEMU_URL"]
CA = os.environ["DPSEMU_CA_FILE"]
STATE_DIR = os.environ["DPSEMU_STATE_DIR"]
TENANT = os.environ["AZURE_TENANT_ID"]
CLIENT = os.environ["AZURE_CLIENT_ID"]
SECRET = os.environ["AZURE_CLIENT_SECRET"]
SUBSCRIPTION = os.environ["AZURE_SUBSCRIPTION_ID"]
RG = "rg-dps-tls"
KEPT = "dps-kept-across-restart"
REMEMBERED = os.path.join(os.path.dirname(STATE_DIR), "before-restart.json")
HUB = "HostName=hub-one.azure-devices.net;SharedAccessKeyName=iothubowner;SharedAccessKey=c2VjcmV0LWh1Yi1rZXk="
AUTHORITY = {"authority": URL, "connection_verify": CA, "disable_instance_discovery": True}


def secret_credential(secret=SECRET, tenant=TENANT):
    return ClientSecretCredential(tenant, CLIENT, secret, **AUTHORITY)


def client(credential=None, scope=URL + "/.default", **kwargs):
    return IotDpsClient(credential or secret_credential(), SUBSCRIPTION, base_url=URL, credential_scopes=[scope],
                        polling_interval=0.2, connection_verify=CA, **kwargs)


def body(**props):
    return {"location": "westeurope", "sku": {"name": "S1", "capacity": 1}, "tags": {"team": "fleet"},
            "properties": props}


def claims_of(token):
    payload = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))


def call(method, path, data=None, headers=None):
    """A raw HTTPS call (control API, or ARM with hand-made headers): (status, headers, JSON body)."""
    context = ssl.create_default_context(cafile=CA)
    payload = None if data is None else json.dumps(data).encode()
    request = urllib.request.Request(URL + path, data=payload, method=method, headers=dict(headers or {}))
    if payload is not None:
        request.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(request, context=context, timeout=30) as response:
            raw = response.read()
            return response.status, response.headers, json.loads(raw) if raw else None
    except urllib.error.HTTPError as exc:
        raw = exc.read()
        return exc.code, exc.headers, json.loads(raw) if raw else None


def error_code(exc):
    return exc.error.code if exc.error else None


def expect_http_error(status, code, action):
    try:
        action()
    except HttpResponseError as exc:
        assert exc.status_code == status, (exc.status_code, exc.message)
        assert error_code(exc) == code, (error_code(exc), exc.message)
        return exc
    raise AssertionError("expected HTTP %d %s" % (status, code))


def sign(claims, key):
    def b64(data):
        return base64.urlsafe_b64encode(data).rstrip(b"=").decode()
    head = b64(json.dumps({"alg": "RS256", "typ": "JWT"}).encode()) + "." + b64(json.dumps(claims).encode())
    return head + "." + b64(key.sign(head.encode(), padding.PKCS1v15(), hashes.SHA256()))


# --- credentials ----------------------------------------------------------------------------------------------

def test_every_credential_gets_a_token_for_arm():
    os.environ["IDENTITY_ENDPOINT"] = os.environ["DPSEMU_MANAGED_IDENTITY_ENDPOINT"]
    os.environ["IDENTITY_HEADER"] = os.environ["DPSEMU_MANAGED_IDENTITY_HEADER"]
    credentials = [
        secret_credential(),
        CertificateCredential(TENANT, CLIENT, os.environ["DPSEMU_CLIENT_CERTIFICATE_PATH"], **AUTHORITY),
        WorkloadIdentityCredential(tenant_id=TENANT, client_id=CLIENT,
                                   token_file_path=os.environ["DPSEMU_FEDERATED_TOKEN_FILE"], **AUTHORITY),
        ManagedIdentityCredential(connection_verify=CA),
    ]
    for credential in credentials:
        token = credential.get_token(URL + "/.default").token
        claims = claims_of(token)
        assert claims["aud"] == URL and claims["tid"] == TENANT, (type(credential).__name__, claims)
        # Each credential's token is accepted by ARM.
        services = list(client(credential).iot_dps_resource.list_by_subscription())
        assert isinstance(services, list)


def test_wrong_secret_tenant_and_certificate_are_refused():
    unknown = "00000000-0000-0000-0000-000000000000"
    # MSAL reads the tenant's OpenID configuration first and reports its failure in its own words.
    status, _headers, answer = call("GET", "/%s/v2.0/.well-known/openid-configuration" % unknown)
    assert status == 400 and answer["error_codes"] == [90002], answer
    for credential, code in ((secret_credential(secret="not-the-secret"), "AADSTS7000215"),
                             (secret_credential(tenant=unknown), "Unable to get authority configuration")):
        try:
            credential.get_token(URL + "/.default")
        except ClientAuthenticationError as exc:
            assert code in str(exc), str(exc)
        else:
            raise AssertionError("a wrong credential got a token")
    # A certificate the app registration does not know: the assertion signature fails.
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    with open(os.environ["DPSEMU_CLIENT_CERTIFICATE_PATH"], "rb") as handle:
        cert_pem = handle.read().split(b"-----BEGIN PRIVATE KEY-----")[0]
    foreign = cert_pem + other.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                             serialization.NoEncryption())
    try:
        CertificateCredential(TENANT, CLIENT, certificate_data=foreign, **AUTHORITY).get_token(URL + "/.default")
    except ClientAuthenticationError as exc:
        assert "AADSTS700027" in str(exc), str(exc)
    else:
        raise AssertionError("an assertion signed by a foreign key got a token")


def test_arm_checks_token_audience_signature_and_expiry():
    exc = expect_http_error(401, "InvalidAuthenticationTokenAudience",
                            lambda: client(scope="https://management.azure.com/.default").iot_dps_resource.get(
                                provisioning_service_name="any", resource_group_name=RG))
    assert "WWW-Authenticate" in exc.response.headers
    path = "/subscriptions/%s/providers/Microsoft.Devices/provisioningServices?api-version=2020-01-01" % SUBSCRIPTION
    status, headers, answer = call("GET", path)
    assert status == 401 and answer["error"]["code"] == "AuthenticationFailed", answer
    assert headers["WWW-Authenticate"].startswith("Bearer ") and headers["x-ms-request-id"]
    now = int(time.time())
    claims = {"aud": URL, "tid": TENANT, "iat": now - 7200, "nbf": now - 7200, "exp": now - 3600}
    with open(os.path.join(STATE_DIR, "token-key.pem"), "rb") as handle:
        issuer_key = serialization.load_pem_private_key(handle.read(), password=None)
    status, _headers, answer = call("GET", path, headers={"Authorization": "Bearer " + sign(claims, issuer_key)})
    assert status == 401 and answer["error"]["code"] == "ExpiredAuthenticationToken", answer
    forged = sign(dict(claims, exp=now + 3600), rsa.generate_private_key(public_exponent=65537, key_size=2048))
    status, _headers, answer = call("GET", path, headers={"Authorization": "Bearer " + forged})
    assert status == 401 and answer["error"]["code"] == "InvalidAuthenticationToken", answer
    token = secret_credential().get_token(URL + "/.default").token
    for version in ("latest", "2022-02-05%0A"):
        status, _headers, answer = call("GET", path.split("?")[0] + "?api-version=" + version,
                                        headers={"Authorization": "Bearer " + token})
        assert status == 400 and answer["error"]["code"] == "InvalidApiVersionParameter", (version, answer)


# --- the provisioningServices lifecycle -----------------------------------------------------------------------

def test_create_read_update_patch_delete():
    dps = client().iot_dps_resource
    created = dps.begin_create_or_update(resource_group_name=RG, provisioning_service_name="dps-life",
                                         iot_dps_description=body(minTlsVersion="1.2", iotHubs=[
                                             {"connectionString": HUB, "location": "westeurope"}])).result()
    props = created.properties
    assert props["provisioningState"] == "Succeeded" and props["state"] == "Active", props
    assert props["minTlsVersion"] == "1.2" and props["allocationPolicy"] == "Hashed"
    assert props["publicNetworkAccess"] == "Enabled" and props["enableDataResidency"] is False
    assert props["idScope"].startswith("0ne") and len(props["idScope"]) == 11
    assert props["serviceOperationsHostName"] == "dps-life.azure-devices-provisioning.net"
    assert props["deviceProvisioningHostName"] == "global.azure-devices-provisioning.net"
    assert props["iotHubs"][0]["name"] == "hub-one.azure-devices.net"
    assert "c2VjcmV0" not in json.dumps(created.as_dict()), "linked hub keys are never read back"
    assert created.type == "Microsoft.Devices/provisioningServices" and created.sku.tier == "Standard"
    fetched = dps.get(provisioning_service_name="dps-life", resource_group_name=RG)
    assert fetched.etag == created.etag and fetched.id.endswith("/provisioningServices/dps-life")
    assert [s.name for s in dps.list_by_resource_group(resource_group_name=RG)].count("dps-life") == 1
    assert "dps-life" in [s.name for s in dps.list_by_subscription()]

    # PUT without minTlsVersion keeps it; capacity changes; the masked hub key keeps the stored one.
    update = body(iotHubs=fetched.properties["iotHubs"])
    update["sku"]["capacity"] = 3
    updated = dps.begin_create_or_update(resource_group_name=RG, provisioning_service_name="dps-life",
                                         iot_dps_description=update).result()
    assert updated.sku.capacity == 3 and updated.properties["minTlsVersion"] == "1.2"
    assert updated.etag != fetched.etag

    patched = dps.begin_update(resource_group_name=RG, provisioning_service_name="dps-life",
                               provisioning_service_tags={"tags": {"env": "ci"}}).result()
    assert patched.tags == {"env": "ci"} and patched.sku.capacity == 3 and patched.etag != updated.etag

    for change in ("1.0", None):
        expect_http_error(400, "MinTlsVersionCannotBeChanged",
                          lambda c=change: dps.begin_create_or_update(
                              resource_group_name=RG, provisioning_service_name="dps-life",
                              iot_dps_description=body(minTlsVersion=c)))
    expect_http_error(400, "EnableDataResidencyCannotBeChanged",
                      lambda: dps.begin_create_or_update(resource_group_name=RG, provisioning_service_name="dps-life",
                                                         iot_dps_description=body(enableDataResidency=True)))

    dps.begin_delete(resource_group_name=RG, provisioning_service_name="dps-life").result()
    try:
        dps.get(provisioning_service_name="dps-life", resource_group_name=RG)
    except ResourceNotFoundError as exc:
        assert error_code(exc) == "ResourceNotFound"
    else:
        raise AssertionError("deleted instance still readable")
    # Deleting what is gone is not an error.
    dps.begin_delete(resource_group_name=RG, provisioning_service_name="dps-life").result()


def test_operation_status_and_intermediate_states():
    dps = client().iot_dps_resource
    poller = dps.begin_create_or_update(resource_group_name=RG, provisioning_service_name="dps-slow",
                                        iot_dps_description=body())
    during = dps.get(provisioning_service_name="dps-slow", resource_group_name=RG)
    assert during.properties["provisioningState"] == "Accepted", during.properties
    expect_http_error(409, "AnotherOperationInProgress",
                      lambda: dps.begin_delete(resource_group_name=RG, provisioning_service_name="dps-slow"))
    operation_id = poller.polling_method()._operation.get_polling_url().split("/operationresults/")[1].split("?")[0]  # pylint: disable=protected-access
    result = dps.get_operation_result(operation_id=operation_id, resource_group_name=RG,
                                      provisioning_service_name="dps-slow", asyncinfo="true")
    assert result.status == "Running", result
    poller.result()
    result = dps.get_operation_result(operation_id=operation_id, resource_group_name=RG,
                                      provisioning_service_name="dps-slow", asyncinfo="true")
    assert result.status == "Succeeded", result
    deleting = dps.begin_delete(resource_group_name=RG, provisioning_service_name="dps-slow")
    assert dps.get(provisioning_service_name="dps-slow", resource_group_name=RG).properties["state"] == "Deleting"
    deleting.result()


def test_validation_names_the_field():
    dps = client().iot_dps_resource
    cases = [
        ("ab", body(), "InvalidProvisioningServiceName"),
        ("12345", body(), "InvalidProvisioningServiceName"),
        ("-dps", body(), "InvalidProvisioningServiceName"),
        ("x" * 65, body(), "InvalidProvisioningServiceName"),
        # sent percent-encoded (%0A): a name is matched whole, so a trailing newline is refused as Azure does
        ("dps-newline\n", body(), "InvalidProvisioningServiceName"),
        ("dps-bad", dict(body(), sku={"name": "S2", "capacity": 1}), "InvalidSku"),
        ("dps-bad", dict(body(), sku={"name": "S1", "capacity": 0}), "InvalidSkuCapacity"),
        ("dps-bad", dict(body(), sku={"name": "S1", "capacity": 201}), "InvalidSkuCapacity"),
        ("dps-bad", {"sku": {"name": "S1"}, "properties": {}}, "LocationRequired"),
        ("dps-bad", body(minTlsVersion="1.3"), "InvalidMinTlsVersion"),
        ("dps-bad", body(allocationPolicy="Random"), "InvalidAllocationPolicy"),
        ("dps-bad", body(publicNetworkAccess="Sometimes"), "InvalidPublicNetworkAccess"),
        ("dps-bad", body(iotHubs=[{"location": "westeurope"}]), "InvalidIotHubDefinition"),
        ("dps-bad", body(iotHubs=[{"connectionString": HUB}]), "InvalidIotHubDefinition"),
        ("dps-bad", body(ipFilterRules=[{"filterName": "f", "action": "Drop", "ipMask": "10.0.0.0/8"}]),
         "InvalidIpFilterRule"),
        ("dps-bad", body(ipFilterRules=[{"filterName": "f", "action": "Accept", "ipMask": "10.0.0.0/8",
                                         "target": "everything"}]), "InvalidIpFilterRule"),
    ]
    for name, description, code in cases:
        exc = expect_http_error(400, code, lambda n=name, d=description: dps.begin_create_or_update(
            resource_group_name=RG, provisioning_service_name=n, iot_dps_description=d))
        assert exc.error.message, code
    names = [s.name for s in dps.list_by_subscription()]
    assert "dps-bad" not in names, "a refused create left an instance behind"
    good = body(ipFilterRules=[{"filterName": "lab", "action": "Reject", "ipMask": "192.0.2.0/24",
                                "target": "deviceApi"}], allocationPolicy="GeoLatency")
    created = dps.begin_create_or_update(resource_group_name=RG, provisioning_service_name="0dps-ok-9",
                                         iot_dps_description=good).result()
    assert created.properties["ipFilterRules"][0]["target"] == "deviceApi"
    assert "minTlsVersion" not in created.properties
    dps.begin_delete(resource_group_name=RG, provisioning_service_name="0dps-ok-9").result()


def test_older_api_versions():
    dps = client(api_version="2020-01-01").iot_dps_resource
    created = dps.begin_create_or_update(resource_group_name=RG, provisioning_service_name="dps-api-2020",
                                         iot_dps_description=body(minTlsVersion="1.2")).result()
    assert created.properties["minTlsVersion"] == "1.2"
    dps.begin_delete(resource_group_name=RG, provisioning_service_name="dps-api-2020").result()


def test_seeded_instance_without_min_tls_cannot_get_one():
    status, _headers, seeded = call("POST", "/_emulator/seed", dict(body(), name="dps-old", resourceGroup=RG))
    assert status == 201 and "minTlsVersion" not in seeded["properties"], seeded
    dps = client().iot_dps_resource
    assert "minTlsVersion" not in dps.get(provisioning_service_name="dps-old", resource_group_name=RG).properties
    expect_http_error(400, "MinTlsVersionCannotBeChanged",
                      lambda: dps.begin_create_or_update(resource_group_name=RG, provisioning_service_name="dps-old",
                                                         iot_dps_description=body(minTlsVersion="1.2")))
    dps.begin_delete(resource_group_name=RG, provisioning_service_name="dps-old").result()


# --- faults and the request log -------------------------------------------------------------------------------

def add_fault(**fault):
    status, _headers, answer = call("POST", "/_emulator/faults", fault)
    assert status == 201, answer


def log_for(path_part):
    return [e for e in call("GET", "/_emulator/requests")[2] if path_part in e["path"]]


def test_throttling_and_server_errors_are_retried():
    dps = client().iot_dps_resource
    dps.begin_create_or_update(resource_group_name=RG, provisioning_service_name="dps-faults",
                               iot_dps_description=body()).result()
    call("DELETE", "/_emulator/requests")
    add_fault(method="GET", path_contains="/dps-faults", status=429, retry_after=1, count=2)
    dps.get(provisioning_service_name="dps-faults", resource_group_name=RG)
    entries = log_for("/dps-faults")
    assert [e["status"] for e in entries] == [429, 429, 200], entries
    stamps = [time.mktime(time.strptime(e["time"][:19], "%Y-%m-%dT%H:%M:%S")) + float(e["time"][19:23])
              for e in entries]
    assert stamps[1] - stamps[0] >= 0.9 and stamps[2] - stamps[1] >= 0.9, "Retry-After was not honoured"
    for status in (503, 500):
        call("DELETE", "/_emulator/requests")
        add_fault(method="GET", path_contains="/dps-faults", status=status, retry_after=0)
        dps.get(provisioning_service_name="dps-faults", resource_group_name=RG)
        assert [e["status"] for e in log_for("/dps-faults")] == [status, 200]


def test_connection_reset_is_retried():
    call("DELETE", "/_emulator/requests")
    add_fault(method="GET", path_contains="/dps-faults", action="reset")
    client().iot_dps_resource.get(provisioning_service_name="dps-faults", resource_group_name=RG)
    entries = log_for("/dps-faults")
    assert entries[0].get("fault") == "reset" and entries[0]["status"] is None, entries
    assert entries[-1]["status"] == 200, entries


def test_failed_operation():
    dps = client().iot_dps_resource
    add_fault(method="PUT", path_contains="/dps-faults", action="fail_operation")
    update = body()
    update["sku"]["capacity"] = 5
    try:
        dps.begin_create_or_update(resource_group_name=RG, provisioning_service_name="dps-faults",
                                   iot_dps_description=update).result()
    except HttpResponseError as exc:
        assert "OperationFailed" in str(exc) or "failed" in str(exc).lower(), str(exc)
    else:
        raise AssertionError("the operation should have failed")
    after = dps.get(provisioning_service_name="dps-faults", resource_group_name=RG)
    assert after.properties["provisioningState"] == "Failed" and after.sku.capacity == 1, after.as_dict()
    # The next operation is not affected.
    repaired = dps.begin_create_or_update(resource_group_name=RG, provisioning_service_name="dps-faults",
                                          iot_dps_description=update).result()
    assert repaired.properties["provisioningState"] == "Succeeded" and repaired.sku.capacity == 5
    dps.begin_delete(resource_group_name=RG, provisioning_service_name="dps-faults").result()
    status, _headers, answer = call("POST", "/_emulator/faults", {"status": 404})
    assert status == 400 and answer["error"]["code"] == "InvalidFault", answer


def test_request_log_never_holds_secrets():
    credential = secret_credential()
    token = credential.get_token(URL + "/.default").token
    client(credential).iot_dps_resource.list_by_subscription()
    entries = call("GET", "/_emulator/requests")[2]
    assert entries and {"method", "path", "query", "status", "request_id", "time"} <= set(entries[-1])
    text = json.dumps(entries)
    assert SECRET not in text and token not in text and os.environ["DPSEMU_MANAGED_IDENTITY_HEADER"] not in text
    assert any(e["path"].endswith("/oauth2/v2.0/token") for e in entries)
    assert call("DELETE", "/_emulator/requests")[0] == 204
    assert call("GET", "/_emulator/requests")[2] == []


# --- restart --------------------------------------------------------------------------------------------------

def test_prepare_restart():
    created = client().iot_dps_resource.begin_create_or_update(
        resource_group_name=RG, provisioning_service_name=KEPT, iot_dps_description=body(minTlsVersion="1.2")).result()
    with open(REMEMBERED, "w", encoding="utf-8") as handle:
        json.dump({"url": URL, "secret": SECRET, "etag": created.etag, "id_scope": created.properties["idScope"]},
                  handle)


def test_state_survives_restart():
    with open(REMEMBERED, encoding="utf-8") as handle:
        before = json.load(handle)
    assert before["url"] == URL and before["secret"] == SECRET, "identity or port changed across restart"
    dps = client().iot_dps_resource
    kept = dps.get(provisioning_service_name=KEPT, resource_group_name=RG)
    assert kept.etag == before["etag"] and kept.properties["idScope"] == before["id_scope"]
    assert kept.properties["minTlsVersion"] == "1.2"
    expect_http_error(400, "MinTlsVersionCannotBeChanged",
                      lambda: dps.begin_create_or_update(resource_group_name=RG, provisioning_service_name=KEPT,
                                                         iot_dps_description=body(minTlsVersion="1.1")))
    # The request log and faults live in memory: a restart starts them afresh.
    assert not [e for e in call("GET", "/_emulator/requests")[2] if "dps-faults" in e["path"]]
    dps.begin_delete(resource_group_name=RG, provisioning_service_name=KEPT).result()


def raw_request(method, target, token):
    """A request whose path goes on the wire exactly as written (http.client resolves no dot segments)."""
    import http.client
    from urllib.parse import urlsplit
    parts = urlsplit(URL)
    conn = http.client.HTTPSConnection(parts.hostname, parts.port, context=ssl.create_default_context(cafile=CA),
                                       timeout=30)
    try:
        conn.request(method, target, headers={"Authorization": "Bearer " + token})
        answer = conn.getresponse()
        raw = answer.read()
        return answer.status, json.loads(raw) if raw else None
    finally:
        conn.close()


def test_dot_segments_are_refused_before_routing():
    token = secret_credential().get_token(URL + "/.default").token
    base = "/subscriptions/%s/resourceGroups/%s/providers/Microsoft.Devices/provisioningServices/%s" % (
        SUBSCRIPTION, RG, "dps-dots")
    for tail in ("/certificates/..", "/certificates/.", "/certificates/%2e%2e", "/certificates/%2E", "/./x/..",
                 "/certificates/%252e%252e"):
        status, answer = raw_request("DELETE", base + tail + "?api-version=2022-02-05", token)
        assert status == 400 and answer["error"]["code"] == "InvalidPathDotSegment", (tail, status, answer)


def test_missing_resource_group_and_unknown_route_are_not_resource_not_found():
    dps = client()
    exc = expect_http_error(404, "ResourceGroupNotFound", lambda: dps.iot_dps_resource.get(
        resource_group_name="rg-that-does-not-exist", provisioning_service_name="dps-anything"))
    assert "Resource group 'rg-that-does-not-exist' could not be found." in exc.message
    expect_http_error(404, "ResourceGroupNotFound", lambda: dps.iot_dps_resource.begin_create_or_update(
        resource_group_name="rg-that-does-not-exist", provisioning_service_name="dps-void", iot_dps_description=body(),
        polling=False))
    headers = {"Authorization": "Bearer " + secret_credential().get_token(URL + "/.default").token}
    status, _headers, answer = call("GET", "/subscriptions/%s/resourceGroups/%s/providers/Microsoft.Devices/"
                                           "provisioningServices/x/extra/path?api-version=2022-02-05" % (SUBSCRIPTION, RG),
                                    headers=headers)
    assert status == 404 and answer["error"]["code"] == "NoRouteFound", (status, answer)
    group = "/subscriptions/%s/resourcegroups/rg-made-here?api-version=2021-04-01" % SUBSCRIPTION
    assert call("GET", group, headers=headers)[2]["error"]["code"] == "ResourceGroupNotFound"
    assert call("PUT", group, data={"location": "westeurope"}, headers=headers)[0] == 201
    assert call("GET", group, headers=headers)[0] == 200
    dps.iot_dps_resource.begin_create_or_update(
        resource_group_name="rg-made-here", provisioning_service_name="dps-in-new-group", iot_dps_description=body(),
        polling=False)
    assert dps.iot_dps_resource.get(resource_group_name="rg-made-here",
                                    provisioning_service_name="dps-in-new-group").name == "dps-in-new-group"


PHASES = {
    "before-restart": [
        test_every_credential_gets_a_token_for_arm,
        test_wrong_secret_tenant_and_certificate_are_refused,
        test_arm_checks_token_audience_signature_and_expiry,
        test_create_read_update_patch_delete,
        test_operation_status_and_intermediate_states,
        test_validation_names_the_field,
        test_older_api_versions,
        test_seeded_instance_without_min_tls_cannot_get_one,
        test_throttling_and_server_errors_are_retried,
        test_connection_reset_is_retried,
        test_failed_operation,
        test_request_log_never_holds_secrets,
        test_dot_segments_are_refused_before_routing,
        test_missing_resource_group_and_unknown_route_are_not_resource_not_found,
        test_prepare_restart,
    ],
    "after-restart": [test_state_survives_restart],
}


def main(phase):
    for test in PHASES[phase]:
        started = time.monotonic()
        test()
        print("ok %s (%.1fs)" % (test.__name__, time.monotonic() - started))


if __name__ == "__main__":
    main(sys.argv[1])
