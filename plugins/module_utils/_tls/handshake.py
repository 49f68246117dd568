# Copyright: iotops.dps_tls contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""One real TLS handshake with a deadline, driven through memory buffers so every byte is seen.

The ClientHello is built before any connection is made: if our own TLS stack refuses to build it, or leaves
out the suite or version we asked for, that is "we cannot offer this", told apart from a server refusal
without touching the network.
"""

from __future__ import annotations

import socket
import ssl
import time
import warnings
from collections import namedtuple

from ansible_collections.iotops.dps_tls.plugins.module_utils._tls.policy import known_suite_by_name, tls_version
from ansible_collections.iotops.dps_tls.plugins.module_utils._tls.wire import (
    ServerFlight, WireError, parse_client_hello)

# Outcomes of one handshake.
ACCEPTED = "accepted"          # the server answered with a ServerHello (the handshake may still fail later)
REJECTED = "rejected"          # the server sent an alert or closed the connection instead
NOT_OFFERED = "not_offered"    # our TLS stack would not offer it; nothing was sent
TIMEOUT = "timeout"            # no ServerHello before the deadline
CONNECT_FAILED = "connect_failed"

# How far a handshake goes. A probe stops once it has what it is about: one round trip less per handshake.
# UNTIL_DONE: the whole handshake. UNTIL_SERVER_HELLO: the protocol and suite the server chose. UNTIL_CHAIN: in
# TLS 1.2 the server's first flight, its chain checked (TLS 1.3 ends there anyway). UNTIL_CLIENT_CERTIFICATE: as
# UNTIL_CHAIN, but to the end when the server asks for a client certificate: only the end says if it took ours.
UNTIL_DONE = "done"
UNTIL_SERVER_HELLO = "server_hello"
UNTIL_CHAIN = "chain"
UNTIL_CLIENT_CERTIFICATE = "client_certificate"

# Where one handshake goes and how long it may take, connection included.
HandshakeSpec = namedtuple("HandshakeSpec", ["address", "server_name", "timeout"])

Handshake = namedtuple("Handshake", [
    "outcome",
    "reason",                 # alert name or error text when not completed
    "completed",              # the whole handshake finished
    "protocol",               # 'TLSv1.2' as chosen by the server
    "suite_code",
    "group_code",
    "certificate_requested",  # the server asked for a client certificate (None: could not see it)
    "verify_error",           # (code, message) when certificate verification failed
    "unverified_chain",       # DER certificates as the server sent them
    "verified_chain",         # DER certificates up to the trusted root once verified; None if Python cannot tell
    "stopped",                # we ended it, having what the probe is about: not completed, and not failed either
], defaults=(False,))


def client_context(min_protocol="TLSv1", max_protocol="TLSv1.3", ciphers="ALL", group=None, verify=False,
                   ca_file=None, check_hostname=False, client_cert=None, client_key=None, passphrase=None):
    """An SSLContext for one probe. Raises ssl.SSLError or OSError for bad ciphers, groups or files."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    with warnings.catch_warnings():
        # TLS 1.0/1.1 are deprecated in Python's ssl; probing for them is the point.
        warnings.simplefilter("ignore", DeprecationWarning)
        context.minimum_version = tls_version(min_protocol)
        context.maximum_version = tls_version(max_protocol)
    # OpenSSL 3 will not build a TLS 1.0/1.1 or SHA-1 hello above security level 0; the server decides.
    context.set_ciphers(ciphers + ":@SECLEVEL=0")
    if group:
        context.set_ecdh_curve(group)
    if client_cert:
        context.load_cert_chain(client_cert, client_key, password=passphrase)
    if verify:
        if ca_file:
            context.load_verify_locations(cafile=ca_file)
        else:
            context.load_default_certs()
        context.verify_mode = ssl.CERT_REQUIRED
        context.check_hostname = check_hostname
    return context


def _reason(exc):
    return getattr(exc, "reason", None) or str(exc)


def _der(item):
    if isinstance(item, bytes):
        return item
    return item.public_bytes(ssl._ssl.ENCODING_DER)  # pylint: disable=protected-access


def _peer_chain(tls, verified):
    """The peer's chain as DER: public API on Python 3.13+, ssl's C object on 3.10-3.12.

    Older Pythons show only the leaf, and no verified chain at all (None): the root stays unknown there.
    """
    name = "get_verified_chain" if verified else "get_unverified_chain"
    for holder in (tls, getattr(tls, "_sslobj", None)):
        method = getattr(holder, name, None)
        if method is not None:
            return [_der(item) for item in (method() or [])]
    if verified:
        return None
    leaf = tls.getpeercert(binary_form=True)
    return [leaf] if leaf else []


def _chain_readable(tls):
    """Python 3.10+ reads the peer's chain before the handshake ends; older ones only once it is done."""
    return any(hasattr(holder, "get_unverified_chain") for holder in (tls, getattr(tls, "_sslobj", None)))


def _result(outcome, reason=None, flight=None, tls=None, completed=False, verify_error=None, verify=False,
            stopped=False):
    flight = flight or ServerFlight()
    protocol, suite_code = flight.protocol, flight.suite_code
    unverified, verified = [], []
    if completed:
        protocol = tls.version()
        if suite_code is None:
            suite = known_suite_by_name(tls.cipher()[0])
            suite_code = suite.code if suite else None
    if tls is not None:
        # Also after a failure past the certificate check, such as a server that wants a client certificate.
        unverified = _peer_chain(tls, False)
        verified = _peer_chain(tls, True) if verify and verify_error is None else []
    return Handshake(outcome=outcome, reason=reason, completed=completed, protocol=protocol, suite_code=suite_code,
                     group_code=flight.group_code, certificate_requested=flight.certificate_requested,
                     verify_error=verify_error, unverified_chain=unverified, verified_chain=verified,
                     stopped=stopped)


