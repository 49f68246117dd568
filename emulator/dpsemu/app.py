# Copyright: iotops.dps_tls contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The emulator as one object: its state dir, identities, store, routes and HTTPS listener."""

import ipaddress
import os
import signal
import ssl
import threading

from dpsemu import arm, auth, certificates, control, device, iothub, metadata, pipelines, pki, service
from dpsemu.faults import Faults, RequestLog
from dpsemu.identity import Identity
from dpsemu.server import Router, TLSServer
from dpsemu.store import Store, read_json, write_json

ENDPOINTS = "endpoints.json"


class AlreadyRunning(RuntimeError):
    pass


def is_loopback(host):
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def process_alive(pid):
    """True while pid runs (a zombie waiting for its parent counts as gone)."""
    try:
        with open("/proc/%d/stat" % pid, encoding="ascii") as handle:
            return handle.read().rpartition(")")[2].split()[0] != "Z"
    except OSError:
        pass
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def running_endpoints(state_dir):
    """endpoints.json of a live emulator in state_dir, or None."""
    endpoints = read_json(os.path.join(state_dir, ENDPOINTS))
    if endpoints and process_alive(int(endpoints.get("pid", 0))):
        return endpoints
    return None


class Emulator:
    def __init__(self, state_dir, host="127.0.0.1", port=0, provisioning_delay=2.0, retry_after=1, verbose=False,
                 device_port=None, resource_groups=(), device_retry_after=device.RETRY_AFTER,
                 device_websocket_port=None):
        if not is_loopback(host):
            raise ValueError("the emulator listens on loopback addresses only, not %s" % host)
        self.state_dir = os.path.abspath(state_dir)
        os.makedirs(self.state_dir, mode=0o700, exist_ok=True)
        if running_endpoints(self.state_dir):
            raise AlreadyRunning("an emulator already runs with state dir %s" % self.state_dir)
        self.pid = os.getpid()
        self.host = host
        self.verbose = verbose
        self.config = {"provisioning_delay": provisioning_delay, "retry_after": retry_after,
                       "device_retry_after": device_retry_after, "service_page_size": service.PAGE_SIZE,
                       "access_token_lifetime": auth.TOKEN_LIFETIME,
                       "oidc_token_lifetime": pipelines.OIDC_TOKEN_LIFETIME}
        self.ca = pki.CertificateAuthority.load_or_create(self.state_dir)
        self.ca_file = os.path.join(self.state_dir, "ca.pem")
        cert, key = pki.ensure_leaf(self.ca, self.state_dir, "server.pem", "server-key.pem", "localhost",
                                    names=pki.SERVER_NAMES)
        self.identity = Identity(self.state_dir, self.ca)
        self.pipelines = pipelines.AzureDevOps(self.state_dir)
        self.store = Store(self.state_dir)
        arm.ensure_default_groups(self, arm.DEFAULT_RESOURCE_GROUPS + tuple(resource_groups or ()))
        self.faults = Faults()
        self.requests = RequestLog()
        self.router = Router()
        for part in (auth, arm, certificates, device, service, iothub, control, metadata, pipelines):
            part.register(self.router)
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.minimum_version = ssl.TLSVersion.TLSv1_2
        context.load_cert_chain(cert, key)
        self.httpd = self._listen(host, port, context)
        port = self.httpd.server_address[1]
        self.base_url = "https://%s:%d" % ("[%s]" % host if ":" in host else host, port)
        self.identity.app["last_port"] = port
        self.identity.save()
        self.device = self._device_endpoint(host, device_port, device_websocket_port)
        self._stop = threading.Event()

    def _listen(self, host, port, context):
        # With --port 0, come back on the previous port when it is free, so clients' settings stay valid.
        last = self.identity.app.get("last_port")
        if port == 0 and last:
            try:
                return TLSServer((host, last), self, context)
            except OSError:
                pass
        return TLSServer((host, port), self, context)

    def _device_endpoint(self, host, port, websocket_port=None):
        # None: DPS's MQTT port 8883 when free, else any free port (other emulators may hold 8883); a port the
        # caller names explicitly must be free.
        if port is None:
            try:
                return device.DeviceEndpoint(self, host, device.DEFAULT_PORT, websocket_port)
            except OSError:
                port = 0
        return device.DeviceEndpoint(self, host, port, websocket_port)

    def endpoints(self):
        return {
            "resource_manager_endpoint": self.base_url,
            "authority_host": self.base_url,
            "ca_file": self.ca_file,
            "tenant_id": self.identity.tenant_id,
            "subscription_id": self.identity.subscription_id,
            "client_id": self.identity.client_id,
            "client_secret": self.identity.client_secret,
            "client_certificate_path": self.identity.client_certificate_path,
            "federated_token_file": self.identity.federated_token_file,
            "managed_identity_endpoint": self.base_url + auth.MANAGED_IDENTITY_PATH,
            "managed_identity_header": self.identity.managed_identity_header,
            "managed_identity_client_id": self.identity.managed_identity_client_id,
            "state_dir": self.state_dir,
            "pid": self.pid,
            "device_host": self.host,
            "device_port": self.device.port,
            "device_websocket_port": self.device.websocket_port,
            "device_host_name": "global.azure-devices-provisioning.net",
            "dps_service_endpoint": self.base_url + "/dps/{host}",
            "oidc_request_uri": self.pipelines.oidc_request_uri(self.base_url),
            "system_access_token": self.pipelines.system_access_token,
            "service_connection_id": self.pipelines.service_connection_id,
        }

    def serve(self):
        """Serve until SIGTERM/SIGINT; endpoints.json exists exactly while requests are answered."""
        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, lambda *_args: self._stop.set())
        thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.2}, daemon=True)
        thread.start()
        self.device.start()
        path = os.path.join(self.state_dir, ENDPOINTS)
        write_json(path, self.endpoints())
        try:
            while not self._stop.wait(0.5):
                pass
        finally:
            os.unlink(path)
            self.device.stop()
            self.httpd.shutdown()
            self.httpd.server_close()
