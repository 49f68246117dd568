# Copyright: iotops.dps_tls contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""MQTT over WebSockets (RFC 6455), as device SDKs speak it to DPS on port 443: path /$iothub/websocket,
subprotocol mqtt, binary frames. accept() answers the upgrade and returns a stream with recv/sendall, so the
MQTT session runs unchanged on top of it.
"""

import base64
import hashlib
import struct

PATH = "/$iothub/websocket"
GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
MAX_HEADER = 16 * 1024
CLOSE, PING, PONG = 0x8, 0x9, 0xA


class UpgradeRefused(ValueError):
    """The client did not ask for a WebSocket on the DPS path."""


def _read_request(sock):
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(1024)
        if not chunk:
            raise EOFError("connection closed during the upgrade")
        data += chunk
        if len(data) > MAX_HEADER:
            raise UpgradeRefused("upgrade request too large")
    head, _sep, rest = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = dict((k.strip().lower(), v.strip()) for k, _s, v in (line.partition(":") for line in lines[1:]))
    return lines[0].split(" "), headers, rest


def accept(sock):
    """Answer the upgrade (101) or refuse it (400, then UpgradeRefused); returns the frame stream."""
    request_line, headers, rest = _read_request(sock)
    key = headers.get("sec-websocket-key")
    if len(request_line) < 2 or request_line[1] != PATH or headers.get("upgrade", "").lower() != "websocket" \
            or not key:
        sock.sendall(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n")
        raise UpgradeRefused("not a WebSocket upgrade to %s: %s" % (PATH, " ".join(request_line)))
    digest = base64.b64encode(hashlib.sha1((key + GUID).encode("ascii")).digest()).decode("ascii")  # nosec - RFC 6455
    answer = ("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
              "Sec-WebSocket-Accept: %s\r\n" % digest)
    if "mqtt" in headers.get("sec-websocket-protocol", ""):
        answer += "Sec-WebSocket-Protocol: mqtt\r\n"
    sock.sendall((answer + "\r\n").encode("ascii"))
    return FrameStream(sock, rest)


def _frame(opcode, payload):
    size = len(payload)
    if size < 126:
        header = struct.pack("!BB", 0x80 | opcode, size)
    elif size < 65536:
        header = struct.pack("!BBH", 0x80 | opcode, 126, size)
    else:
        header = struct.pack("!BBQ", 0x80 | opcode, 127, size)
    return header + payload


class FrameStream:
    """recv/sendall over WebSocket binary frames (client frames are masked, ours are not)."""

    def __init__(self, sock, pending=b""):
        self.sock = sock
        self.raw = pending
        self.data = b""

    def _raw(self, size):
        while len(self.raw) < size:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise EOFError("connection closed")
            self.raw += chunk
        out, self.raw = self.raw[:size], self.raw[size:]
        return out

    def _next_frame(self):
        first, second = self._raw(2)
        opcode, size = first & 0x0F, second & 0x7F
        if size == 126:
            (size,) = struct.unpack("!H", self._raw(2))
        elif size == 127:
            (size,) = struct.unpack("!Q", self._raw(8))
        mask = self._raw(4) if second & 0x80 else b"\0\0\0\0"
        payload = bytes(b ^ mask[i % 4] for i, b in enumerate(self._raw(size)))
        if opcode == CLOSE:
            self.sock.sendall(_frame(CLOSE, payload[:2]))
            raise EOFError("WebSocket closed by the client")
        if opcode == PING:
            self.sock.sendall(_frame(PONG, payload))
            return
        if opcode != PONG:
            self.data += payload

    def recv(self, size):
        while not self.data:
            self._next_frame()
        out, self.data = self.data[:size], self.data[size:]
        return out

    def sendall(self, data):
        self.sock.sendall(_frame(0x2, data))
