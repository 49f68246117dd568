# Copyright: iotops.dps_tls contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Just enough MQTT 3.1.1 (OASIS) for a DPS device registration: packets in and out of a socket."""

import struct

CONNECT, CONNACK, PUBLISH, PUBACK = 1, 2, 3, 4
SUBSCRIBE, SUBACK, UNSUBSCRIBE, UNSUBACK = 8, 9, 10, 11
PINGREQ, PINGRESP, DISCONNECT = 12, 13, 14

ACCEPTED = 0
REFUSED_PROTOCOL = 1
REFUSED_NOT_AUTHORIZED = 5
MAX_PACKET = 256 * 1024


class ProtocolError(ValueError):
    """The peer sent something that is not MQTT 3.1.1 as a DPS client speaks it."""


def _read_exactly(sock, size):
    data = b""
    while len(data) < size:
        chunk = sock.recv(size - len(data))
        if not chunk:
            raise EOFError("connection closed")
        data += chunk
    return data


def read_packet(sock):
    """(packet type, flags, body) of the next packet."""
    first = _read_exactly(sock, 1)[0]
    length, shift = 0, 0
    for _position in range(4):
        byte = _read_exactly(sock, 1)[0]
        length |= (byte & 0x7F) << shift
        shift += 7
        if not byte & 0x80:
            break
    else:
        raise ProtocolError("malformed remaining length")
    if length > MAX_PACKET:
        raise ProtocolError("packet too large")
    return first >> 4, first & 0x0F, _read_exactly(sock, length)


def _encode_length(length):
    out = bytearray()
    while True:
        byte, length = length & 0x7F, length >> 7
        out.append(byte | (0x80 if length else 0))
        if not length:
            return bytes(out)


def packet(kind, flags, body):
    return bytes([(kind << 4) | flags]) + _encode_length(len(body)) + body


def _string(data, offset):
    (size,) = struct.unpack_from("!H", data, offset)
    end = offset + 2 + size
    if end > len(data):
        raise ProtocolError("truncated string")
    return data[offset + 2:end].decode("utf-8"), end


def _encode_string(text):
    raw = text.encode("utf-8")
    return struct.pack("!H", len(raw)) + raw


def parse_connect(body):
    """{client_id, username, password, keepalive} of a CONNECT body."""
    name, offset = _string(body, 0)
    if name != "MQTT" or body[offset] != 4:
        raise ProtocolError("only MQTT 3.1.1 is spoken here")
    flags = body[offset + 1]
    (keepalive,) = struct.unpack_from("!H", body, offset + 2)
    offset += 4
    client_id, offset = _string(body, offset)
    if flags & 0x04:  # will topic and message
        _topic, offset = _string(body, offset)
        _message, offset = _string(body, offset)
    username = password = None
    if flags & 0x80:
        username, offset = _string(body, offset)
    if flags & 0x40:
        password, offset = _string(body, offset)
    return {"client_id": client_id, "username": username, "password": password, "keepalive": keepalive}


def connack(code):
    return packet(CONNACK, 0, bytes([0, code]))


def parse_subscribe(body):
    (packet_id,) = struct.unpack_from("!H", body, 0)
    offset, granted = 2, []
    while offset < len(body):
        _topic, offset = _string(body, offset)
        granted.append(min(body[offset], 1))
        offset += 1
    return packet_id, granted


def suback(packet_id, granted):
    return packet(SUBACK, 0, struct.pack("!H", packet_id) + bytes(granted))


def parse_publish(flags, body):
    """(topic, qos, packet id or None, payload)."""
    qos = (flags >> 1) & 0x03
    topic, offset = _string(body, 0)
    packet_id = None
    if qos:
        (packet_id,) = struct.unpack_from("!H", body, offset)
        offset += 2
    return topic, qos, packet_id, body[offset:]


def publish(topic, payload):
    """A QoS 0 PUBLISH (the service may answer a QoS 1 subscription at a lower QoS)."""
    return packet(PUBLISH, 0, _encode_string(topic) + payload)


def ack(kind, packet_id):
    return packet(kind, 0, struct.pack("!H", packet_id))
