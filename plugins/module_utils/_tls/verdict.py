# Copyright: iotops.dps_tls contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Judges what a probe saw against a policy: a list of findings with stable codes.

The codes are a public interface (docs/tls_policy.md lists them): add new ones, never rename one.
An endpoint is compliant when no finding has severity error.
"""

from __future__ import annotations

from ansible_collections.iotops.dps_tls.plugins.module_utils._tls.chain import days_left
from ansible_collections.iotops.dps_tls.plugins.module_utils._tls.handshake import CONNECT_FAILED, NOT_OFFERED, TIMEOUT
from ansible_collections.iotops.dps_tls.plugins.module_utils._tls.policy import (
    LEGACY, NOT_IN_POLICY, RECOMMENDED)

# Handshakes that got no answer, or were never sent: they prove nothing either way, so no finding says the server
# refused them (probe_incomplete and not_tested say what is missing instead).
NO_ANSWER = (TIMEOUT, CONNECT_FAILED, NOT_OFFERED)

ERROR = "error"
WARNING = "warning"
INFO = "info"

# code -> severity; the message of each finding says what exactly was seen.
FINDINGS = {
    "protocol_not_allowed": ERROR,
    "protocol_not_in_policy": WARNING,
    "tls12_not_accepted": ERROR,
    "suite_not_in_policy": ERROR,
    "no_policy_suite_accepted": ERROR,
    "only_legacy_suites": WARNING,
    "ecdhe_group_not_accepted": WARNING,
    "rsa_certificate_required": ERROR,
    "untrusted_root": ERROR,
    "unexpected_root": ERROR,
    "chain_not_verified": ERROR,
    "hostname_mismatch": ERROR,
    "certificate_expired": ERROR,
    "certificate_expiring": WARNING,
    "client_certificate_required": WARNING,
    "client_certificate_rejected": WARNING,
    "not_tested": WARNING,
    "probe_incomplete": ERROR,
    "certificate_not_inspected": WARNING,
}

EXPIRY_WARNING_DAYS = 30

# OpenSSL verify codes that mean "no trusted root at the end of this chain".
UNTRUSTED_ROOT_CODES = (2, 18, 19, 20, 21)
HOSTNAME_MISMATCH_CODES = (62, 64)


def finding(code, message):
    return {"severity": FINDINGS[code], "code": code, "message": message}


def _names(items):
    return ", ".join(items)


def _refused(item):
    return not item["accepted"] and item.get("outcome") not in NO_ANSWER


def judge_protocols(policy, accepted_protocols, unanswered=()):
    """unanswered: the protocols whose handshake got no answer or was never sent."""
    findings = []
    for protocol in accepted_protocols:
        if protocol in policy.allowed_protocols:
            continue
        if protocol == "TLSv1.3":
            findings.append(finding(
                "protocol_not_in_policy",
                "TLSv1.3 is accepted, but DPS speaks only TLS 1.2 today: a device that prefers TLS 1.3 passes "
                "here without proving it can do TLS 1.2"))
        else:
            findings.append(finding("protocol_not_allowed", "%s is accepted; the %s policy allows only %s"
                                    % (protocol, policy.name, _names(policy.allowed_protocols))))
    if "TLSv1.2" in policy.allowed_protocols and "TLSv1.2" not in accepted_protocols and "TLSv1.2" not in unanswered:
        findings.append(finding("tls12_not_accepted", "TLSv1.2, the only protocol DPS speaks, is not accepted"))
    return findings


def judge_suites(policy, cipher_suites):
    findings = []
    accepted = [s for s in cipher_suites if s["accepted"]]
    outside = [s["iana_name"] for s in accepted if s["classification"] == NOT_IN_POLICY]
    if outside:
        findings.append(finding("suite_not_in_policy", "suites outside the %s policy are accepted: %s"
                                % (policy.name, _names(outside))))
    in_policy = [s for s in accepted if s["classification"] in (RECOMMENDED, LEGACY)]
    policy_refused = all(_refused(s) for s in cipher_suites if s["classification"] in (RECOMMENDED, LEGACY))
    if not in_policy:
        if policy_refused:
            findings.append(finding("no_policy_suite_accepted", "none of the %d %s policy suites is accepted"
                                    % (len(policy.recommended_suites) + len(policy.legacy_suites), policy.name)))
    elif all(s["classification"] == LEGACY for s in in_policy):
        findings.append(finding("only_legacy_suites", "only legacy suites are accepted (%s); none of the "
                                "recommended ECDHE-RSA GCM/SHA-2 suites" % _names(s["iana_name"] for s in in_policy)))
    return findings


def judge_groups(groups):
    refused = ["%s (%s)" % (g["name"], g["common_name"]) for g in groups if _refused(g)]
    if refused:
        return [finding("ecdhe_group_not_accepted", "ECDHE with %s is refused; devices offering only that group "
                        "cannot connect here although DPS accepts it" % _names(refused))]
    return []


def judge_certificates(policy, chain, chain_result, expected_roots, now, suites_prove_rsa):
    findings = []
    leaf = chain[0] if chain else None
    if leaf is not None and leaf["key_type"] is None:
        findings.append(finding("certificate_not_inspected", "the certificates were not parsed (install the "
                                "Python package cryptography): names, expiry and key types are unknown"))
    if policy.certificate_key_type and leaf is not None:
        if leaf["key_type"] not in (None, policy.certificate_key_type):
            findings.append(finding("rsa_certificate_required", "the server certificate has a %s key; the %s "
                                    "policy requires %s" % (leaf["key_type"], policy.name,
                                                            policy.certificate_key_type)))
        elif leaf["key_type"] is None and not suites_prove_rsa:
            findings.append(finding("rsa_certificate_required", "no RSA-authenticated suite was accepted, so "
                                    "the server has no usable RSA certificate"))
    for cert in chain:
        if cert["not_after"] is None:
            continue
        left = days_left(cert["not_after"], now)
        if left < 0:
            findings.append(finding("certificate_expired", "%s expired on %s" % (cert["subject"], cert["not_after"])))
        elif left < EXPIRY_WARNING_DAYS:
            findings.append(finding("certificate_expiring", "%s expires on %s (in %d days)"
                                    % (cert["subject"], cert["not_after"], int(left))))
    error = chain_result["error"]
    if chain_result.get("unanswered") is not None:
        return findings
    if error is not None:
        code, message = error
        if code in UNTRUSTED_ROOT_CODES:
            findings.append(finding("untrusted_root", "the chain does not end in a root trusted by %s: %s"
                                    % (chain_result["trust_store"], message)))
        else:
            findings.append(finding("chain_not_verified", "the chain does not verify against %s: %s"
                                    % (chain_result["trust_store"], message)))
    elif expected_roots and chain_result["root_sha256"] is None:
        # A pin that cannot be checked is not met (Python < 3.10 does not show the verified chain).
        findings.append(finding("unexpected_root", "the chain verifies, but this Python cannot show which root it "
                                "ends in, so expected_roots cannot be confirmed (Python 3.10 or later can)"))
    elif expected_roots and chain_result["root_sha256"] not in expected_roots:
        findings.append(finding("unexpected_root", "the chain ends in %s (SHA-256 %s), not in one of expected_roots"
                                % (chain_result["root_name"], chain_result["root_sha256"])))
    hostname_error = chain_result["hostname_error"]
    if hostname_error is not None:
        findings.append(finding("hostname_mismatch", "the server certificate is not valid for %s: %s"
                                % (chain_result["checked_name"], hostname_error)))
    return findings
