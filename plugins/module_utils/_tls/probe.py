# Copyright: iotops.dps_tls contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Probes an endpoint: which protocols, suites and groups it accepts, its chain, and the verdict.

The first handshake proves the endpoint answers at all (a silent server fails here, within one timeout); every
other one starts as soon as the first is connected, all at once up to a bound: each protocol and suite alone, the
ECDHE groups, the chain and its verification. Each stops as soon as it has what it is about (the ServerHello, or
the checked chain).
"""

from __future__ import annotations

import datetime
import os
import socket
import ssl
import threading
from concurrent.futures import ThreadPoolExecutor

from ansible_collections.iotops.dps_tls.plugins.module_utils._common.errors import DpsTlsError, InvalidInputError
from ansible_collections.iotops.dps_tls.plugins.module_utils._common.files import BUNDLE_MAX_BYTES, read_regular_file
from ansible_collections.iotops.dps_tls.plugins.module_utils._tls import verdict
from ansible_collections.iotops.dps_tls.plugins.module_utils._tls.chain import (
    builtin_root_name, describe_chain, load_parser, root_fingerprint)
from ansible_collections.iotops.dps_tls.plugins.module_utils._tls.endpoint import check_endpoint
from ansible_collections.iotops.dps_tls.plugins.module_utils._tls.handshake import (
    ACCEPTED, CONNECT_FAILED, NOT_OFFERED, REJECTED, TIMEOUT, UNTIL_CHAIN, UNTIL_CLIENT_CERTIFICATE,
    UNTIL_SERVER_HELLO, HandshakeSpec, client_context, handshake)
from ansible_collections.iotops.dps_tls.plugins.module_utils._tls.policy import (
    CONTROL_SUITES, NOT_IN_POLICY, PROTOCOLS, POLICIES, classify, group_name, known_suite, policy_suites)
from ansible_collections.iotops.dps_tls.plugins.module_utils._trust.roots import BUILTIN_ROOTS
from ansible_collections.iotops.dps_tls.plugins.module_utils._x509.pem import (
    refuse_private_keys, sha256_of)

MAX_CONCURRENCY = 64
# Enough for every handshake of a DPS audit at once: one round trip for all of them.
DEFAULT_CONCURRENCY = 32


class Plan(object):
    """One handshake to make: a context (or why none could be built) and what the ClientHello must offer."""

    def __init__(self, context=None, wanted=None, not_offered=None, until=UNTIL_SERVER_HELLO):
        self.context = context
        self.wanted = wanted
        self.not_offered = not_offered
        self.until = until


def check_ca_file(ca_file):
    """A ca_file must be a file with at least one PEM certificate OpenSSL can load and no private key: anything
    else is the user's mistake, refused by the option's name before any handshake."""
    if not os.path.exists(ca_file):
        raise InvalidInputError("ca_file", "%s is not a file" % ca_file)
    data = read_regular_file("ca_file", ca_file, max_bytes=BUNDLE_MAX_BYTES)
    refuse_private_keys("ca_file", data)
    text = data.decode("ascii", "replace")
    try:
        ssl.create_default_context(cadata=text)
    except (ssl.SSLError, OSError, ValueError) as exc:
        raise InvalidInputError("ca_file", "%s holds no readable PEM certificate (%s)" % (ca_file, exc))


def _plan(wanted, until, **options):
    try:
        return Plan(client_context(**options), wanted, until=until)
    except ssl.SSLError as exc:
        return Plan(not_offered="our TLS stack does not know it: %s" % (getattr(exc, "reason", None) or exc))


def _offers_protocol(protocol):
    def wanted(hello):
        if protocol not in hello["versions"]:
            return "our TLS stack leaves %s out of its ClientHello" % protocol
        return None
    return wanted


def _offers_suite(suite):
    def wanted(hello):
        if suite.code not in hello["suites"]:
            return "our TLS stack leaves %s out of its ClientHello" % suite.openssl_name
        return None
    return wanted


def _offers_group(code):
    def wanted(hello):
        if code not in hello["groups"]:
            return "our TLS stack leaves %s out of its ClientHello" % group_name(code)
        return None
    return wanted


def validate(host, port, timeout, concurrency, server_name=None, ca_file=None, client_cert=None, client_key=None,
             client_key_passphrase=None, expected_roots=None):
    """Every option checked before any packet is sent. Returns the expected root fingerprints."""
    check_endpoint(host=host, port=port, timeout=timeout, server_name=server_name)
    if not 1 <= concurrency <= MAX_CONCURRENCY:
        raise InvalidInputError("concurrency", "must be between 1 and %d, got %s" % (MAX_CONCURRENCY, concurrency))
    if ca_file is not None:
        check_ca_file(ca_file)
    if client_key is not None and client_cert is None:
        raise InvalidInputError("client_key", "needs client_cert")
    if client_cert is not None:
        _check_client_cert(client_cert, client_key, client_key_passphrase)
    return _expected_fingerprints(expected_roots)


def _check_client_cert(client_cert, client_key, passphrase):
    for option, path in (("client_cert", client_cert), ("client_key", client_key)):
        if path is not None and not os.path.exists(path):
            raise InvalidInputError(option, "%s is not a file" % path)
        if path is not None:
            read_regular_file(option, path)  # a FIFO or a huge file is refused before ssl opens it
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    try:
        context.load_cert_chain(client_cert, client_key, password=passphrase)
    except (ssl.SSLError, OSError, ValueError, TypeError):
        # ssl only says "PEM lib" here; name the likely causes instead.
        raise InvalidInputError("client_cert", "the client certificate and key cannot be loaded: the key "
                                "is missing, does not match the certificate, or needs another passphrase")


def _expected_fingerprints(expected_roots):
    fingerprints = []
    for value in expected_roots or []:
        refuse_private_keys("expected_roots", value)  # the message below repeats the value
        fingerprint = root_fingerprint(value)
        if fingerprint is None:
            raise InvalidInputError("expected_roots", "%r is neither a builtin root (%s) nor a SHA-256 fingerprint"
                                    % (value, ", ".join(sorted(BUILTIN_ROOTS))))
        fingerprints.append(fingerprint)
    return fingerprints


def _resolve(host, port):
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        raise DpsTlsError("Cannot resolve %s: %s" % (host, exc.strerror or exc), host=host, port=port)
    return infos[0][4][:2]


def _suite_names(code):
    if code is None:
        return None, None
    suite = known_suite(code)
    if suite is not None:
        return suite.iana_name, suite.openssl_name
    return None, "0x%04X" % code


class _Runner(object):
    """Runs plans against one endpoint, in parallel up to the concurrency, with the user's credentials."""

    def __init__(self, spec, credentials, concurrency):
        self.spec, self.credentials, self.concurrency = spec, credentials, concurrency

    def plan(self, wanted, until=UNTIL_SERVER_HELLO, **options):
        return _plan(wanted, until, **dict(options, **self.credentials))

    def one(self, plan):
        if plan.not_offered:
            return None
        return handshake(self.spec, plan.context, plan.wanted, until=plan.until)

    def run(self, plans):
        with ThreadPoolExecutor(max_workers=self.concurrency) as pool:
            return list(pool.map(self.one, plans))


