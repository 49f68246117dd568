# Copyright: iotops.dps_tls contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Chain entries: names, fingerprints, key types, builtin roots."""

from __future__ import annotations

import datetime
import ssl

from ansible_collections.iotops.dps_tls.plugins.module_utils._tls import chain
from ansible_collections.iotops.dps_tls.plugins.module_utils._trust.roots import BUILTIN_ROOTS


def test_a_builtin_root_is_named():
    der = ssl.PEM_cert_to_DER_cert(BUILTIN_ROOTS["digicert_global_root_g2"].pem)
    entry = chain.describe(der, sent_by_server=False)
    assert entry["builtin_root"] == "digicert_global_root_g2"
    assert entry["sha256"] == BUILTIN_ROOTS["digicert_global_root_g2"].sha256
    assert entry["subject"] == "CN=DigiCert Global Root G2,OU=www.digicert.com,O=DigiCert Inc,C=US"
    assert (entry["key_type"], entry["key_bits"], entry["key_curve"]) == ("RSA", 2048, None)
    assert entry["not_after"] == "2038-01-15T12:00:00Z"
    assert entry["sent_by_server"] is False


def test_an_ecdsa_leaf(pki):
    entry = chain.describe(pki["ecdsa_der"])
    assert (entry["key_type"], entry["key_bits"], entry["key_curve"]) == ("EC", 384, "secp384r1")
    assert entry["subject_alt_names"] == ["dps.test", "127.0.0.1"]
    assert entry["builtin_root"] is None


def test_the_verified_chain_wins_and_marks_what_the_server_sent(pki):
    entries = chain.describe_chain([pki["rsa_der"], pki["root_der"]], [pki["rsa_der"]])
    assert [c["sent_by_server"] for c in entries] == [True, False]
    assert [c["subject"] for c in chain.describe_chain([], [pki["rsa_der"]])] == ["CN=dps.test"]


def test_expected_roots_by_name_or_fingerprint():
    pin = BUILTIN_ROOTS["microsoft_rsa_root_ca_2017"].sha256
    assert chain.root_fingerprint("microsoft_rsa_root_ca_2017") == pin
    assert chain.root_fingerprint(pin.replace(":", "").lower()) == pin
    assert chain.root_fingerprint("baltimore_cybertrust_root") is None


def test_days_left():
    now = datetime.datetime(2026, 1, 1, tzinfo=datetime.timezone.utc)
    assert chain.days_left("2026-01-11T00:00:00Z", now) == 10
    assert chain.days_left("2025-12-31T00:00:00Z", now) == -1
