# Copyright: iotops.dps_tls contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""One handshake against real servers in this process: accepted, refused, not offered, silent, closed."""

from __future__ import annotations

import ssl
import time

from ansible_collections.iotops.dps_tls.plugins.module_utils._tls import handshake as hs
from ansible_collections.iotops.dps_tls.plugins.module_utils._tls.policy import tls_version
from ansible_collections.iotops.dps_tls.plugins.module_utils._trust.certificate import sha256_of


def test_accepted_with_the_chain_and_its_verification(tls_server, pki):
    server = tls_server()
    result = hs.handshake(hs.HandshakeSpec(server.address, "dps.test", 5),
                          hs.client_context(verify=True, ca_file=str(pki["root"])))
    assert result.outcome == hs.ACCEPTED and result.completed
    assert (result.protocol, result.suite_code, result.group_code) == ("TLSv1.2", 0xC02F, 29)
    assert result.certificate_requested is False
    assert [sha256_of(d) for d in result.unverified_chain] == [sha256_of(pki["rsa_der"])]
    assert [sha256_of(d) for d in result.verified_chain] == [sha256_of(pki["rsa_der"]), sha256_of(pki["root_der"])]


def test_verification_failure_still_tells_what_the_server_chose(tls_server):
    server = tls_server()
    result = hs.handshake(hs.HandshakeSpec(server.address, "dps.test", 5), hs.client_context(verify=True))
    assert result.outcome == hs.ACCEPTED and not result.completed
    assert result.suite_code == 0xC02F
    assert result.verify_error[0] == 20  # unable to get local issuer certificate


def test_a_suite_probe_stops_at_the_server_hello(tls_server):
    server = tls_server()
    result = hs.handshake(hs.HandshakeSpec(server.address, "dps.test", 5), hs.client_context(ciphers="AES128-SHA"),
                          until=hs.UNTIL_SERVER_HELLO)
    assert result.outcome == hs.ACCEPTED and result.stopped and not result.completed
    assert (result.protocol, result.suite_code, result.reason) == ("TLSv1.2", 0x002F, None)


def test_a_chain_probe_stops_once_the_chain_is_checked(tls_server, pki):
    server = tls_server()
    connections = []
    result = hs.handshake(hs.HandshakeSpec(server.address, "dps.test", 5),
                          hs.client_context(verify=True, ca_file=str(pki["root"]), check_hostname=True),
                          until=hs.UNTIL_CHAIN, connected=lambda: connections.append(True))
    assert connections == [True]
    assert result.outcome == hs.ACCEPTED and result.stopped and not result.completed
    assert result.verify_error is None and result.certificate_requested is False
    assert [sha256_of(d) for d in result.verified_chain] == [sha256_of(pki["rsa_der"]), sha256_of(pki["root_der"])]


def test_a_chain_probe_goes_to_the_end_when_the_server_asks_for_a_client_certificate(tls_server):
    asking = tls_server(client_certificate=ssl.CERT_OPTIONAL)
    result = hs.handshake(hs.HandshakeSpec(asking.address, "dps.test", 5), hs.client_context(),
                          until=hs.UNTIL_CLIENT_CERTIFICATE)
    assert result.completed and not result.stopped and result.certificate_requested is True
    requiring = tls_server(client_certificate=ssl.CERT_REQUIRED)
    result = hs.handshake(hs.HandshakeSpec(requiring.address, "dps.test", 5), hs.client_context(),
                          until=hs.UNTIL_CLIENT_CERTIFICATE)
    assert result.outcome == hs.ACCEPTED and not result.completed and not result.stopped and result.reason
    result = hs.handshake(hs.HandshakeSpec(requiring.address, "dps.test", 5), hs.client_context(),
                          until=hs.UNTIL_CHAIN)
    assert result.stopped and result.certificate_requested is True and result.unverified_chain
    result = hs.handshake(hs.HandshakeSpec(tls_server().address, "dps.test", 5), hs.client_context(),
                          until=hs.UNTIL_CLIENT_CERTIFICATE)
    assert result.stopped and result.certificate_requested is False


def test_where_the_chain_shows_only_at_the_end_a_chain_probe_goes_there(tls_server, monkeypatch):
    monkeypatch.setattr(hs, "_chain_readable", lambda tls: False)  # Python 3.8 and 3.9
    result = hs.handshake(hs.HandshakeSpec(tls_server().address, "dps.test", 5), hs.client_context(),
                          until=hs.UNTIL_CHAIN)
    assert result.completed and not result.stopped and result.unverified_chain


def test_refused_suite(tls_server):
    server = tls_server()
    result = hs.handshake(hs.HandshakeSpec(server.address, "dps.test", 5), hs.client_context(ciphers="AES256-SHA"))
    assert result.outcome == hs.REJECTED
    assert "handshake_failure" in result.reason


def test_refused_protocol(tls_server):
    server = tls_server()
    result = hs.handshake(hs.HandshakeSpec(server.address, None, 5),
                          hs.client_context(min_protocol="TLSv1", max_protocol="TLSv1"))
    assert result.outcome == hs.REJECTED
    assert result.protocol is None


def test_what_we_cannot_offer_never_reaches_the_network(closed_port):
    context = hs.client_context(max_protocol="TLSv1.2", ciphers="AES128-SHA")
    result = hs.handshake(hs.HandshakeSpec(("127.0.0.1", closed_port), None, 5), context,
                          wanted=lambda hello: None if 0xC030 in hello["suites"] else "left out")
    assert result.outcome == hs.NOT_OFFERED and result.reason == "left out"


def test_a_stack_that_refuses_to_build_the_hello(closed_port):
    context = hs.client_context(min_protocol="TLSv1.3", max_protocol="TLSv1.3")
    context.maximum_version = tls_version("TLSv1.2")  # min above max: OpenSSL builds no hello at all
    result = hs.handshake(hs.HandshakeSpec(("127.0.0.1", closed_port), None, 5), context)
    assert result.outcome == hs.NOT_OFFERED
    assert result.reason.startswith("our TLS stack refused")


def test_connection_refused(closed_port):
    result = hs.handshake(hs.HandshakeSpec(("127.0.0.1", closed_port), None, 5), hs.client_context())
    assert result.outcome == hs.CONNECT_FAILED


def test_silent_server_times_out_within_the_deadline(silent_server):
    started = time.monotonic()
    result = hs.handshake(hs.HandshakeSpec(silent_server, None, 0.5), hs.client_context())
    assert result.outcome == hs.TIMEOUT
    # Only the hang guard: 0.5 s deadline plus a generous margin.
    assert time.monotonic() - started < 10


class OldSslObject(object):
    """What Python 3.8/3.9 offer: the leaf only."""

    def getpeercert(self, binary_form=False):
        return b"leaf-der"


class NewSslObject(OldSslObject):
    """Python 3.13+: public chain methods returning DER bytes."""

    def get_unverified_chain(self):
        return [b"leaf-der", b"intermediate-der"]

    def get_verified_chain(self):
        return [b"leaf-der", b"intermediate-der", b"root-der"]


def test_chains_on_every_python():
    assert hs._peer_chain(NewSslObject(), verified=True) == [b"leaf-der", b"intermediate-der", b"root-der"]
    assert hs._peer_chain(NewSslObject(), verified=False) == [b"leaf-der", b"intermediate-der"]
    assert hs._peer_chain(OldSslObject(), verified=False) == [b"leaf-der"]
    assert hs._peer_chain(OldSslObject(), verified=True) is None