def _outcome(plan, result, accepted):
    if plan.not_offered:
        return NOT_OFFERED, plan.not_offered
    if accepted:
        return ACCEPTED, None
    if result.outcome == ACCEPTED:
        # The server answered, but with something else than what this probe offered alone.
        return REJECTED, "the server chose %s" % (result.protocol,)
    return result.outcome, result.reason


def probe_endpoint(host, port=8883, server_name=None, policy="dps", ca_file=None, client_cert=None,
                   client_key=None, client_key_passphrase=None, expected_roots=None, timeout=10.0,
                   concurrency=DEFAULT_CONCURRENCY, now=None):
    """The whole tls_probe result; raises InvalidInputError or DpsTlsError."""
    expected = validate(host=host, port=port, timeout=timeout, concurrency=concurrency, server_name=server_name,
                        ca_file=ca_file, client_cert=client_cert, client_key=client_key,
                        client_key_passphrase=client_key_passphrase, expected_roots=expected_roots)
    rules = POLICIES[policy]
    credentials = {"client_cert": client_cert, "client_key": client_key, "passphrase": client_key_passphrase}
    runner = _Runner(HandshakeSpec(_resolve(host, port), server_name or host, timeout), credentials, concurrency)
    first, seen = _audit(runner, rules, ca_file=ca_file, where=(host, port))
    seen["chain"] = _chain_facts(first=first, plain=seen["plain"], verified=seen["verified"], named=seen["named"],
                                 ca_file=ca_file, sni=runner.spec.server_name)
    findings = _findings(rules, seen, first=first, expected=expected, client_cert=client_cert,
                         now=now or datetime.datetime.now(datetime.timezone.utc))
    report = {"changed": False, "host": host, "port": port, "address": runner.spec.address[0],
              "server_name": runner.spec.server_name, "policy": policy}
    report.update(_report(seen, first, findings))
    return report


