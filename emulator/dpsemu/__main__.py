# Copyright: iotops.dps_tls contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Command line: `python -m dpsemu serve|env|stop --state-dir DIR`."""

import argparse
import os
import shlex
import signal
import sys
import time

from dpsemu.app import AlreadyRunning, Emulator, process_alive, running_endpoints

ENV_NAMES = (
    ("AZURE_SUBSCRIPTION_ID", "subscription_id"),
    ("AZURE_TENANT_ID", "tenant_id"),
    ("AZURE_CLIENT_ID", "client_id"),
    ("AZURE_CLIENT_SECRET", "client_secret"),
    ("AZURE_AUTHORITY_HOST", "authority_host"),
    ("AZURE_RESOURCE_MANAGER_ENDPOINT", "resource_manager_endpoint"),
    ("DPSEMU_URL", "resource_manager_endpoint"),
    ("DPSEMU_CA_FILE", "ca_file"),
    ("DPSEMU_STATE_DIR", "state_dir"),
    ("DPSEMU_CLIENT_CERTIFICATE_PATH", "client_certificate_path"),
    ("DPSEMU_FEDERATED_TOKEN_FILE", "federated_token_file"),
    ("DPSEMU_MANAGED_IDENTITY_ENDPOINT", "managed_identity_endpoint"),
    ("DPSEMU_MANAGED_IDENTITY_HEADER", "managed_identity_header"),
    ("DPSEMU_DEVICE_PORT", "device_port"),
    ("DPS_SERVICE_ENDPOINT", "dps_service_endpoint"),
    ("DPSEMU_OIDC_REQUEST_URI", "oidc_request_uri"),
    ("DPSEMU_SYSTEM_ACCESSTOKEN", "system_access_token"),
    ("DPSEMU_SERVICE_CONNECTION_ID", "service_connection_id"),
)


def serve(args):
    try:
        emulator = Emulator(args.state_dir, host=args.host, port=args.port,
                            provisioning_delay=args.provisioning_delay, retry_after=args.retry_after,
                            verbose=args.verbose, device_port=args.device_port,
                            resource_groups=args.resource_group,
                            device_retry_after=args.device_retry_after,
                            device_websocket_port=args.device_websocket_port)
    except (AlreadyRunning, ValueError, OSError) as exc:
        print("dpsemu: %s" % exc, file=sys.stderr)
        return 1
    print("dpsemu: listening on %s, device endpoint on port %d (state in %s)"
          % (emulator.base_url, emulator.device.port, emulator.state_dir), file=sys.stderr)
    emulator.serve()
    return 0


def env(args):
    endpoints = running_endpoints(args.state_dir)
    if not endpoints:
        print("dpsemu: no emulator runs with state dir %s" % args.state_dir, file=sys.stderr)
        return 1
    for name, key in ENV_NAMES:
        print("export %s=%s" % (name, shlex.quote(str(endpoints[key]))))
    return 0


def stop(args):
    endpoints = running_endpoints(args.state_dir)
    if not endpoints:
        return 0
    pid = int(endpoints["pid"])
    os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + args.timeout
    while process_alive(pid):
        if time.monotonic() > deadline:
            print("dpsemu: process %d did not exit within %ss" % (pid, args.timeout), file=sys.stderr)
            return 1
        time.sleep(0.1)
    return 0


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m dpsemu", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser("serve", help="run the emulator in the foreground")
    run.add_argument("--host", default="127.0.0.1", help="a loopback address (default 127.0.0.1)")
    run.add_argument("--port", type=int, default=0, help="0 picks the previous port if free, else any free one")
    run.add_argument("--provisioning-delay", type=float, default=2.0,
                     help="seconds a create/update/delete takes (default 2)")
    run.add_argument("--retry-after", type=int, default=1, help="Retry-After seconds sent to pollers (default 1)")
    run.add_argument("--device-port", type=int, default=None,
                     help="device endpoint (MQTT over TLS) port; default 8883, or any free port when 8883 is busy; "
                          "a port given here must be free; 0 picks any free port")
    run.add_argument("--resource-group", action="append", default=[],
                     help="a resource group that exists from the start (repeatable), besides the default set")
    run.add_argument("--device-retry-after", type=int, default=3,
                     help="retry-after seconds the device endpoint sends while a registration is assigning (default 3)")
    run.add_argument("--device-websocket-port", type=int, default=None,
                     help="also serve MQTT over WebSockets (the SDKs use 443) on this port; off by default")
    run.add_argument("--verbose", action="store_true", help="log every request to stderr")
    run.set_defaults(func=serve)
    commands.add_parser("env", help="print export lines for a running emulator").set_defaults(func=env)
    halt = commands.add_parser("stop", help="stop a running emulator and wait for it to exit")
    halt.add_argument("--timeout", type=float, default=15.0)
    halt.set_defaults(func=stop)
    for command in commands.choices.values():
        command.add_argument("--state-dir", required=True, help="where the emulator keeps its CA, keys and state")
    args = parser.parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
