# Copyright: iotops.dps_tls contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Reads the plaintext part of a TLS handshake: what we offered and what the server answered.

Python's ssl says whether a handshake finished, not what the server chose before it failed. The ServerHello,
the server's ECDHE group, a CertificateRequest and an early alert travel in clear, so reading them tells
"the server accepted TLS 1.2 with this suite, then wanted a client certificate" apart from "the server refused".
"""

from __future__ import annotations

import struct

RECORD_CHANGE_CIPHER_SPEC = 20
RECORD_ALERT = 21
RECORD_HANDSHAKE = 22

CLIENT_HELLO = 1
SERVER_HELLO = 2
CERTIFICATE = 11
SERVER_KEY_EXCHANGE = 12
CERTIFICATE_REQUEST = 13
SERVER_HELLO_DONE = 14

EXT_SUPPORTED_GROUPS = 10
EXT_SUPPORTED_VERSIONS = 43
EXT_KEY_SHARE = 51

# A ServerHello with this random is a HelloRetryRequest (RFC 8446 4.1.3), not an answer.
HELLO_RETRY_RANDOM = bytes.fromhex("CF21AD74E59A6111BE1D8C021E65B891C2A211167ABB8C5E079E09E2C8A8339C")

VERSION_NAMES = {0x0301: "TLSv1", 0x0302: "TLSv1.1", 0x0303: "TLSv1.2", 0x0304: "TLSv1.3"}

ALERTS = {
    0: "close_notify", 10: "unexpected_message", 20: "bad_record_mac", 22: "record_overflow",
    40: "handshake_failure", 42: "bad_certificate", 43: "unsupported_certificate", 44: "certificate_revoked",
    45: "certificate_expired", 46: "certificate_unknown", 47: "illegal_parameter", 48: "unknown_ca",
    49: "access_denied", 50: "decode_error", 51: "decrypt_error", 70: "protocol_version",
    71: "insufficient_security", 80: "internal_error", 86: "inappropriate_fallback", 90: "user_canceled",
    109: "missing_extension", 110: "unsupported_extension", 112: "unrecognized_name",
    116: "certificate_required", 120: "no_application_protocol",
}


class WireError(ValueError):
    """Bytes that are not the TLS we expected."""


def _extensions(data):
    exts = {}
    pos = 0
    while pos + 4 <= len(data):
        kind, length = struct.unpack(">HH", data[pos:pos + 4])
        exts[kind] = data[pos + 4:pos + 4 + length]
        pos += 4 + length
    return exts


def _records(data):
    """(content type, fragment) for each complete record; the rest is returned for later."""
    out = []
    pos = 0
    while pos + 5 <= len(data):
        kind, _version, length = struct.unpack(">BHH", data[pos:pos + 5])
        if pos + 5 + length > len(data):
            break
        out.append((kind, data[pos + 5:pos + 5 + length]))
        pos += 5 + length
    return out, data[pos:]


def parse_client_hello(data):
    """What a ClientHello record offers: dict of versions, suites, groups. Raises WireError."""
    records, _rest = _records(data)
    if not records or records[0][0] != RECORD_HANDSHAKE:
        raise WireError("not a handshake record")
    body = b"".join(fragment for kind, fragment in records if kind == RECORD_HANDSHAKE)
    if len(body) < 4 or body[0] != CLIENT_HELLO:
        raise WireError("not a ClientHello")
    try:
        pos = 4
        legacy_version = struct.unpack(">H", body[pos:pos + 2])[0]
        pos += 2 + 32
        pos += 1 + body[pos]
        suites_len = struct.unpack(">H", body[pos:pos + 2])[0]
        pos += 2
        suites = [struct.unpack(">H", body[pos + i:pos + i + 2])[0] for i in range(0, suites_len, 2)]
        pos += suites_len
        pos += 1 + body[pos]
        exts_len = struct.unpack(">H", body[pos:pos + 2])[0] if pos + 2 <= len(body) else 0
        exts = _extensions(body[pos + 2:pos + 2 + exts_len])
    except (IndexError, struct.error) as exc:
        raise WireError("truncated ClientHello: %s" % exc)
    versions = [legacy_version]
    if EXT_SUPPORTED_VERSIONS in exts:
        raw = exts[EXT_SUPPORTED_VERSIONS][1:]
        versions = [struct.unpack(">H", raw[i:i + 2])[0] for i in range(0, len(raw) - 1, 2)]
    groups = []
    if EXT_SUPPORTED_GROUPS in exts:
        raw = exts[EXT_SUPPORTED_GROUPS][2:]
        groups = [struct.unpack(">H", raw[i:i + 2])[0] for i in range(0, len(raw) - 1, 2)]
    return {
        "versions": [VERSION_NAMES.get(v, "0x%04X" % v) for v in versions],
        "suites": suites,
        "groups": groups,
    }


class ServerFlight(object):
    """Collects what the server sends in clear: feed() it every chunk read from the socket."""

    def __init__(self):
        self._buffer = b""
        self._handshake = b""
        self.encrypted = False
        self.protocol = None          # 'TLSv1.2' from the ServerHello
        self.suite_code = None
        self.group_code = None        # ECDHE group from ServerKeyExchange (1.2) or key_share (1.3)
        self.hello_retry = False
        self.certificate_requested = None  # True/False once known in clear (TLS 1.2), None in TLS 1.3
        self.alert = None             # (level, description name) of the first alert read in clear

    @property
    def server_hello(self):
        return self.protocol is not None

    def feed(self, data):
        if self.encrypted:
            return
        records, self._buffer = _records(self._buffer + data)
        for kind, fragment in records:
            if self.encrypted:
                return
            if kind == RECORD_ALERT and len(fragment) >= 2 and self.alert is None:
                self.alert = ("fatal" if fragment[0] == 2 else "warning",
                              ALERTS.get(fragment[1], "alert %d" % fragment[1]))
            elif kind == RECORD_CHANGE_CIPHER_SPEC and self.protocol is not None:
                # TLS 1.2: encrypted from here. (TLS 1.3 sends it as a no-op, even between a HelloRetryRequest
                # and the real ServerHello: that one is ignored.)
                self.encrypted = True
            elif kind == RECORD_HANDSHAKE:
                self._handshake += fragment
                self._read_messages()

    def _read_messages(self):
        while len(self._handshake) >= 4 and not self.encrypted:
            kind = self._handshake[0]
            length = struct.unpack(">I", b"\x00" + self._handshake[1:4])[0]
            if len(self._handshake) < 4 + length:
                return
            body = self._handshake[4:4 + length]
            self._handshake = self._handshake[4 + length:]
            if kind == SERVER_HELLO:
                self._server_hello(body)
            elif kind == SERVER_KEY_EXCHANGE and len(body) >= 3 and body[0] == 3:
                self.group_code = struct.unpack(">H", body[1:3])[0]
            elif kind == CERTIFICATE_REQUEST:
                self.certificate_requested = True
            elif kind == SERVER_HELLO_DONE:
                if self.certificate_requested is None:
                    self.certificate_requested = False

    def _server_hello(self, body):
        try:
            version = struct.unpack(">H", body[0:2])[0]
            random = body[2:34]
            pos = 34
            pos += 1 + body[pos]
            suite = struct.unpack(">H", body[pos:pos + 2])[0]
            pos += 3
            exts = {}
            if pos + 2 <= len(body):
                exts_len = struct.unpack(">H", body[pos:pos + 2])[0]
                exts = _extensions(body[pos + 2:pos + 2 + exts_len])
        except (IndexError, struct.error):
            return
        if EXT_SUPPORTED_VERSIONS in exts and len(exts[EXT_SUPPORTED_VERSIONS]) >= 2:
            version = struct.unpack(">H", exts[EXT_SUPPORTED_VERSIONS][:2])[0]
        if EXT_KEY_SHARE in exts and len(exts[EXT_KEY_SHARE]) >= 2:
            self.group_code = struct.unpack(">H", exts[EXT_KEY_SHARE][:2])[0]
        if random == HELLO_RETRY_RANDOM:
            # The server likes the suite but wants another key share; the real answer follows.
            self.hello_retry = True
            return
        self.protocol = VERSION_NAMES.get(version, "0x%04X" % version)
        self.suite_code = suite
        if version == 0x0304:
            self.encrypted = True
