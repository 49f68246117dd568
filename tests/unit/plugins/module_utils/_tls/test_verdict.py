# Copyright: iotops.dps_tls contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Findings for fixed observations: each code, its severity, and what stays quiet."""

from __future__ import annotations

import datetime

import pytest

from ansible_collections.iotops.dps_tls.plugins.module_utils._tls import verdict
from ansible_collections.iotops.dps_tls.plugins.module_utils._tls.policy import DPS_POLICY, classify, policy_suites

NOW = datetime.datetime(2026, 6, 1, tzinfo=datetime.timezone.utc)


def codes(findings):
    return sorted(f["code"] for f in findings)


def suites(accepted_codes, extra=()):
    entries = [{"iana_name": s.iana_name, "accepted": s.code in accepted_codes,
                "classification": classify(DPS_POLICY, s.code)} for s in policy_suites(DPS_POLICY)]
    return entries + [{"iana_name": name, "accepted": True, "classification": "not_in_policy"} for name in extra]


@pytest.mark.parametrize("accepted, expected", [
    (["TLSv1.2"], []),
    (["TLSv1", "TLSv1.1", "TLSv1.2"], ["protocol_not_allowed", "protocol_not_allowed"]),
    (["TLSv1.2", "TLSv1.3"], ["protocol_not_in_policy"]),
    (["TLSv1.3"], ["protocol_not_in_policy", "tls12_not_accepted"]),
])
def test_protocols(accepted, expected):
    assert codes(verdict.judge_protocols(DPS_POLICY, accepted)) == expected


def test_suites():
    assert verdict.judge_suites(DPS_POLICY, suites([0xC030, 0x002F])) == []
    assert codes(verdict.judge_suites(DPS_POLICY, suites([0x002F, 0x0035]))) == ["only_legacy_suites"]
    assert codes(verdict.judge_suites(DPS_POLICY, suites([]))) == ["no_policy_suite_accepted"]
    found = verdict.judge_suites(DPS_POLICY, suites([0xC030], extra=["TLS_DHE_RSA_WITH_AES_128_GCM_SHA256"]))
    assert codes(found) == ["suite_not_in_policy"]
    assert found[0]["severity"] == "error" and "TLS_DHE_RSA_WITH_AES_128_GCM_SHA256" in found[0]["message"]


def test_no_answer_is_no_proof():
    # TLS 1.2 and every policy suite unanswered (the server stopped accepting connections): no refusal findings,
    # probe_incomplete says what is missing
    assert verdict.judge_protocols(DPS_POLICY, [], unanswered=["TLSv1.2"]) == []
    for outcome in ("timeout", "connect_failed", "not_offered"):
        unanswered = [dict(s, outcome=outcome) for s in suites([])]
        assert verdict.judge_suites(DPS_POLICY, unanswered) == []
    # one policy suite refused for real and the others unanswered: still no proof that none is accepted
    mixed = [dict(s, outcome="timeout") for s in suites([])]
    mixed[0]["outcome"] = "rejected"
    assert verdict.judge_suites(DPS_POLICY, mixed) == []
    mixed = [dict(s, outcome="rejected") for s in suites([])]
    assert codes(verdict.judge_suites(DPS_POLICY, mixed)) == ["no_policy_suite_accepted"]
    groups = [{"name": "secp256r1", "common_name": "P-256", "accepted": False, "outcome": "connect_failed"},
              {"name": "secp384r1", "common_name": "P-384", "accepted": False, "outcome": "not_offered"}]
    assert verdict.judge_groups(groups) == []
    groups[1]["outcome"] = "rejected"
    found = verdict.judge_groups(groups)
    assert codes(found) == ["ecdhe_group_not_accepted"] and "P-384" in found[0]["message"]
    assert "P-256" not in found[0]["message"]


def test_unanswered_chain_is_no_proof():
    # the verifying handshake got no answer: no verdict on the chain, the root pin or the name
    result = dict(chain_result(error=(None, "the verifying handshake did not complete: refused"), root_sha256=None),
                  unanswered="refused")
    assert verdict.judge_certificates(DPS_POLICY, [cert()], result, ["BB"], NOW, True) == []
    result["unanswered"] = None
    assert codes(verdict.judge_certificates(DPS_POLICY, [cert()], result, ["BB"], NOW, True)) == ["chain_not_verified"]


def test_groups():
    both = [{"name": "secp256r1", "common_name": "P-256", "accepted": True},
            {"name": "secp384r1", "common_name": "P-384", "accepted": True}]
    assert verdict.judge_groups(both) == [] and verdict.judge_groups([]) == []
    both[0]["accepted"] = False
    found = verdict.judge_groups(both)
    assert codes(found) == ["ecdhe_group_not_accepted"] and "P-256" in found[0]["message"]


def cert(key_type="RSA", not_after="2027-01-01T00:00:00Z", subject="CN=dps.test"):
    return {"subject": subject, "not_after": not_after, "key_type": key_type}


def chain_result(error=None, root_sha256="AA", hostname_error=None):
    return {"error": error, "trust_store": "the system trust store", "root_sha256": root_sha256,
            "root_name": "CN=root", "hostname_error": hostname_error, "checked_name": "dps.test"}


@pytest.mark.parametrize("chain, result, expected_roots, expected", [
    ([cert()], chain_result(), [], []),
    ([cert()], chain_result(), ["AA"], []),
    ([cert()], chain_result(), ["BB"], ["unexpected_root"]),
    ([cert(key_type="EC")], chain_result(), [], ["rsa_certificate_required"]),
    ([cert(not_after="2026-05-01T00:00:00Z")], chain_result(error=(10, "certificate has expired")), [],
     ["certificate_expired", "chain_not_verified"]),
    ([cert(not_after="2026-06-11T00:00:00Z")], chain_result(), [], ["certificate_expiring"]),
    ([cert()], chain_result(error=(20, "unable to get local issuer certificate")), ["AA"], ["untrusted_root"]),
    ([cert()], chain_result(error=(19, "self-signed certificate in certificate chain")), [], ["untrusted_root"]),
    ([cert()], chain_result(hostname_error="Hostname mismatch"), [], ["hostname_mismatch"]),
    ([cert()], chain_result(root_sha256=None), ["AA"], ["unexpected_root"]),
    ([cert()], chain_result(root_sha256=None), [], []),
])
def test_certificates(chain, result, expected_roots, expected):
    assert codes(verdict.judge_certificates(DPS_POLICY, chain, result, expected_roots, NOW, True)) == expected


def test_without_cryptography_rsa_is_judged_from_the_suites():
    unparsed = [cert(key_type=None, not_after=None, subject=None)]
    assert codes(verdict.judge_certificates(DPS_POLICY, unparsed, chain_result(), [], NOW, True)) == [
        "certificate_not_inspected"]
    assert codes(verdict.judge_certificates(DPS_POLICY, unparsed, chain_result(), [], NOW, False)) == [
        "certificate_not_inspected", "rsa_certificate_required"]


def test_every_code_has_a_known_severity():
    assert set(verdict.FINDINGS.values()) <= {"error", "warning", "info"}