def _audit(runner, rules, ca_file, where):
    """The first handshake, and every other one as soon as it is connected, all at once up to the concurrency.
    An endpoint that refuses the connection fails with the first handshake alone; one that connects but never
    answers fails within one timeout, the handshakes started beside the first ending with it. The groups and the
    chain are probed as for an endpoint that accepts every policy suite, DPS itself; for one that does not, again
    with the suites it accepts."""
    every_suite = list(policy_suites(rules))
    connected = threading.Event()
    with ThreadPoolExecutor(max_workers=runner.concurrency) as pool:
        started = pool.submit(handshake, runner.spec, client_context(**runner.credentials), until=UNTIL_CHAIN,
                              connected=connected.set)
        started.add_done_callback(lambda _first: connected.set())
        one, read_one = _round_one(runner, rules)  # while the first handshake connects
        two, read_two = _round_two(runner, rules, every_suite, ca_file=ca_file)
        load_parser()
        others = []
        # With one worker, nothing is queued behind the first before it has answered.
        if runner.concurrency > 1:
            connected.wait()  # set on connecting, else when the first handshake ends (within its timeout)
            if not (started.done() and started.result().outcome == CONNECT_FAILED):
                others = [pool.submit(runner.one, plan) for plan in one + two]
        try:
            first = _answered(started.result(), runner.spec.timeout, *where)
        except DpsTlsError:
            for other in others:
                other.cancel()  # those beyond the concurrency, still queued, never start
            raise
        others = others or [pool.submit(runner.one, plan) for plan in one + two]
        results = [other.result() for other in others]
    seen = read_one(results[:len(one)])
    if seen["accepted_policy"] != every_suite:
        two, read_two = _round_two(runner, rules, seen["accepted_policy"], ca_file=ca_file)
        results[len(one):] = runner.run(two)
    seen.update(read_two(results[len(one):]))
    return first, seen


def _answered(first, timeout, host, port):
    """The first handshake: an endpoint that does not answer fails here, within one timeout."""
    where = "%s:%s" % (host, port)
    if first.outcome == CONNECT_FAILED:
        raise DpsTlsError("Cannot connect to %s: %s" % (where, first.reason), host=host, port=port)
    if first.outcome == TIMEOUT:
        raise DpsTlsError("%s accepted the connection but did not answer the TLS handshake within %s seconds"
                          % (where, timeout), host=host, port=port)
    return first


def _round_one(runner, rules):
    """Each protocol alone, each suite alone (TLS 1.0 to 1.2: the versions suites belong to): the plans, and
    what reads their results."""
    suites = policy_suites(rules) + tuple(s for s in CONTROL_SUITES if classify(rules, s.code) == NOT_IN_POLICY)
    protocol_plans = [runner.plan(_offers_protocol(p), min_protocol=p, max_protocol=p) for p in PROTOCOLS]
    suite_plans = [runner.plan(_offers_suite(s), max_protocol="TLSv1.2", ciphers=s.openssl_name) for s in suites]

    def read(results):
        cipher_suites = _suite_entries(rules=rules, suites=suites, plans=suite_plans,
                                       results=results[len(PROTOCOLS):])
        accepted_policy = [s for s, entry in zip(suites, cipher_suites)
                           if entry["accepted"] and entry["classification"] != NOT_IN_POLICY]
        return {"protocols": _protocol_entries(protocol_plans, results[:len(PROTOCOLS)]),
                "cipher_suites": cipher_suites, "accepted_policy": accepted_policy}
    return protocol_plans + suite_plans, read


def _device(accepted_policy):
    """How a DPS device connects: TLS 1.2 and the policy suites (everything, when the endpoint accepts none)."""
    if not accepted_policy:
        return {}
    return {"min_protocol": "TLSv1.2", "max_protocol": "TLSv1.2",
            "ciphers": ":".join(s.openssl_name for s in accepted_policy)}


