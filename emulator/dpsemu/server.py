# Copyright: iotops.dps_tls contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""HTTPS plumbing: a threaded TLS server, request/response objects, routing, faults and the request log."""

import http.server
import json
import re
import socket
import ssl
import struct
import sys
import traceback
import urllib.parse
import uuid

# Query parameters never written to the request log.
SECRET_PARAMS = {"client_secret", "client_assertion", "code", "sig", "assertion"}


class ApiError(Exception):
    """An error answer in ARM's format: {"error": {"code", "message"}}."""

    def __init__(self, status, code, message, headers=None):
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.headers = headers or {}

    def response(self):
        return Response(self.status, {"error": {"code": self.code, "message": self.message}}, self.headers)


class Response:
    def __init__(self, status, body=None, headers=None):
        self.status = status
        self.body = body
        self.headers = dict(headers or {})

    def payload(self):
        if self.body is None:
            return b""
        if isinstance(self.body, bytes):
            return self.body
        self.headers.setdefault("Content-Type", "application/json; charset=utf-8")
        return json.dumps(self.body).encode("utf-8")


class Request:
    def __init__(self, method, target, headers, body):
        parts = urllib.parse.urlsplit(target)
        self.method = method
        self.path = urllib.parse.unquote(parts.path)
        self.query = dict(urllib.parse.parse_qsl(parts.query, keep_blank_values=True))
        self.headers = headers
        self.body = body
        self.request_id = str(uuid.uuid4())

    def json(self):
        try:
            return json.loads(self.body.decode("utf-8") or "null")
        except (UnicodeDecodeError, ValueError) as exc:
            raise ApiError(400, "InvalidRequestContent", "The request content is not valid JSON.") from exc

    def form(self):
        return dict(urllib.parse.parse_qsl(self.body.decode("utf-8", "replace"), keep_blank_values=True))

    def loggable_query(self):
        return {k: ("***" if k.lower() in SECRET_PARAMS else v) for k, v in self.query.items()}


def has_dot_segment(target):
    """True when the raw request path holds a '.' or '..' segment, written out or percent-encoded (%2e)."""
    path = urllib.parse.urlsplit(target).path
    for segment in path.split("/"):
        decoded = segment
        for _round in range(3):  # %252e%252e decodes twice
            decoded = urllib.parse.unquote(decoded)
        if decoded in (".", "..") or "/" in decoded and any(p in (".", "..") for p in decoded.split("/")):
            return True
    return False


class Router:
    """(method, path pattern) -> handler(app, request, **groups). Patterns match case-insensitively, as ARM does."""

    def __init__(self):
        self._routes = []

    def add(self, method, pattern, handler):
        # matched whole (fullmatch): with "$", a percent-encoded newline at the end of a name would pass
        self._routes.append((method, re.compile(pattern + "/?", re.IGNORECASE), handler))

    def dispatch(self, app, request):
        path_matched = False
        for method, pattern, handler in self._routes:
            match = pattern.fullmatch(request.path)
            if not match:
                continue
            path_matched = True
            if method == request.method:
                return handler(app, request, **match.groupdict())
        if path_matched:
            raise ApiError(405, "MethodNotAllowed", "The method %s is not allowed on %s." % (request.method, request.path))
        # Not ARM's ResourceNotFound: a client must never read an unknown route as "the resource is absent".
        raise ApiError(404, "NoRouteFound", "No route for %s %s." % (request.method, request.path))


class _Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "dpsemu"
    timeout = 60

    def log_message(self, format, *args):  # pylint: disable=redefined-builtin
        if self.server.app.verbose:
            sys.stderr.write("dpsemu: " + (format % args) + "\n")

    def _handle(self):
        app = self.server.app
        length = int(self.headers.get("Content-Length") or 0)
        request = Request(self.command, self.path, self.headers, self.rfile.read(length) if length else b"")
        fault = None
        if has_dot_segment(self.path):
            # Checked on the raw path before routing, so that a client that sends one fails loudly in every test.
            self._send(app, request, ApiError(400, "InvalidPathDotSegment",
                                              "The request path has a '.' or '..' segment.").response(), None)
            return
        if not request.path.startswith("/_emulator/"):
            fault = app.faults.take(request.method, request.path, ("status", "reset", "drop_answer"))
        if fault and fault["action"] == "reset":
            app.requests.add(request.method, request.path, request.loggable_query(), None, request.request_id,
                             fault="reset")
            self._reset()
            return
        if fault and fault["action"] == "status":
            response = ApiError(
                fault["status"],
                "TooManyRequests" if fault["status"] == 429 else "InjectedFault",
                "Fault injected by the emulator (HTTP %d)." % fault["status"],
                {"Retry-After": str(fault["retry_after"])},
            ).response()
        else:
            response = self._route(app, request)
        if fault and fault["action"] == "drop_answer":
            app.requests.add(request.method, request.path, request.loggable_query(), response.status,
                             request.request_id, fault="drop_answer")
            self._reset()
            return
        self._send(app, request, response, fault)

    def _send(self, app, request, response, fault):
        response.headers["x-ms-request-id"] = request.request_id
        payload = response.payload()
        if not request.path.startswith("/_emulator/"):
            app.requests.add(request.method, request.path, request.loggable_query(), response.status,
                             request.request_id, fault="status" if fault else None)
        self.send_response(response.status)
        for name, value in response.headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(payload)

    @staticmethod
    def _route(app, request):
        try:
            return app.router.dispatch(app, request)
        except ApiError as exc:
            return exc.response()
        except Exception:  # pylint: disable=broad-except
            traceback.print_exc()
            return ApiError(500, "InternalServerError", "The emulator failed; see its log.").response()

    def _reset(self):
        # SO_LINGER 0 makes close() send a TCP RST: the client sees "connection reset by peer".
        self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.close_connection = True
        self.connection.close()

    do_GET = do_PUT = do_POST = do_PATCH = do_DELETE = do_HEAD = _handle


class TLSServer(http.server.ThreadingHTTPServer):
    """Accepts on the main thread, does the TLS handshake in the request thread."""

    daemon_threads = True
    block_on_close = False

    def __init__(self, address, app, ssl_context):
        self.app = app
        self.ssl_context = ssl_context
        if ":" in address[0]:
            self.address_family = socket.AF_INET6
        super().__init__(address, _Handler)

    def finish_request(self, request, client_address):
        try:
            request = self.ssl_context.wrap_socket(request, server_side=True)
        except (ssl.SSLError, OSError):
            return
        try:
            super().finish_request(request, client_address)
        finally:
            try:
                request.close()
            except OSError:
                pass

    def handle_error(self, request, client_address):
        # Clients dropping connections (and our own resets) are routine; don't print tracebacks for them.
        exc = sys.exc_info()[1]
        if not isinstance(exc, (ConnectionError, ssl.SSLError, socket.timeout, OSError)):
            super().handle_error(request, client_address)
