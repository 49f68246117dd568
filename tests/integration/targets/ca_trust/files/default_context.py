# Copyright: iotops.dps_tls contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What Python's default SSL context trusts, from the system store.

  default_context.py roots          -> SHA-256 of every CA the default context loaded, one a line
  default_context.py handshake CERT KEY -> exit 0 when a TLS client with the default context accepts a
                                       local server presenting CERT (for the name device.test)
"""

from __future__ import annotations

import hashlib
import socket
import ssl
import sys
import threading


def roots():
    for der in ssl.create_default_context().get_ca_certs(binary_form=True):
        print(hashlib.sha256(der).hexdigest().upper())
    return 0


def handshake(cert, key):
    server_ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server_ctx.load_cert_chain(cert, key)
    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]

    def serve():
        conn, dummy = listener.accept()
        try:
            with server_ctx.wrap_socket(conn, server_side=True):
                pass
        except (ssl.SSLError, OSError):
            pass

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
            with ssl.create_default_context().wrap_socket(sock, server_hostname="device.test"):
                print("verified")
                return 0
    except ssl.SSLCertVerificationError as exc:
        print("not verified: %s" % exc.verify_message)
        return 1
    finally:
        thread.join(10)
        listener.close()


if __name__ == "__main__":
    if sys.argv[1] == "roots":
        sys.exit(roots())
    sys.exit(handshake(sys.argv[2], sys.argv[3]))
