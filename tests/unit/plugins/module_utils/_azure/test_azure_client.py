# Copyright: iotops.dps_tls contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The retry policy: every wait inside the client is cut to the time left before the task's deadline."""

from __future__ import annotations

import threading
import time
import http.server

import pytest
from azure.core import PipelineClient
from azure.core.pipeline.transport import RequestsTransport
from azure.core.rest import HttpRequest

from ansible_collections.iotops.dps_tls.plugins.module_utils._azure import client, errors, waiter


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = 'HTTP/1.1'
    seen = []
    mode = 'throttle'

    def log_message(self, *args):
        pass

    def _answer(self):
        length = int(self.headers.get('Content-Length') or 0)
        if length:
            self.rfile.read(length)
        Handler.seen.append(self.command)
        if Handler.mode == 'throttle':
            self.send_response(429)
            self.send_header('Retry-After', '120')
            self.send_header('Content-Length', '0')
            self.end_headers()
        elif Handler.mode == 'stall':
            self.send_response(200)
            self.send_header('Content-Length', '100')
            self.end_headers()
            self.wfile.write(b'{"partial": ')
            self.wfile.flush()
            time.sleep(30)
        else:  # drop: close without an answer
            self.close_connection = True
            self.connection.close()

    do_GET = do_PUT = _answer


@pytest.fixture()
def server():
    httpd = http.server.ThreadingHTTPServer(('127.0.0.1', 0), Handler)
    httpd.daemon_threads = True
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    Handler.seen = []
    yield 'http://127.0.0.1:%d' % httpd.server_address[1]
    httpd.shutdown()


def send(base, method, timeout, w=None):
    w = w or waiter.Waiter(timeout)
    pipeline = PipelineClient(base, policies=[client.retry_policy(w)], transport=RequestsTransport())
    start = time.monotonic()
    try:
        pipeline.send_request(HttpRequest(method, base + '/x'))
    finally:
        elapsed = time.monotonic() - start
    return elapsed


def test_a_retry_after_longer_than_the_time_left_fails_at_once(server):
    Handler.mode = 'throttle'
    start = time.monotonic()
    with pytest.raises(errors.AzureTimeoutError) as err:
        send(server, 'GET', 5)
    assert time.monotonic() - start < 5
    assert 'timeout=5s' in err.value.message and 'HTTP 429' in err.value.message
    assert Handler.seen == ['GET']


def test_a_stalled_answer_is_cut_at_the_deadline(server):
    from azure.core.exceptions import ServiceResponseError
    Handler.mode = 'stall'
    start = time.monotonic()
    with pytest.raises((ServiceResponseError, errors.AzureTimeoutError)):
        send(server, 'GET', 2)
    assert time.monotonic() - start < 6


def test_a_write_whose_answer_was_lost_is_counted(server):
    from azure.core.exceptions import ServiceResponseError
    Handler.mode = 'drop'
    w = waiter.Waiter(30)
    with pytest.raises(ServiceResponseError):
        send(server, 'PUT', 30, w)
    assert w.lost_answers >= 1
    w = waiter.Waiter(30)
    with pytest.raises(ServiceResponseError):
        send(server, 'GET', 30, w)
    assert w.lost_answers == 0


@pytest.mark.parametrize('class_name, kwargs', [
    ('ClientSecretCredential', dict(tenant_id='tenant', client_id='client', client_secret='secret')),
    ('WorkloadIdentityCredential', dict(tenant_id='tenant', client_id='client', token_file_path='/nonexistent')),
    ('AzurePipelinesCredential', dict(tenant_id='tenant', client_id='client', service_connection_id='connection',
                                      system_access_token='token')),
    ('ManagedIdentityCredential', dict()),
    ('AzureCliCredential', dict()),
])
def test_every_credential_takes_the_task_deadline(class_name, kwargs, monkeypatch):
    import azure.identity
    monkeypatch.setenv('SYSTEM_OIDCREQUESTURI', 'https://dev.azure.com/org/_apis/oidc')
    deadline = client.credential_kwargs(class_name, waiter.Waiter(30))
    assert deadline
    getattr(azure.identity, class_name)(**dict(kwargs, **deadline))
