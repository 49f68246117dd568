# Copyright: iotops.dps_tls contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The device endpoint: DPS's TLS policy on a loopback port, mutual TLS, and MQTT device registration.

TLS 1.2 only, the 12 suites of the DPS policy in the service's order with server preference, an RSA-2048 leaf plus
an intermediate under the emulator's own CA. The policy table is read from the collection's _tls/policy.py (the
one place it lives). A client certificate is asked for, not required (DPS also serves symmetric-key and TPM
devices); the handshake accepts a chain that reaches a CA verified on some instance, a group's signing
certificate or an individual enrollment's certificate (partial chains included: a verified intermediate is
enough). Whether the device registers is decided at its register request, as DPS does: network rules, then an
enrollment (enrollments.py), then allocation, through `assigning` with a retry-after before the final state.
"""

import datetime
import importlib.util
import json
import os
import secrets
import socket
import socketserver
import ssl
import sys
import threading
import urllib.parse

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from dpsemu import certificates, enrollments, mqtt, pki, websocket
from dpsemu.server import Response
from dpsemu.store import write_atomically

DEFAULT_PORT = 8883
HOST_NAMES = ("localhost", "127.0.0.1", "::1", "global.azure-devices-provisioning.net",
              "*.azure-devices-provisioning.net")
SERVICE_DOMAIN = ".azure-devices-provisioning.net"
RETRY_AFTER = 3
REGISTER = "$dps/registrations/PUT/iotdps-register/"
OPERATION_STATUS = "$dps/registrations/GET/iotdps-get-operationstatus/"


def load_policy():
    """The DPS policy from the collection's plugins/module_utils/_tls/policy.py (a plain, dependency-free file)."""
    here = os.path.dirname(os.path.abspath(__file__))
    path = os.path.join(os.path.dirname(os.path.dirname(here)), "plugins", "module_utils", "_tls", "policy.py")
    spec = importlib.util.spec_from_file_location("dpsemu_tls_policy", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.DPS_POLICY


def policy_cipher_string(policy):
    return ":".join(s.openssl_name for s in policy.recommended_suites + policy.legacy_suites)


def ensure_server_chain(ca, state_dir):
    """device-server.pem (leaf + intermediate) and its key: RSA-2048, issued through an intermediate of the CA."""
    chain_path = os.path.join(state_dir, "device-server.pem")
    key_path = os.path.join(state_dir, "device-server-key.pem")
    if os.path.exists(chain_path) and os.path.exists(key_path):
        return chain_path, key_path
    now = datetime.datetime.now(datetime.timezone.utc)
    inter_key = pki.new_rsa_key()
    inter_name = x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, "iotops.dps_tls emulator"),
                            x509.NameAttribute(NameOID.COMMON_NAME, "iotops.dps_tls emulator device intermediate")])
    intermediate = (
        x509.CertificateBuilder().subject_name(inter_name).issuer_name(ca.cert.subject)
        .public_key(inter_key.public_key()).serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5)).not_valid_after(now + datetime.timedelta(days=1825))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(x509.KeyUsage(digital_signature=True, content_commitment=False, key_encipherment=False,
                                     data_encipherment=False, key_agreement=False, key_cert_sign=True, crl_sign=True,
                                     encipher_only=False, decipher_only=False), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(inter_key.public_key()), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca.cert.public_key()), critical=False)
        .sign(ca.key, hashes.SHA256())
    )
    leaf_key = pki.new_rsa_key(2048)
    san = []
    for name in HOST_NAMES:
        try:
            import ipaddress
            san.append(x509.IPAddress(ipaddress.ip_address(name)))
        except ValueError:
            san.append(x509.DNSName(name))
    leaf = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "global.azure-devices-provisioning.net")]))
        .issuer_name(inter_name).public_key(leaf_key.public_key()).serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5)).not_valid_after(now + datetime.timedelta(days=365))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.SubjectAlternativeName(san), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(inter_key.public_key()), critical=False)
        .sign(inter_key, hashes.SHA256())
    )
    write_atomically(key_path, pki.key_pem(leaf_key))
    write_atomically(chain_path, pki.cert_pem(leaf) + pki.cert_pem(intermediate), mode=0o644)
    return chain_path, key_path


def _server_name_check(tls, server_name, _context):
    """SNI: the service's host names (global, per instance) and loopback; nothing else."""
    if server_name is None or server_name == "localhost" or server_name.endswith(SERVICE_DOMAIN) \
            or server_name == SERVICE_DOMAIN[1:]:
        return None
    del tls
    return ssl.ALERTDESCRIPTION_UNRECOGNIZED_NAME


