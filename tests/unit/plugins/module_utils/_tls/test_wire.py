# Copyright: iotops.dps_tls contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Reading our ClientHello (built by the real ssl module, no network) and a server's plaintext flight."""

from __future__ import annotations

import ssl
import struct

import pytest

from ansible_collections.iotops.dps_tls.plugins.module_utils._tls.handshake import client_context
from ansible_collections.iotops.dps_tls.plugins.module_utils._tls.wire import (
    HELLO_RETRY_RANDOM, ServerFlight, WireError, parse_client_hello)


def client_hello(context):
    incoming, outgoing = ssl.MemoryBIO(), ssl.MemoryBIO()
    tls = context.wrap_bio(incoming, outgoing, server_hostname="dps.test")
    with pytest.raises(ssl.SSLWantReadError):
        tls.do_handshake()
    return outgoing.read()


def record(kind, body):
    return struct.pack(">BHH", kind, 0x0303, len(body)) + body


def handshake_message(kind, body):
    return struct.pack(">B", kind) + struct.pack(">I", len(body))[1:] + body


def server_hello(version=0x0303, suite=0xC030, random=b"\x01" * 32, extensions=b""):
    body = struct.pack(">H", version) + random + b"\x00" + struct.pack(">HB", suite, 0)
    if extensions:
        body += struct.pack(">H", len(extensions)) + extensions
    return handshake_message(2, body)


def extension(kind, data):
    return struct.pack(">HH", kind, len(data)) + data


def test_one_suite_one_group_is_exactly_what_we_offer():
    hello = parse_client_hello(client_hello(client_context(
        max_protocol="TLSv1.2", ciphers="ECDHE-RSA-AES128-GCM-SHA256", group="secp384r1")))
    assert [c for c in hello["suites"] if c != 0x00FF] == [0xC02F]  # 0x00FF: the renegotiation signal
    assert hello["groups"] == [24]
    assert hello["versions"] == ["TLSv1.2"]


def test_tls13_is_offered_through_supported_versions():
    hello = parse_client_hello(client_hello(client_context(min_protocol="TLSv1.3", max_protocol="TLSv1.3")))
    assert hello["versions"] == ["TLSv1.3"]


def test_tls10_hello_is_built_at_security_level_zero():
    hello = parse_client_hello(client_hello(client_context(min_protocol="TLSv1", max_protocol="TLSv1")))
    assert hello["versions"] == ["TLSv1"]
    assert 0x002F in hello["suites"]


def test_not_a_client_hello():
    with pytest.raises(WireError):
        parse_client_hello(record(21, b"\x02\x28"))


def test_tls12_flight_split_across_reads():
    key_exchange = handshake_message(12, b"\x03\x00\x18" + b"\x41" + b"\x04" * 65)
    flight = record(22, server_hello(suite=0x009C) + handshake_message(11, b"\x00\x00\x00"))
    flight += record(22, key_exchange + handshake_message(13, b"\x01\x01\x00\x00\x00\x00"))
    flight += record(22, handshake_message(14, b""))
    reader = ServerFlight()
    for i in range(0, len(flight), 7):
        reader.feed(flight[i:i + 7])
    assert (reader.protocol, reader.suite_code, reader.group_code) == ("TLSv1.2", 0x009C, 24)
    assert reader.certificate_requested is True
    assert reader.alert is None


def test_alert_after_the_hello_is_still_read():
    reader = ServerFlight()
    reader.feed(record(22, server_hello() + handshake_message(14, b"")) + record(21, b"\x02\x28"))
    assert reader.server_hello and reader.certificate_requested is False
    assert reader.alert == ("fatal", "handshake_failure")


def test_refusal_is_an_alert_without_a_hello():
    reader = ServerFlight()
    reader.feed(record(21, b"\x02\x46"))
    assert not reader.server_hello
    assert reader.alert == ("fatal", "protocol_version")


def test_tls13_hello_and_hello_retry():
    versions = extension(43, b"\x03\x04")
    retry = ServerFlight()
    retry.feed(record(22, server_hello(suite=0x1302, random=HELLO_RETRY_RANDOM,
                                       extensions=versions + extension(51, b"\x00\x18"))))
    assert retry.hello_retry and not retry.server_hello
    retry.feed(record(20, b"\x01"))  # the compatibility ChangeCipherSpec between the two hellos
    retry.feed(record(22, server_hello(suite=0x1302, extensions=versions + extension(51, b"\x00\x18\x00\x01\x04"))))
    assert (retry.protocol, retry.suite_code, retry.group_code) == ("TLSv1.3", 0x1302, 24)
    reader = ServerFlight()
    reader.feed(record(22, server_hello(suite=0x1301, extensions=versions + extension(51, b"\x00\x1d\x00\x20"
                                                                                          + b"\x00" * 32))))
    assert (reader.protocol, reader.suite_code, reader.group_code) == ("TLSv1.3", 0x1301, 29)
    assert reader.encrypted and reader.certificate_requested is None
    reader.feed(record(21, b"\x02\x74"))  # encrypted from here: never read as an alert
    assert reader.alert is None
