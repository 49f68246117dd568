# Copyright: iotops.dps_tls contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A small test PKI and real TLS servers in this process, on loopback."""

from __future__ import annotations

import datetime
import ipaddress
import socket
import ssl
import threading

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID

NOW = datetime.datetime.now(datetime.timezone.utc)
DAY = datetime.timedelta(days=1)


def make_certificate(cn, key, issuer=None, ca=False, not_after=None):
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])
    issuer_cert, issuer_key = issuer or (None, key)
    builder = (x509.CertificateBuilder().subject_name(name)
               .issuer_name(issuer_cert.subject if issuer_cert else name)
               .public_key(key.public_key()).serial_number(x509.random_serial_number())
               .not_valid_before(NOW - DAY).not_valid_after(not_after or NOW + 90 * DAY)
               .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True))
    if not ca:
        builder = builder.add_extension(x509.SubjectAlternativeName(
            [x509.DNSName("dps.test"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
    return builder.sign(issuer_key, hashes.SHA256())


def pem(cert):
    return cert.public_bytes(serialization.Encoding.PEM)


def key_pem(key):
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())


@pytest.fixture(scope="session")
def pki(tmp_path_factory):
    """Paths: root (ca_file), rsa/ecdsa leaf chain and key files."""
    directory = tmp_path_factory.mktemp("pki")
    root_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    root = make_certificate("unit test root", root_key, ca=True, not_after=NOW + 365 * DAY)
    paths = {"root": directory / "root.pem", "root_der": root.public_bytes(serialization.Encoding.DER)}
    paths["root"].write_bytes(pem(root))
    for name, key in (("rsa", rsa.generate_private_key(public_exponent=65537, key_size=2048)),
                      ("ecdsa", ec.generate_private_key(ec.SECP384R1()))):
        leaf = make_certificate("dps.test", key, (root, root_key))
        paths[name] = directory / (name + ".pem")
        paths[name].write_bytes(pem(leaf))
        paths[name + "_key"] = directory / (name + ".key")
        paths[name + "_key"].write_bytes(key_pem(key))
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

    def start(ciphers="ECDHE-RSA-AES128-GCM-SHA256:AES128-SHA", group=None, leaf="rsa", tls13=False):
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
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