class DeviceEndpoint:
    def __init__(self, app, host, port, websocket_port=None):
        self.app = app
        self.policy = load_policy()
        self.chain, self.key = ensure_server_chain(app.ca, app.state_dir)
        self._contexts = {}
        self._lock = threading.Lock()
        self.operations = {}
        self.events = []
        self.server = _Server((host, port), self)
        self.port = self.server.server_address[1]
        # MQTT over WebSockets (the SDKs' port 443), only when asked for: a privileged port
        self.websocket_server = None if websocket_port is None else _Server((host, websocket_port), self, True)
        self.websocket_port = self.websocket_server.server_address[1] if self.websocket_server else None

    def context(self):
        """The TLS context for the current set of verified CAs (rebuilt when it changes)."""
        trusted = tuple(sorted(set(certificates.all_verified_pems(self.app)) | set(enrollments.trust_anchors(self.app))))
        with self._lock:
            context = self._contexts.get(trusted)
            if context is None:
                context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
                context.minimum_version = context.maximum_version = ssl.TLSVersion.TLSv1_2
                context.set_ciphers(policy_cipher_string(self.policy))
                context.options |= ssl.OP_CIPHER_SERVER_PREFERENCE | ssl.OP_NO_COMPRESSION
                context.load_cert_chain(self.chain, self.key)
                context.sni_callback = _server_name_check
                context.verify_mode = ssl.CERT_OPTIONAL
                # A chain may end at a verified intermediate or a device certificate enrolled on its own.
                context.verify_flags |= ssl.VERIFY_X509_PARTIAL_CHAIN
                if trusted:
                    context.load_verify_locations(cadata="".join(trusted))
                self._contexts = {trusted: context}
            return context

    def log(self, message):
        """Why a device was refused (or what it did), for GET /_emulator/device/events and --verbose."""
        with self._lock:
            self.events.append({"time": datetime.datetime.now(datetime.timezone.utc).isoformat(), "event": message})
            del self.events[:-1000]
        if self.app.verbose:
            sys.stderr.write("dpsemu device: %s\n" % message)

    def servers(self):
        return [server for server in (self.server, self.websocket_server) if server is not None]

    def start(self):
        for server in self.servers():
            threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.2}, daemon=True).start()

    def stop(self):
        for server in self.servers():
            server.shutdown()
            server.server_close()


class _Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    block_on_close = False
    allow_reuse_address = True
    request_queue_size = 128

    def __init__(self, address, endpoint, websockets=False):
        self.endpoint = endpoint
        self.websockets = websockets
        if ":" in address[0]:
            self.address_family = socket.AF_INET6
        super().__init__(address, _Session)

    def handle_error(self, request, client_address):
        exc = sys.exc_info()[1]
        if not isinstance(exc, (ConnectionError, ssl.SSLError, socket.timeout, OSError, EOFError, ValueError)):
            super().handle_error(request, client_address)


def _der(item):
    """DER of a certificate from ssl's verified chain (an _ssl.Certificate: public in 3.13, private before)."""
    import _ssl  # pylint: disable=import-outside-toplevel
    return item.public_bytes(_ssl.ENCODING_DER)