def _plain_plan(runner, accepted_policy):
    """The chain as a DPS device gets it, unverified: to the end only when the server asks for a certificate."""
    return runner.plan(None, until=UNTIL_CLIENT_CERTIFICATE, **_device(accepted_policy))


def _round_two(runner, rules, accepted_policy, ca_file):
    """The chain as a DPS device gets it, and the groups for the ECDHE suites the endpoint accepts."""
    ecdhe = ":".join(s.openssl_name for s in accepted_policy if s.key_exchange == "ECDHE")
    group_plans = []
    if ecdhe:
        group_plans = [runner.plan(_offers_group(g.code), min_protocol="TLSv1.2", max_protocol="TLSv1.2",
                                   ciphers=ecdhe, group=g.openssl_name) for g in rules.ecdhe_groups]
    device = _device(accepted_policy)
    chain_plans = [
        _plain_plan(runner, accepted_policy),
        runner.plan(None, until=UNTIL_CHAIN, verify=True, ca_file=ca_file, **device),
        runner.plan(None, until=UNTIL_CHAIN, verify=True, ca_file=ca_file, check_hostname=True, **device),
    ]

    def read(results):
        plain, verified, named = results[:len(chain_plans)]
        return {"groups": _group_entries(rules, group_plans, results[len(chain_plans):]),
                "plain": plain, "verified": verified, "named": named}
    return chain_plans + group_plans, read


def _findings(rules, seen, first, expected, client_cert, now):
    protocols, cipher_suites, groups, chain = seen["protocols"], seen["cipher_suites"], seen["groups"], seen["chain"]
    accepted_protocols = [p["name"] for p in protocols if p["accepted"]]
    unanswered = [p["name"] for p in protocols if p["outcome"] in verdict.NO_ANSWER]
    findings = verdict.judge_protocols(rules, accepted_protocols, unanswered)
    findings += verdict.judge_suites(rules, cipher_suites)
    findings += verdict.judge_groups(groups)
    findings += verdict.judge_certificates(
        policy=rules, chain=chain["certificate_chain"], chain_result=chain, expected_roots=expected, now=now,
        suites_prove_rsa=any(s.authentication == "RSA" for s in seen["accepted_policy"]))
    findings += _client_certificate_findings(client_cert, [first, seen["plain"]])
    findings += _coverage_findings(protocols=protocols, cipher_suites=cipher_suites, groups=groups,
                                   chain_unanswered=chain["unanswered"])
    return findings


def _report(seen, first, findings):
    """The result fields that come from the handshakes."""
    protocols, cipher_suites, chain = seen["protocols"], seen["cipher_suites"], seen["chain"]
    negotiated_names = _suite_names(first.suite_code)
    return {
        "accepted_protocols": [p["name"] for p in protocols if p["accepted"]],
        "rejected_protocols": [p["name"] for p in protocols if p["outcome"] == REJECTED],
        "protocols": protocols,
        "cipher_suites": cipher_suites,
        "groups": seen["groups"],
        "negotiated": {"protocol": first.protocol, "cipher_suite": negotiated_names[0],
                       "openssl_name": negotiated_names[1], "group": group_name(first.group_code)},
        "not_offered_locally": [p["name"] for p in protocols if p["outcome"] == NOT_OFFERED]
        + [s["iana_name"] for s in cipher_suites if s["outcome"] == NOT_OFFERED],
        "certificate_chain": chain["certificate_chain"],
        "chain_verified": chain["error"] is None,
        "chain_error": chain["error"][1] if chain["error"] else None,
        "trust_store": chain["trust_store"],
        "trusted_root": chain["root_name"],
        "trusted_root_sha256": chain["root_sha256"],
        "hostname_verified": chain["hostname_error"] is None if chain["error"] is None else None,
        "client_certificate_requested": _first_known(
            r.certificate_requested for r in (seen["plain"], seen["verified"], first)),
        "compliant": not any(f["severity"] == verdict.ERROR for f in findings),
        "findings": findings,
    }


def _protocol_entries(plans, results):
    entries = []
    for name, plan, result in zip(PROTOCOLS, plans, results):
        accepted = result is not None and result.outcome == ACCEPTED and result.protocol == name
        outcome, reason = _outcome(plan, result, accepted)
        entries.append({"name": name, "accepted": accepted, "outcome": outcome, "reason": reason,
                        "cipher_suite": _suite_names(result.suite_code)[0] if accepted else None})
    return entries


