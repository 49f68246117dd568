# Copyright: iotops.dps_tls contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Call the emulator's DPS service API with a real azure-identity token for https://azure-devices-provisioning.net.

Usage: python service_api.py METHOD DPS_HOST PATH [JSON_BODY]
Prints {"status": N, "body": ...}; exit status 0 for 2xx, 1 otherwise. Reads the emulator from `dpsemu env`.
"""

import json
import os
import ssl
import sys
import urllib.error
import urllib.request

from azure.identity import ClientSecretCredential

SCOPE = "https://azure-devices-provisioning.net/.default"


def main(method, host, path, body=None):
    env = os.environ
    credential = ClientSecretCredential(env["AZURE_TENANT_ID"], env["AZURE_CLIENT_ID"], env["AZURE_CLIENT_SECRET"],
                                        authority=env["DPSEMU_URL"], disable_instance_discovery=True,
                                        connection_verify=env["DPSEMU_CA_FILE"])
    token = credential.get_token(SCOPE).token
    url = "%s/dps/%s/%s?api-version=2021-10-01" % (env["DPSEMU_URL"], host, path)
    headers = {"Authorization": "Bearer " + token, "Content-Type": "application/json"}
    if method == "PUT":
        headers["If-Match"] = "*"
    request = urllib.request.Request(url, data=body.encode("utf-8") if body else None, headers=headers, method=method)
    context = ssl.create_default_context(cafile=env["DPSEMU_CA_FILE"])
    try:
        with urllib.request.urlopen(request, context=context) as response:  # nosec - the emulator on loopback
            status, text = response.status, response.read()
    except urllib.error.HTTPError as exc:
        status, text = exc.code, exc.read()
    print(json.dumps({"status": status, "body": json.loads(text) if text else None}))
    return 0 if 200 <= status < 300 else 1


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:]))