class _Session(socketserver.BaseRequestHandler):
    """One device connection: TLS handshake, CONNECT with id scope and registration id, register, poll."""

    def handle(self):
        endpoint = self.server.endpoint
        self.request.settimeout(60)
        try:
            tls = endpoint.context().wrap_socket(self.request, server_side=True)
        except (ssl.SSLError, OSError) as exc:
            endpoint.log("handshake refused: %s" % exc)
            return
        try:
            stream = tls
            if self.server.websockets:
                stream = websocket.accept(tls)
                endpoint.log("WebSocket upgrade accepted (MQTT over WebSockets)")
            self.session(endpoint, tls, stream)
        except (EOFError, OSError, mqtt.ProtocolError, ValueError) as exc:
            endpoint.log("session ended: %s" % exc)
        finally:
            try:
                tls.close()
            except OSError:
                pass

    def session(self, endpoint, tls, stream):
        """The MQTT dialogue on stream (the TLS socket, or WebSocket frames over it); tls holds the peer chain."""
        kind, _flags, body = mqtt.read_packet(stream)
        if kind != mqtt.CONNECT:
            raise mqtt.ProtocolError("the first packet must be CONNECT")
        connect = mqtt.parse_connect(body)
        refusal = self.authorize(endpoint, tls, connect)
        if refusal:
            endpoint.log("CONNECT refused: %s" % refusal)
            stream.sendall(mqtt.connack(mqtt.REFUSED_NOT_AUTHORIZED))
            return
        stream.sendall(mqtt.connack(mqtt.ACCEPTED))
        endpoint.log("CONNECT accepted: %s on instance %s"
                     % (self.device["registration_id"], self.device["instance"]["name"]))
        while True:
            kind, flags, body = mqtt.read_packet(stream)
            if kind == mqtt.SUBSCRIBE:
                stream.sendall(mqtt.suback(*mqtt.parse_subscribe(body)))
            elif kind == mqtt.UNSUBSCRIBE:
                stream.sendall(mqtt.ack(mqtt.UNSUBACK, int.from_bytes(body[:2], "big")))
            elif kind == mqtt.PINGREQ:
                stream.sendall(mqtt.packet(mqtt.PINGRESP, 0, b""))
            elif kind == mqtt.DISCONNECT:
                return
            elif kind == mqtt.PUBLISH:
                topic, qos, packet_id, payload = mqtt.parse_publish(flags, body)
                if qos == 1:
                    stream.sendall(mqtt.ack(mqtt.PUBACK, packet_id))
                stream.sendall(self.answer(endpoint, topic, payload))
            elif kind == mqtt.PUBACK:
                continue
            else:
                raise mqtt.ProtocolError("unexpected packet type %d" % kind)

    def authorize(self, endpoint, tls, connect):
        """None when the device may go on to register, else why not. Sets self.device."""
        parts = (connect["username"] or "").split("/")
        if len(parts) < 3 or parts[1] != "registrations":
            return "the username is not <id scope>/registrations/<registration id>/..."
        id_scope, registration_id = parts[0], parts[2]
        if registration_id != connect["client_id"]:
            return "the client id is not the registration id"
        instance, _cas = certificates.verified_cas(endpoint.app, id_scope)
        if instance is None:
            return "no active instance has id scope %s" % id_scope
        chain = _peer_chain(tls)
        if not chain:
            return "no client certificate (only X.509 devices are emulated)"
        names = chain[0].subject.get_attributes_for_oid(NameOID.COMMON_NAME)
        if not names or names[0].value != registration_id:
            return "the device certificate's CN is not the registration id %s" % registration_id
        self.device = {"instance": instance, "registration_id": registration_id, "chain": chain,
                       "address": self.client_address[0]}
        return None

    def answer(self, endpoint, topic, payload):
        path, _sep, query = topic.partition("?")
        params = dict(urllib.parse.parse_qsl(query))
        rid = params.get("$rid", "")
        del payload
        if path == REGISTER:
            return self.register(endpoint, rid)
        if path == OPERATION_STATUS:
            return self.poll(endpoint, rid, params.get("operationId"))
        return _answer(rid, 400, {"errorCode": 400000, "message": "Unknown topic."})

    def register(self, endpoint, rid):
        """The register request: refused (401), disabled (200), or assigning (202) with a retry-after."""
        device = self.device
        instance = certificates.verified_cas(endpoint.app, device["instance"]["idScope"])[0] or device["instance"]
        refusal = enrollments.network_refusal(instance, device["address"], "deviceApi")
        kind = enrollment = None
        if not refusal:
            kind, enrollment = enrollments.match(endpoint.app, instance, device["registration_id"], device["chain"])
            refusal = None if enrollment else "no enabled enrollment matches the device's certificate chain"
        if refusal:
            endpoint.log("registration refused: %s: %s" % (device["registration_id"], refusal))
            return _answer(rid, 401, {"errorCode": 401002, "message": "Unauthorized"})
        state = enrollments.registration_state(endpoint.app, instance, device["registration_id"], kind, enrollment)
        name = enrollment.get("enrollmentGroupId") or enrollment.get("registrationId")
        endpoint.log("registration of %s through %s enrollment %s: %s"
                     % (device["registration_id"], kind, name, state["status"]))
        operation_id = "4.%s.%s" % (secrets.token_hex(8), secrets.token_hex(8))
        if state["status"] == "disabled":
            return _answer(rid, 200, {"operationId": operation_id, "status": "disabled", "registrationState": state})
        endpoint.operations[operation_id] = {"state": state, "polls": 0}
        return _assigning(endpoint, rid, operation_id)

    def poll(self, endpoint, rid, operation_id):
        """Still assigning at the first poll (as DPS answers), the final state after."""
        operation = endpoint.operations.get(operation_id)
        if operation is None:
            return _answer(rid, 404, {"errorCode": 404201, "message": "Operation not found."})
        operation["polls"] += 1
        if operation["polls"] < 2:
            return _assigning(endpoint, rid, operation_id)
        state = operation["state"]
        return _answer(rid, 200, {"operationId": operation_id, "status": state["status"], "registrationState": state})


def _answer(rid, status, body, retry_after=None):
    topic = "$dps/registrations/res/%d/?$rid=%s" % (status, rid)
    if retry_after is not None:
        topic += "&retry-after=%d" % retry_after
    return mqtt.publish(topic, json.dumps(body).encode("utf-8"))


def _assigning(endpoint, rid, operation_id):
    return _answer(rid, 202, {"operationId": operation_id, "status": "assigning"},
                   retry_after=int(endpoint.app.config["device_retry_after"]))


def _peer_chain(tls):
    """The device's certificates, leaf first: the verified chain, then what it sent beyond it."""
    if not tls.getpeercert(binary_form=True):
        return []
    sslobj = tls._sslobj  # pylint: disable=protected-access
    ders = [_der(item) for item in sslobj.get_verified_chain()]
    ders += [der for der in (_der(item) for item in sslobj.get_unverified_chain() or []) if der not in ders]
    return [x509.load_der_x509_certificate(der) for der in ders]


def events(app, _request):
    return Response(200, list(app.device.events))


def clear_events(app, _request):
    app.device.events.clear()
    return Response(204)


def register(router):
    router.add("GET", "/_emulator/device/events", events)
    router.add("DELETE", "/_emulator/device/events", clear_events)
