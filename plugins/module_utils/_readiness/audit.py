# Copyright: iotops.dps_tls contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The device readiness audit: every check, and what blocks the device from DPS, in plain words.

Nothing here writes: the audit reads the device (or an offline image under ``root``) and, when asked,
makes one handshake with the device's own TLS defaults.
"""

from __future__ import annotations

import os
import socket
import ssl

from ansible_collections.iotops.dps_tls.plugins.module_utils._common.errors import DpsTlsError, InvalidInputError
from ansible_collections.iotops.dps_tls.plugins.module_utils._common.files import BUNDLE_MAX_BYTES, read_regular_file
from ansible_collections.iotops.dps_tls.plugins.module_utils._common.rooted import resolve_in_root
from ansible_collections.iotops.dps_tls.plugins.module_utils._readiness.pinning import find_pinned
from ansible_collections.iotops.dps_tls.plugins.module_utils._readiness.sdks import find_sdks
from ansible_collections.iotops.dps_tls.plugins.module_utils._readiness.stack import audit_stack
from ansible_collections.iotops.dps_tls.plugins.module_utils._tls.chain import builtin_root_name
from ansible_collections.iotops.dps_tls.plugins.module_utils._tls.endpoint import check_host, check_port, check_timeout
from ansible_collections.iotops.dps_tls.plugins.module_utils._tls.policy import (
    NOT_IN_POLICY, TLS_VERSIONS, classify, get_policy, known_suite, tls_version)
from ansible_collections.iotops.dps_tls.plugins.module_utils._trust.families import FAMILIES, detect_family
from ansible_collections.iotops.dps_tls.plugins.module_utils._trust.roots import BUILTIN_ROOTS, DEFAULT_ROOTS
from ansible_collections.iotops.dps_tls.plugins.module_utils._x509.pem import fingerprints_in, sha256_of

PASSED = "passed"
FAILED = "failed"
WARNING = "warning"


def validate(root, family, required_roots, endpoint=None, port=8883, timeout=10.0, ca_file=None, server_name=None):
    """Every option error, before anything is read."""
    if not os.path.isabs(root):
        raise InvalidInputError("root", "must be an absolute path, got %r" % root)
    if not os.path.isdir(root):
        raise InvalidInputError("root", "%s is not a directory" % root)
    if family != "auto" and family not in FAMILIES:
        raise InvalidInputError("family", "must be auto or one of %s" % ", ".join(sorted(FAMILIES)))
    unknown = [name for name in required_roots if name not in BUILTIN_ROOTS]
    if unknown:
        raise InvalidInputError("required_roots", "unknown builtin root %s; known: %s"
                                % (", ".join(unknown), ", ".join(sorted(BUILTIN_ROOTS))))
    check_port("port", port)
    check_timeout("timeout", timeout)
    if endpoint is not None:
        check_host("endpoint", endpoint)
    if ca_file:
        # a file that is no CA bundle is the user's mistake, not the device's: refuse it, as tls_probe does
        # (the probe is imported only then: each module run on a device pays for every import)
        from ansible_collections.iotops.dps_tls.plugins.module_utils._tls.probe import check_ca_file
        check_ca_file(ca_file)
    if server_name:
        check_host("server_name", server_name, what="DNS name")


def trust_store(root, family):
    """The system bundle ca_trust would read. An image whose OS family cannot be told is an input error (which
    trust store to audit is then the user's call, as in ca_trust); the running system falls back to Python's."""
    try:
        name = detect_family(root) if family == "auto" else family
    except DpsTlsError as exc:
        if root != "/":
            raise InvalidInputError("family", "auto cannot tell the OS family of root %s (os-release ID %r, no known "
                                    "trust-store layout); set family explicitly, or check that root is the device's "
                                    "root filesystem" % (root, exc.details.get("os_release_id")))
        name = None
    bundle = _in_image(root, FAMILIES[name].bundle) if name else None
    if root == "/" and (bundle is None or not os.path.exists(bundle)):
        bundle = ssl.get_default_verify_paths().openssl_cafile
    return bundle


def _in_image(root, path):
    """The file the device itself reads (its links followed inside root), never this host's."""
    try:
        return resolve_in_root(root, path)
    except OSError:
        return None


def roots_in(bundle):
    """{builtin name: trusted} from the bundle's fingerprints (none trusted when the device has no bundle)."""
    data = read_regular_file("root", bundle, max_bytes=BUNDLE_MAX_BYTES, missing_ok=True) if bundle else None
    fingerprints = set(fingerprints_in(data))
    return {name: item.sha256 in fingerprints for name, item in BUILTIN_ROOTS.items()}


def _device_context(stack, bundle, ca_file, server_name):
    """The context an OpenSSL app on this device gets by default, verifying like a DPS device."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.set_ciphers(stack["cipher_string"] or "DEFAULT")
    for key, attribute in (("min_protocol", "minimum_version"), ("max_protocol", "maximum_version")):
        if stack[key] in TLS_VERSIONS:
            setattr(context, attribute, tls_version(stack[key]))
    context.load_verify_locations(cafile=ca_file or bundle)
    context.check_hostname = bool(server_name)
    return context


def live_handshake(stack, bundle, endpoint, port, server_name=None, ca_file=None, timeout=10.0, policy="dps"):
    """One handshake with the device's own defaults: what it negotiates and whether it trusts the chain."""
    # imported here, as only an audit with an endpoint needs it: each module run on a device pays for every import
    from ansible_collections.iotops.dps_tls.plugins.module_utils._tls.handshake import HandshakeSpec, handshake
    sni = server_name or endpoint
    try:
        address = socket.getaddrinfo(endpoint, port, type=socket.SOCK_STREAM)[0][4][:2]
    except socket.gaierror as exc:
        return {"host": endpoint, "port": port, "ok": False, "error": "cannot resolve %s: %s" % (endpoint, exc)}
    try:
        context = _device_context(stack, bundle=bundle, ca_file=ca_file, server_name=sni)
    except (ssl.SSLError, OSError) as exc:
        return {"host": endpoint, "port": port, "ok": False, "error": "cannot build the device's context: %s" % exc}
    result = handshake(HandshakeSpec(address=address, server_name=sni, timeout=timeout), context)
    suite = known_suite(result.suite_code) if result.suite_code is not None else None
    classification = classify(get_policy(policy), result.suite_code) if result.suite_code is not None else None
    root_name = None
    if result.verified_chain:
        root_name = builtin_root_name(sha256_of(result.verified_chain[-1]))
    verified = result.verify_error is None and (result.completed or bool(result.unverified_chain))
    # a DPS endpoint that wants a client certificate fails the handshake after our side has verified it
    agreed = result.completed or (result.certificate_requested and result.verify_error is None
                                  and result.protocol is not None)
    error = None
    if result.verify_error:
        error = "the device does not trust the endpoint's chain: %s" % result.verify_error[1]
    elif not agreed:
        error = "handshake failed: %s" % (result.reason or result.outcome)
    elif classification == NOT_IN_POLICY or result.protocol != "TLSv1.2":
        negotiated = suite.iana_name if suite else result.suite_code
        error = "negotiated %s with %s, outside the DPS policy" % (result.protocol, negotiated)
    return {"host": endpoint, "port": port, "server_name": sni, "ok": error is None, "error": error,
            "protocol": result.protocol, "cipher_suite": suite.iana_name if suite else None,
            "classification": classification, "chain_verified": verified and result.verify_error is None,
            "trusted_root": root_name, "completed": result.completed}


def _check(name, status, message):
    return {"name": name, "status": status, "message": message}


def judge(facts, required_roots, handshake_result):
    """(checks, blockers): a check per question the issue asks, a blocker per reason the device is not ready."""
    checks = [_judge_tls12(facts), _judge_suites(facts), _judge_roots(facts, required_roots), _judge_sdks(facts),
              _judge_pinning(facts)]
    if handshake_result is not None:
        checks.append(_judge_handshake(handshake_result))
    blockers = [{"check": c["name"], "message": c["message"]} for c in checks if c["status"] == FAILED]
    return checks, blockers


def _judge_tls12(facts):
    stack = facts["tls_stack"]
    if facts["tls12_capable"]:
        return _check("tls12", PASSED, "%s can do TLS 1.2" % stack["version"])
    return _check("tls12", FAILED, "the TLS stack cannot do TLS 1.2 (%s, MinProtocol %s, MaxProtocol %s in %s)"
                  % (stack["version"], stack["min_protocol"], stack["max_protocol"], stack["openssl_config"]))


def _judge_suites(facts):
    stack = facts["tls_stack"]
    if not stack["cipher_string_valid"]:
        return _check("suites", FAILED, "OpenSSL rejects the CipherString %r in %s, so apps relying on it "
                      "cannot connect" % (stack["cipher_string"], stack["openssl_config"]))
    if facts["default_suites"]:
        status = PASSED if facts["recommended_suite_available"] else WARNING
        message = "offers %d of the 12 DPS suites by default: %s" % (len(facts["default_suites"]),
                                                                     ", ".join(facts["default_suites"]))
        if not facts["recommended_suite_available"]:
            message += " (none of the 4 recommended ones)"
        return _check("suites", status, message)
    where = "CipherString %r in %s" % (stack["cipher_string"], stack["openssl_config"]) \
        if stack["cipher_string"] else "its defaults"
    return _check("suites", FAILED, "offers none of the 12 suites DPS accepts (%s)" % where)


def _judge_roots(facts, required_roots):
    missing = [name for name in required_roots if not facts["roots"].get(name)]
    if missing:
        return _check("roots", FAILED, "does not trust %s (trust store %s)" % (", ".join(missing),
                                                                               facts["trust_store"]))
    return _check("roots", PASSED, "trusts %s" % ", ".join(required_roots))


def _judge_sdks(facts):
    old = [s for s in facts["sdks"] if not s["ok"]]
    if old:
        return _check("sdks", FAILED, "; ".join("%s %s (%s) %s is older than %s" % (
            s["language"], s["name"], s["path"], s["version"], s["minimum"]) for s in old))
    return _check("sdks", PASSED, "%d Azure IoT device SDK(s) found, all new enough" % len(facts["sdks"])
                  if facts["sdks"] else "no Azure IoT device SDK found in the places searched")


def _judge_pinning(facts):
    blocking = [f for f in facts["pinning_findings"] if f["blocking"]]
    other = [f for f in facts["pinning_findings"] if not f["blocking"]]
    if blocking:
        return _check("pinning", FAILED, "; ".join("%s %s" % (f["path"], f["message"]) for f in blocking))
    if other:
        return _check("pinning", WARNING, "; ".join("%s %s" % (f["path"], f["message"]) for f in other))
    return _check("pinning", PASSED, "no pinned certificate other than the DPS roots")


def _judge_handshake(result):
    if result["ok"]:
        return _check("handshake", PASSED, "%s with %s:%s, chain trusted" % (
            result["cipher_suite"], result["host"], result["port"]))
    return _check("handshake", FAILED, "%s:%s: %s" % (result["host"], result["port"], result["error"]))


def audit_device(root="/", family="auto", openssl_config=None, required_roots=DEFAULT_ROOTS, python_paths=(),
                 app_paths=(), pinning_paths=(), endpoint=None, port=8883, server_name=None, ca_file=None,
                 timeout=10.0, policy="dps"):
    """The dps_tls_readiness facts of one device."""
    validate(root=root, family=family, required_roots=required_roots, endpoint=endpoint, port=port, timeout=timeout,
             ca_file=ca_file, server_name=server_name)
    bundle = trust_store(root, family)
    facts = audit_stack(root, openssl_config, policy)
    facts["trust_store"], facts["roots"] = bundle, roots_in(bundle)
    facts["sdks"] = find_sdks(root, python_paths, app_paths)
    facts["pinning_findings"] = find_pinned(root, pinning_paths)
    result = None
    if endpoint:
        result = live_handshake(stack=facts["tls_stack"], bundle=facts["trust_store"], endpoint=endpoint, port=port,
                                server_name=server_name, ca_file=ca_file, timeout=timeout, policy=policy)
        facts["handshake"] = result
    facts["checks"], facts["blockers"] = judge(facts, list(required_roots), result)
    facts["ready"] = not facts["blockers"]
    facts["root"] = root
    return facts
