# Copyright: iotops.dps_tls contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Handshake with an endpoint using Python's ssl, one protocol or one suite at a time; print what it accepted.

Usage: python ssl_client.py HOST PORT CA_FILE
"""

import json
import socket
import ssl
import sys
import warnings

# TLS 1.0 and 1.1 are offered on purpose, to see them refused.
warnings.simplefilter("ignore", DeprecationWarning)

POLICY = ["ECDHE-RSA-AES256-GCM-SHA384", "ECDHE-RSA-AES128-GCM-SHA256", "ECDHE-RSA-AES256-SHA384",
          "ECDHE-RSA-AES128-SHA256", "ECDHE-RSA-AES256-SHA", "ECDHE-RSA-AES128-SHA", "AES256-GCM-SHA384",
          "AES128-GCM-SHA256", "AES256-SHA256", "AES128-SHA256", "AES256-SHA", "AES128-SHA"]
CONTROLS = ["ECDHE-RSA-CHACHA20-POLY1305", "DHE-RSA-AES256-GCM-SHA384", "DHE-RSA-AES128-GCM-SHA256",
            "CAMELLIA256-SHA"]
VERSIONS = {"TLSv1": ssl.TLSVersion.TLSv1, "TLSv1.1": ssl.TLSVersion.TLSv1_1, "TLSv1.2": ssl.TLSVersion.TLSv1_2,
            "TLSv1.3": ssl.TLSVersion.TLSv1_3}
GLOBAL = "global.azure-devices-provisioning.net"


def connect(address, ca_file, version=ssl.TLSVersion.TLSv1_2, ciphers="ALL:@SECLEVEL=0", server_name=GLOBAL,
            check_hostname=True):
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.load_verify_locations(ca_file)
    context.check_hostname = check_hostname
    context.minimum_version = context.maximum_version = version
    context.set_ciphers(ciphers)
    with socket.create_connection(address, timeout=5) as sock:
        try:
            with context.wrap_socket(sock, server_hostname=server_name) as tls:
                return tls.version(), tls.cipher()[0], tls.getpeercert(), tls._sslobj.get_verified_chain()  # pylint: disable=protected-access
        except (ssl.SSLError, OSError):
            return None


def main(host, port, ca_file):
    address = (host, int(port))
    seen = {"policy_suites": POLICY, "controls": CONTROLS}
    seen["protocols"] = {name: connect(address, ca_file, version) is not None for name, version in VERSIONS.items()}
    seen["accepted_suites"] = [s for s in POLICY if connect(address, ca_file, ciphers=s + ":@SECLEVEL=0")]
    seen["rejected_controls"] = [s for s in CONTROLS if not connect(address, ca_file, ciphers=s + ":@SECLEVEL=0")]
    # Every TLS 1.2 (and older) suite this OpenSSL can offer, one at a time: exactly the policy's must succeed.
    every = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    every.set_ciphers("ALL:COMPLEMENTOFALL:@SECLEVEL=0")
    local = [c["name"] for c in every.get_ciphers() if c["protocol"] != "TLSv1.3"]
    seen["local_suites_tried"] = len(local)
    seen["accepted_of_all_local"] = sorted(s for s in local if connect(address, ca_file, ciphers=s + ":@SECLEVEL=0"))
    first = connect(address, ca_file, ciphers=":".join(reversed(POLICY)))
    seen["chosen_from_reversed_offer"] = first[1] if first else None
    from cryptography import x509  # pylint: disable=import-outside-toplevel
    chain = [x509.load_der_x509_certificate(c.public_bytes(ssl._ssl.ENCODING_DER)) for c in first[3]] if first else []  # pylint: disable=protected-access
    seen["chain"] = [c.subject.rfc4514_string() for c in chain[:2]]
    seen["leaf_key_bits"] = chain[0].public_key().key_size if chain else None
    seen["sni_global"] = connect(address, ca_file) is not None
    seen["sni_unknown"] = connect(address, ca_file, server_name="dps.example.com", check_hostname=False) is not None
    print(json.dumps(seen))


if __name__ == "__main__":
    main(*sys.argv[1:])
