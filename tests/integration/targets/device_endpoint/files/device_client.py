# Copyright: iotops.dps_tls contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Register one device with the real azure-iot-device SDK over MQTT (port 8883) and print the outcome as JSON.

Usage: python device_client.py --host 127.0.0.1 --id-scope SCOPE --registration-id ID --cert C --key K
       --server-ca CA [--cipher OPENSSL_SUITES] [--websockets]
Exit status 0 when the device was assigned, 1 otherwise (the JSON says why).
"""

import argparse
import json
import sys
import time

from azure.iot.device import ProvisioningDeviceClient, X509


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--id-scope", required=True)
    parser.add_argument("--registration-id", required=True)
    parser.add_argument("--cert", required=True)
    parser.add_argument("--key", required=True)
    parser.add_argument("--server-ca", required=True)
    parser.add_argument("--cipher", default="")
    parser.add_argument("--websockets", action="store_true", help="MQTT over WebSockets on port 443")
    args = parser.parse_args()
    with open(args.server_ca, encoding="ascii") as handle:
        server_ca = handle.read()
    options = {"server_verification_cert": server_ca}
    if args.cipher:
        options["cipher"] = args.cipher
    if args.websockets:
        options["websockets"] = True
    client = ProvisioningDeviceClient.create_from_x509_certificate(
        provisioning_host=args.host, registration_id=args.registration_id, id_scope=args.id_scope,
        x509=X509(cert_file=args.cert, key_file=args.key), **options)
    started = time.monotonic()
    try:
        result = client.register()
    except Exception as exc:  # pylint: disable=broad-except
        cause = exc.__cause__
        print(json.dumps({"registered": False, "error": type(exc).__name__, "message": str(exc),
                          "cause": None if cause is None else repr(cause)}))
        return 1
    state = result.registration_state
    print(json.dumps({"registered": result.status == "assigned", "status": result.status,
                      "assigned_hub": state.assigned_hub if state else None,
                      "device_id": state.device_id if state else None,
                      "seconds": round(time.monotonic() - started, 1)}))
    return 0 if result.status == "assigned" else 1


if __name__ == "__main__":
    sys.exit(main())
