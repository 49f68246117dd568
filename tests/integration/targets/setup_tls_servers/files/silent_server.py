# Copyright: iotops.dps_tls contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A server that accepts TCP connections and never says a word: python silent_server.py."""

from __future__ import annotations

import socket

listener = socket.socket()
listener.bind(("127.0.0.1", 0))
listener.listen(64)
print("ACCEPT 127.0.0.1:%d" % listener.getsockname()[1], flush=True)
held = []
while True:
    connection, _peer = listener.accept()
    held.append(connection)  # keep it open and silent
