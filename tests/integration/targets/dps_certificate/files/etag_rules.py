# Copyright: iotops.dps_tls contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The emulator's certificate API at the HTTP level: If-Match rules, proof of possession, single-use codes.

Usage: python etag_rules.py ENDPOINTS_JSON RESOURCE_GROUP DPS_NAME CA_PEM CA_KEY OTHER_KEY
Prints one line per check and exits 1 at the first answer that differs from DPS's rules.
"""

import base64
import datetime
import json
import ssl
import sys
import urllib.error
import urllib.request

from azure.identity import ClientSecretCredential
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID


def proof(ca_pem, key_pem, code):
    ca = x509.load_pem_x509_certificate(ca_pem)
    key = serialization.load_pem_private_key(key_pem, password=None)
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, code)]))
            .issuer_name(ca.subject).public_key(ec.generate_private_key(ec.SECP256R1()).public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(minutes=1))
            .not_valid_after(now + datetime.timedelta(hours=1)).sign(key, hashes.SHA256()))
    return cert.public_bytes(serialization.Encoding.PEM).decode("ascii")


def main(endpoints_path, rg, dps, ca_path, key_path, other_key_path):
    with open(endpoints_path, encoding="utf-8") as handle:
        emu = json.load(handle)
    url = emu["resource_manager_endpoint"]
    credential = ClientSecretCredential(emu["tenant_id"], emu["client_id"], emu["client_secret"], authority=url,
                                        disable_instance_discovery=True, connection_verify=emu["ca_file"])
    token = credential.get_token(url + "/.default").token
    context = ssl.create_default_context(cafile=emu["ca_file"])
    base = "%s/subscriptions/%s/resourceGroups/%s/providers/Microsoft.Devices/provisioningServices/%s/certificates/" \
        "etag-ca" % (url, emu["subscription_id"], rg, dps)
    with open(ca_path, "rb") as handle:
        ca_pem = handle.read()
    with open(key_path, "rb") as handle:
        key_pem = handle.read()
    with open(other_key_path, "rb") as handle:
        other_key_pem = handle.read()
    failures = []

    def call(what, method, path, expect, body=None, if_match=None):
        headers = {"Authorization": "Bearer " + token, "Content-Type": "application/json"}
        if if_match is not None:
            headers["If-Match"] = if_match
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(base + path + "?api-version=2026-11-01", data=data, method=method,
                                         headers=headers)
        try:
            with urllib.request.urlopen(request, context=context) as response:
                status, answer = response.status, response.read()
        except urllib.error.HTTPError as exc:
            status, answer = exc.code, exc.read()
        answer = json.loads(answer) if answer else {}
        print("%s %s: %s (want %s)" % ("ok  " if status == expect else "FAIL", what, status, expect))
        if status != expect:
            failures.append(what)
        return answer

    upload = {"properties": {"certificate": base64.b64encode(ca_pem).decode()}}
    first = call("create without If-Match", "PUT", "", 200, upload)
    call("update without If-Match", "PUT", "", 412, upload)
    call("update with a wrong etag", "PUT", "", 412, upload, if_match='"nope"')
    second = call("update with the etag unquoted", "PUT", "", 200, upload, if_match=first.get("etag", ""))
    code1 = call("code with If-Match *", "POST", "/generateVerificationCode", 200, if_match="*")
    call("code without If-Match", "POST", "/generateVerificationCode", 412)
    call("code with the previous etag", "POST", "/generateVerificationCode", 412, if_match=second.get("etag"))
    code2 = call("code with the etag quoted", "POST", "/generateVerificationCode", 200,
                 if_match='"%s"' % code1.get("etag"))
    old_code = code1["properties"]["verificationCode"]
    new_code = code2["properties"]["verificationCode"]
    call("verify a replaced code", "POST", "/verify", 400, {"certificate": proof(ca_pem, key_pem, old_code)}, "*")
    call("verify signed by another key", "POST", "/verify", 400,
         {"certificate": proof(ca_pem, other_key_pem, new_code)}, "*")
    good = proof(ca_pem, key_pem, new_code)
    call("verify without If-Match", "POST", "/verify", 412, {"certificate": good})
    verified = call("verify the current code", "POST", "/verify", 200, {"certificate": good}, '"%s"'
                    % code2.get("etag"))
    if verified.get("properties", {}).get("isVerified") is not True:
        failures.append("isVerified after verify")
    call("verify the same code again (single use)", "POST", "/verify", 400,
         {"certificate": base64.b64encode(good.encode()).decode()}, "*")
    call("delete without If-Match", "DELETE", "", 412)
    call("delete with If-Match *", "DELETE", "", 200, if_match="*")
    call("read after delete", "GET", "", 404)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:]))
