# Copyright: iotops.dps_tls contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Certificates made fresh for each test run, and real TLS servers in this process, on loopback."""

from __future__ import annotations

import socket
import ssl
import threading

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from ansible_collections.iotops.dps_tls.tests.unit.pki import DAY, NOW, certificate, key_pem, pem


class Made(object):
    def __init__(self, cert):
        self.cert = cert
        self.pem = pem(cert)
        self.der = cert.public_bytes(serialization.Encoding.DER)
        self.sha256 = ":".join("%02X" % b for b in cert.fingerprint(hashes.SHA256()))


@pytest.fixture(scope="session")
def certs():
    """A root, a leaf, and every kind of wrong certificate."""
    keys = [ec.generate_private_key(ec.SECP256R1()) for dummy in range(6)]
    root = certificate("unit root", keys[0])
    made = {
        "root": Made(root[0]),
        "other": Made(certificate("unit other root", keys[1])[0]),
        "not_ca": Made(certificate("unit not a CA", keys[2], ca=False)[0]),
        "no_constraints": Made(certificate("unit no constraints", keys[3], ca=None)[0]),
        "expired": Made(certificate("unit expired", keys[4], not_before=NOW - 10 * DAY, not_after=NOW - 8 * DAY)[0]),
        "intermediate": Made(certificate("unit intermediate", keys[5], issuer=root)[0]),
        # claims to be self-signed (issuer == subject) but is signed by another key
        "forged": Made(certificate("unit forged", keys[5], issuer=(certificate("unit forged", keys[5])[0], keys[0]))[0]),
    }
    made["key_pem"] = key_pem(keys[0])
    return made


@pytest.fixture(scope="session")
def pki(tmp_path_factory):
    """Paths: root (ca_file), rsa/ecdsa leaf chain and key files."""
    directory = tmp_path_factory.mktemp("pki")
    root_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    root = certificate("unit test root", root_key, not_after=NOW + 365 * DAY)
    paths = {"root": directory / "root.pem", "root_der": root[0].public_bytes(serialization.Encoding.DER)}
    paths["root"].write_text(pem(root[0]))
    for name, key in (("rsa", rsa.generate_private_key(public_exponent=65537, key_size=2048)),
                      ("ecdsa", ec.generate_private_key(ec.SECP384R1()))):
        leaf = certificate("dps.test", key, issuer=root, ca=False, not_after=NOW + 90 * DAY, san=True)[0]
        paths[name] = directory / (name + ".pem")
        paths[name].write_text(pem(leaf))
        paths[name + "_key"] = directory / (name + ".key")
        paths[name + "_key"].write_text(key_pem(key))
        paths[name + "_der"] = leaf.public_bytes(serialization.Encoding.DER)
    return paths


class TlsServer(object):
    """Python's ssl as a server; each connection does one handshake and is closed."""

    def __init__(self, context):
        self.context = context
        self.listener = socket.socket()
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(32)
        self.address = self.listener.getsockname()
        self.thread = threading.Thread(target=self._serve)
        self.thread.daemon = True
        self.thread.start()

    def _serve(self):
        while True:
            try:
                connection, _peer = self.listener.accept()
            except OSError:
                return
            threading.Thread(target=self._handshake, args=(connection,)).start()

    def _handshake(self, connection):
        connection.settimeout(5)
        try:
            with self.context.wrap_socket(connection, server_side=True) as tls:
                tls.recv(1)
        except (ssl.SSLError, OSError):
            pass
        finally:
            connection.close()

    def close(self):
        self.listener.close()


@pytest.fixture
def tls_server(pki):
    """tls_server(ciphers=..., group=..., leaf='rsa') -> a running server; closed after the test."""
    servers = []

    def start(ciphers="ECDHE-RSA-AES128-GCM-SHA256:AES128-SHA", group=None, leaf="rsa", tls13=False,
              client_certificate=None):
        """client_certificate: ssl.CERT_OPTIONAL or CERT_REQUIRED to ask for one (issued by the test root)."""
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        if client_certificate is not None:
            context.load_verify_locations(str(pki["root"]))
            context.verify_mode = client_certificate
        context.minimum_version = ssl.TLSVersion.TLSv1_2
        context.maximum_version = ssl.TLSVersion.TLSv1_3 if tls13 else ssl.TLSVersion.TLSv1_2
        context.set_ciphers(ciphers + ":@SECLEVEL=0")
        if group:
            context.set_ecdh_curve(group)
        context.load_cert_chain(str(pki[leaf]), str(pki[leaf + "_key"]))
        server = TlsServer(context)
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.close()


@pytest.fixture
def silent_server():
    """Accepts TCP connections and never answers."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(32)
    yield listener.getsockname()
    listener.close()


@pytest.fixture
def closed_port():
    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()
    return port