def handshake(spec, context, wanted=None, until=UNTIL_DONE, connected=None):
    """Handshake as a HandshakeSpec says and return a Handshake.

    wanted(client_hello) returns why our ClientHello lacks what the probe is about, or None. until says how far
    to go (UNTIL_*); a handshake stopped early is accepted but not completed, and sends nothing more.
    connected() is called once the TCP connection is up, before the ClientHello is sent.
    """
    incoming, outgoing = ssl.MemoryBIO(), ssl.MemoryBIO()
    tls = context.wrap_bio(incoming, outgoing, server_hostname=spec.server_name or None)
    pending, missing = _client_hello(tls, outgoing, wanted)
    if missing:
        return _result(NOT_OFFERED, missing)
    deadline = time.monotonic() + spec.timeout
    try:
        sock = socket.create_connection(spec.address, timeout=spec.timeout)
    except OSError as exc:
        return _result(CONNECT_FAILED, exc.strerror or str(exc))
    try:
        if connected is not None:
            connected()
        exchange = _Exchange(sock=sock, tls=tls, bios=(incoming, outgoing), deadline=deadline)
        return exchange.run(pending, spec.timeout, verify=context.verify_mode != ssl.CERT_NONE, until=until)
    finally:
        sock.close()


def _client_hello(tls, outgoing, wanted):
    """(ClientHello bytes, None), or (None, why our stack cannot offer what is wanted): nothing sent yet."""
    try:
        tls.do_handshake()
    except ssl.SSLWantReadError:
        pass
    except ssl.SSLError as exc:
        return None, "our TLS stack refused to build the ClientHello: %s" % _reason(exc)
    pending = outgoing.read()
    if wanted is not None:
        try:
            missing = wanted(parse_client_hello(pending))
        except WireError as exc:
            missing = "our ClientHello could not be read: %s" % exc
        if missing:
            return None, missing
    return pending, None


class _Exchange(object):
    """Bytes between the socket and the TLS object until the handshake ends, fails or runs out of time."""

    def __init__(self, sock, tls, bios, deadline):
        self.sock, self.tls, self.deadline = sock, tls, deadline
        self.incoming, self.outgoing = bios
        self.flight = ServerFlight()

    def run(self, pending, timeout, verify, until=UNTIL_DONE):
        while True:
            try:
                data = self._send_and_receive(pending)
            except socket.timeout:
                outcome = ACCEPTED if self.flight.server_hello else TIMEOUT
                return _result(outcome, "no answer within %s seconds" % timeout, flight=self.flight)
            except OSError as exc:
                data = b""
                if not self.flight.server_hello and self.flight.alert is None:
                    return _result(REJECTED, "connection reset: %s" % (exc.strerror or exc), flight=self.flight)
            pending = b""
            if data:
                self.flight.feed(data)
                if until == UNTIL_SERVER_HELLO and self.flight.server_hello:
                    return _result(ACCEPTED, flight=self.flight, stopped=True)
                self.incoming.write(data)
            else:
                self.incoming.write_eof()
            try:
                self.tls.do_handshake()
            except ssl.SSLWantReadError:
                if not data:
                    return self._failed("connection closed", alert=b"")
                if self._enough(until):
                    return _result(ACCEPTED, flight=self.flight, tls=self.tls, verify=verify, stopped=True)
                pending = self.outgoing.read()
                continue
            except ssl.SSLCertVerificationError as exc:
                return self._failed(_reason(exc), alert=self.outgoing.read(),
                                    verify_error=(exc.verify_code, exc.verify_message))
            except ssl.SSLError as exc:
                return self._failed(_reason(exc), alert=self.outgoing.read(), verify=verify, keep_tls=True)
            _send_quietly(self.sock, self.outgoing.read())
            return _result(ACCEPTED, flight=self.flight, tls=self.tls, completed=True, verify=verify)

    def _enough(self, until):
        """The server's first flight is read (ServerHelloDone, so its certificate is checked) and the rest of the
        handshake would prove nothing the probe is about."""
        requested = self.flight.certificate_requested
        if not _chain_readable(self.tls):
            return False
        if until == UNTIL_CHAIN:
            return requested is not None
        return until == UNTIL_CLIENT_CERTIFICATE and requested is False

    def _send_and_receive(self, pending):
        if pending:
            self.sock.settimeout(max(self.deadline - time.monotonic(), 0.001))
            self.sock.sendall(pending)
        remaining = self.deadline - time.monotonic()
        if remaining <= 0:
            raise socket.timeout()
        self.sock.settimeout(remaining)
        return self.sock.recv(65536)

    def _failed(self, reason, alert, verify_error=None, verify=False, keep_tls=False):
        _send_quietly(self.sock, alert)
        flight = self.flight
        if flight.alert is not None and verify_error is None:
            reason = "server sent %s alert %s" % flight.alert
        outcome = ACCEPTED if flight.server_hello else REJECTED
        tls = self.tls if keep_tls and flight.server_hello else None
        return _result(outcome, reason, flight=flight, tls=tls, verify_error=verify_error, verify=verify)


def _send_quietly(sock, data):
    """Our closing alert or Finished: good manners, never worth a failure."""
    if data:
        try:
            sock.settimeout(1)
            sock.sendall(data)
        except OSError:
            pass
