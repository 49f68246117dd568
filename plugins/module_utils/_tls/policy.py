# Copyright: iotops.dps_tls contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The TLS policies an endpoint is judged against, and the suites a probe knows by name.

This is the one place the DPS policy lives: tls_probe, tls_readiness and the emulator's device endpoint
all read it from here. The emulator loads this file by path, so it imports nothing but the standard library.
"""

from __future__ import annotations

import ssl
from collections import namedtuple

# The TLS versions a probe knows, as the user names them, with the name of each in Python's ssl.TLSVersion.
TLS_VERSIONS = {
    "TLSv1": "TLSv1",
    "TLSv1.1": "TLSv1_1",
    "TLSv1.2": "TLSv1_2",
    "TLSv1.3": "TLSv1_3",
}
PROTOCOLS = tuple(TLS_VERSIONS)

RECOMMENDED = "recommended"
LEGACY = "legacy"
NOT_IN_POLICY = "not_in_policy"

# key_exchange and authentication say which server key and which ECDHE groups a suite needs.
Suite = namedtuple("Suite", ["iana_name", "openssl_name", "code", "key_exchange", "authentication"])

# An ECDHE named group: IANA name, the name OpenSSL takes, the common name, the code point (RFC 8446 4.2.7).
Group = namedtuple("Group", ["name", "openssl_name", "common_name", "code"])
P256 = Group("secp256r1", "prime256v1", "P-256", 23)
P384 = Group("secp384r1", "secp384r1", "P-384", 24)

Policy = namedtuple("Policy", [
    "name",
    "description",
    "allowed_protocols",   # protocols the endpoint must accept and nothing else
    "recommended_suites",  # Suite tuples, in the order the service prefers them
    "legacy_suites",
    "certificate_key_type",  # the server certificate's key type
    "ecdhe_groups",        # Group tuples a client should offer and the endpoint should accept
])

DPS_RECOMMENDED_SUITES = (
    Suite("TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384", "ECDHE-RSA-AES256-GCM-SHA384", 0xC030, "ECDHE", "RSA"),
    Suite("TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256", "ECDHE-RSA-AES128-GCM-SHA256", 0xC02F, "ECDHE", "RSA"),
    Suite("TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA384", "ECDHE-RSA-AES256-SHA384", 0xC028, "ECDHE", "RSA"),
    Suite("TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256", "ECDHE-RSA-AES128-SHA256", 0xC027, "ECDHE", "RSA"),
)

# Microsoft still lists 0xC014/0xC013 as ..._SHA_P384/_P256: the curve really comes from supported_groups.
DPS_LEGACY_SUITES = (
    Suite("TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA", "ECDHE-RSA-AES256-SHA", 0xC014, "ECDHE", "RSA"),
    Suite("TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA", "ECDHE-RSA-AES128-SHA", 0xC013, "ECDHE", "RSA"),
    Suite("TLS_RSA_WITH_AES_256_GCM_SHA384", "AES256-GCM-SHA384", 0x009D, "RSA", "RSA"),
    Suite("TLS_RSA_WITH_AES_128_GCM_SHA256", "AES128-GCM-SHA256", 0x009C, "RSA", "RSA"),
    Suite("TLS_RSA_WITH_AES_256_CBC_SHA256", "AES256-SHA256", 0x003D, "RSA", "RSA"),
    Suite("TLS_RSA_WITH_AES_128_CBC_SHA256", "AES128-SHA256", 0x003C, "RSA", "RSA"),
    Suite("TLS_RSA_WITH_AES_256_CBC_SHA", "AES256-SHA", 0x0035, "RSA", "RSA"),
    Suite("TLS_RSA_WITH_AES_128_CBC_SHA", "AES128-SHA", 0x002F, "RSA", "RSA"),
)

DPS_POLICY = Policy(
    name="dps",
    description="Azure IoT Hub Device Provisioning Service: TLS 1.2 only, RSA server certificate, 12 suites",
    allowed_protocols=("TLSv1.2",),
    recommended_suites=DPS_RECOMMENDED_SUITES,
    legacy_suites=DPS_LEGACY_SUITES,
    certificate_key_type="RSA",
    ecdhe_groups=(P256, P384),
)

POLICIES = {"dps": DPS_POLICY}

# Suites outside every policy that a common server might still accept: a probe offers them as controls, so an
# endpoint that accepts more than the policy is caught, and one that rejects them proves rejections are seen.
CONTROL_SUITES = (
    Suite("TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256", "ECDHE-RSA-CHACHA20-POLY1305", 0xCCA8, "ECDHE", "RSA"),
    Suite("TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384", "ECDHE-ECDSA-AES256-GCM-SHA384", 0xC02C, "ECDHE", "ECDSA"),
    Suite("TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256", "ECDHE-ECDSA-AES128-GCM-SHA256", 0xC02B, "ECDHE", "ECDSA"),
    Suite("TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA", "ECDHE-ECDSA-AES128-SHA", 0xC009, "ECDHE", "ECDSA"),
    Suite("TLS_DHE_RSA_WITH_AES_256_GCM_SHA384", "DHE-RSA-AES256-GCM-SHA384", 0x009F, "DHE", "RSA"),
    Suite("TLS_DHE_RSA_WITH_AES_128_GCM_SHA256", "DHE-RSA-AES128-GCM-SHA256", 0x009E, "DHE", "RSA"),
    Suite("TLS_RSA_WITH_3DES_EDE_CBC_SHA", "DES-CBC3-SHA", 0x000A, "RSA", "RSA"),
)

# TLS 1.3 suites cannot be offered one by one through Python's ssl; they are named when a server picks one.
TLS13_SUITES = (
    Suite("TLS_AES_256_GCM_SHA384", "TLS_AES_256_GCM_SHA384", 0x1302, "TLS13", "any"),
    Suite("TLS_AES_128_GCM_SHA256", "TLS_AES_128_GCM_SHA256", 0x1301, "TLS13", "any"),
    Suite("TLS_CHACHA20_POLY1305_SHA256", "TLS_CHACHA20_POLY1305_SHA256", 0x1303, "TLS13", "any"),
)

# Named groups by code point (RFC 8446 4.2.7), as (IANA name, common name).
GROUPS = {
    23: ("secp256r1", "P-256"),
    24: ("secp384r1", "P-384"),
    25: ("secp521r1", "P-521"),
    29: ("x25519", "X25519"),
    30: ("x448", "X448"),
}


def tls_version(name):
    """ssl.TLSVersion for 'TLSv1.2'; KeyError for a name outside TLS_VERSIONS."""
    return getattr(ssl.TLSVersion, TLS_VERSIONS[name])


def get_policy(name):
    return POLICIES[name]


def policy_suites(policy):
    return policy.recommended_suites + policy.legacy_suites


def classify(policy, code):
    """recommended, legacy or not_in_policy for a suite code point."""
    if any(s.code == code for s in policy.recommended_suites):
        return RECOMMENDED
    if any(s.code == code for s in policy.legacy_suites):
        return LEGACY
    return NOT_IN_POLICY


KNOWN_SUITES = DPS_RECOMMENDED_SUITES + DPS_LEGACY_SUITES + CONTROL_SUITES + TLS13_SUITES


def known_suite(code):
    """The Suite with this code point among everything a probe knows, or None."""
    for suite in KNOWN_SUITES:
        if suite.code == code:
            return suite
    return None


def known_suite_by_name(openssl_name):
    for suite in KNOWN_SUITES:
        if suite.openssl_name == openssl_name:
            return suite
    return None


def group_name(code):
    """'secp384r1' for 24; 'group 0x1234' for a group this table does not know."""
    if code is None:
        return None
    known = GROUPS.get(code)
    return known[0] if known else "group 0x%04X" % code