def _suite_entries(rules, suites, plans, results):
    entries = []
    for suite, plan, result in zip(suites, plans, results):
        accepted = result is not None and result.outcome == ACCEPTED and result.suite_code == suite.code
        outcome, reason = _outcome(plan, result, accepted)
        entries.append({
            "iana_name": suite.iana_name, "openssl_name": suite.openssl_name, "code": "0x%04X" % suite.code,
            "accepted": accepted, "classification": classify(rules, suite.code), "outcome": outcome,
            "reason": reason, "protocol": result.protocol if accepted else None,
        })
    return entries


def _group_entries(rules, plans, results):
    entries = []
    for group, plan, result in zip(rules.ecdhe_groups, plans, results):
        accepted = result is not None and result.outcome == ACCEPTED and result.suite_code is not None
        outcome, reason = _outcome(plan, result, accepted)
        entries.append({"name": group.name, "common_name": group.common_name, "accepted": accepted,
                        "outcome": outcome, "reason": reason})
    return entries


def _chain_facts(first, plain, verified, named, ca_file, sni):
    """The chain, whether it verifies and in which root it ends, and whether the name matches."""
    chain_ok = _verified(verified)
    sent_chain = plain.unverified_chain or first.unverified_chain or verified.unverified_chain
    certificate_chain = describe_chain(verified.verified_chain if chain_ok else [], sent_chain)
    root_sha256 = sha256_of(verified.verified_chain[-1]) if chain_ok and verified.verified_chain else None
    root_name = None
    if root_sha256:
        root_name = builtin_root_name(root_sha256) or certificate_chain[-1]["subject"] or root_sha256
    error = None
    # a verifying handshake that got no answer proves nothing about the chain: probe_incomplete reports it
    unanswered = None if chain_ok or verified.outcome not in verdict.NO_ANSWER else verified.reason
    if not chain_ok:
        error = verified.verify_error or (None, "the verifying handshake did not complete: %s" % verified.reason)
    hostname_error = None
    if chain_ok and not _verified(named):
        hostname_error = (named.verify_error or (None, named.reason))[1]
    return {"certificate_chain": certificate_chain, "error": error, "unanswered": unanswered,
            "trust_store": ca_file or "the system trust store",
            "root_sha256": root_sha256, "root_name": root_name, "hostname_error": hostname_error,
            "checked_name": sni}


def _verified(result):
    """The verification passed: the handshake completed, or failed later for another reason (a client
    certificate the server wanted) with the verified chain already there."""
    if result.completed:
        return True
    return result.outcome == ACCEPTED and result.verify_error is None and bool(result.verified_chain)


def _first_known(values):
    for value in values:
        if value is not None:
            return value
    return None


def _client_certificate_findings(client_cert, results):
    requested = any(r.certificate_requested for r in results)
    if not requested:
        return []
    failed = [r for r in results if not r.completed and not r.stopped and r.outcome == ACCEPTED]
    if client_cert is None and failed:
        return [verdict.finding("client_certificate_required", "the server requires a client certificate and "
                                "none was given (client_cert); protocols and suites were judged from the "
                                "server's ServerHello")]
    if client_cert is not None and failed:
        return [verdict.finding("client_certificate_rejected", "the server refused the client certificate: %s"
                                % failed[0].reason)]
    return []


def _coverage_findings(protocols, cipher_suites, groups, chain_unanswered=None):
    findings = []
    untested = [p["name"] for p in protocols if p["outcome"] == NOT_OFFERED]
    untested += [s["iana_name"] for s in cipher_suites
                 if s["outcome"] == NOT_OFFERED and s["classification"] != NOT_IN_POLICY]
    untested += [g["name"] for g in groups if g["outcome"] == NOT_OFFERED]
    if untested:
        findings.append(verdict.finding("not_tested", "our TLS stack cannot offer %s, so the endpoint was not "
                                        "tested with it" % ", ".join(untested)))
    incomplete = ["%s (%s)" % (item["name"] if "name" in item else item["iana_name"], item["reason"])
                  for item in protocols + cipher_suites + groups if item["outcome"] in (TIMEOUT, CONNECT_FAILED)]
    if chain_unanswered is not None:
        incomplete.append("the chain's verification (%s)" % chain_unanswered)
    if incomplete:
        findings.append(verdict.finding("probe_incomplete", "these handshakes got no answer: %s"
                                        % ", ".join(incomplete)))
    return findings
