# Copyright: iotops.dps_tls contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The test-only control API under /_emulator/ (no authentication: the emulator listens on loopback only)."""

from dpsemu import arm
from dpsemu.faults import FaultError
from dpsemu.server import ApiError, Response


def health(app, _request):
    return Response(200, {"status": "ok", "pid": app.pid})


def requests_log(app, _request):
    return Response(200, app.requests.list())


def clear_requests(app, _request):
    app.requests.clear()
    return Response(204)


def faults(app, _request):
    return Response(200, app.faults.list())


def add_fault(app, request):
    try:
        return Response(201, app.faults.add(request.json()))
    except FaultError as exc:
        raise ApiError(400, "InvalidFault", str(exc)) from exc


def clear_faults(app, _request):
    app.faults.clear()
    return Response(204)


def configure(app, request):
    body = request.json()
    if not isinstance(body, dict) or set(body) - set(app.config):
        raise ApiError(400, "InvalidConfig", "Settable: %s." % ", ".join(sorted(app.config)))
    for name, value in body.items():
        if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
            raise ApiError(400, "InvalidConfig", "%s must be a number of seconds >= 0." % name)
    app.config.update(body)
    return Response(200, dict(app.config))


def seed(app, request):
    return Response(201, arm.seed(app, request.json()))


def register(router):
    router.add("GET", "/_emulator/health", health)
    router.add("GET", "/_emulator/requests", requests_log)
    router.add("DELETE", "/_emulator/requests", clear_requests)
    router.add("GET", "/_emulator/faults", faults)
    router.add("POST", "/_emulator/faults", add_fault)
    router.add("DELETE", "/_emulator/faults", clear_faults)
    router.add("POST", "/_emulator/config", configure)
    router.add("POST", "/_emulator/seed", seed)
