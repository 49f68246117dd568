# Copyright: iotops.dps_tls contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The DPS policy table is the one in the DPS TLS article, code point for code point."""

from __future__ import annotations

from ansible_collections.iotops.dps_tls.plugins.module_utils._tls import policy

DPS_TABLE = [
    ("recommended", "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384", "ECDHE-RSA-AES256-GCM-SHA384", 0xC030),
    ("recommended", "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256", "ECDHE-RSA-AES128-GCM-SHA256", 0xC02F),
    ("recommended", "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA384", "ECDHE-RSA-AES256-SHA384", 0xC028),
    ("recommended", "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256", "ECDHE-RSA-AES128-SHA256", 0xC027),
    ("legacy", "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA", "ECDHE-RSA-AES256-SHA", 0xC014),
    ("legacy", "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA", "ECDHE-RSA-AES128-SHA", 0xC013),
    ("legacy", "TLS_RSA_WITH_AES_256_GCM_SHA384", "AES256-GCM-SHA384", 0x009D),
    ("legacy", "TLS_RSA_WITH_AES_128_GCM_SHA256", "AES128-GCM-SHA256", 0x009C),
    ("legacy", "TLS_RSA_WITH_AES_256_CBC_SHA256", "AES256-SHA256", 0x003D),
    ("legacy", "TLS_RSA_WITH_AES_128_CBC_SHA256", "AES128-SHA256", 0x003C),
    ("legacy", "TLS_RSA_WITH_AES_256_CBC_SHA", "AES256-SHA", 0x0035),
    ("legacy", "TLS_RSA_WITH_AES_128_CBC_SHA", "AES128-SHA", 0x002F),
]


def test_the_dps_policy_is_the_published_table():
    dps = policy.get_policy("dps")
    table = [(policy.classify(dps, s.code), s.iana_name, s.openssl_name, s.code) for s in policy.policy_suites(dps)]
    assert table == DPS_TABLE
    assert dps.allowed_protocols == ("TLSv1.2",)
    assert dps.certificate_key_type == "RSA"
    assert [(g.name, g.code) for g in dps.ecdhe_groups] == [("secp256r1", 23), ("secp384r1", 24)]


def test_every_policy_suite_authenticates_with_rsa():
    assert all(s.authentication == "RSA" for s in policy.policy_suites(policy.DPS_POLICY))


def test_controls_are_outside_the_policy_and_names_are_unique():
    assert all(policy.classify(policy.DPS_POLICY, s.code) == policy.NOT_IN_POLICY for s in policy.CONTROL_SUITES)
    everything = policy.policy_suites(policy.DPS_POLICY) + policy.CONTROL_SUITES + policy.TLS13_SUITES
    assert len(set(s.code for s in everything)) == len(everything)
    assert len(set(s.openssl_name for s in everything)) == len(everything)


def test_names_for_code_points():
    assert policy.known_suite(0x1302).iana_name == "TLS_AES_256_GCM_SHA384"
    assert policy.known_suite(0xFFFF) is None
    assert policy.group_name(24) == "secp384r1"
    assert policy.group_name(0x1234) == "group 0x1234"
    assert policy.group_name(None) is None


def test_every_tls_version_is_one_python_knows():
    import ssl
    assert policy.PROTOCOLS == tuple(policy.TLS_VERSIONS) == ("TLSv1", "TLSv1.1", "TLSv1.2", "TLSv1.3")
    assert [policy.tls_version(name) for name in policy.PROTOCOLS] == [
        ssl.TLSVersion.TLSv1, ssl.TLSVersion.TLSv1_1, ssl.TLSVersion.TLSv1_2, ssl.TLSVersion.TLSv1_3]
