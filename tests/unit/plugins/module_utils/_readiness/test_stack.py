# Copyright: iotops.dps_tls contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The TLS stack audit: the device's OpenSSL config decides what its apps offer by default."""

from __future__ import annotations

import os

import pytest

from ansible_collections.iotops.dps_tls.plugins.module_utils._common.errors import InvalidInputError
from ansible_collections.iotops.dps_tls.plugins.module_utils._readiness import stack

CONFIG = """\
# comment
openssl_conf = init   # trailing comment
HOME = .

[init]
ssl_conf = ssl_sect
.include /etc/ssl/more.d

[ssl_sect]
system_default = sys

[sys]
MinProtocol = {min}
CipherString = {ciphers}
"""


def device(tmp_path, ciphers="DEFAULT@SECLEVEL=2", minimum="TLSv1.2", path="etc/ssl/openssl.cnf"):
    target = tmp_path / path
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(CONFIG.format(min=minimum, ciphers=ciphers))
    return str(tmp_path)


def test_system_default_follows_the_chain_of_sections():
    settings = stack.system_default(stack.parse_openssl_config(CONFIG.format(min="TLSv1.3", ciphers="X")))
    assert settings == {"MinProtocol": "TLSv1.3", "CipherString": "X"}


def test_a_config_without_ssl_settings_sets_nothing():
    assert stack.system_default(stack.parse_openssl_config("[req]\ndefault_bits = 2048\n")) == {}


def test_an_image_without_a_config_gets_openssl_defaults(tmp_path):
    facts = stack.audit_stack(str(tmp_path))
    assert facts["tls_stack"]["openssl_config"] is None
    assert facts["tls12_capable"]
    assert facts["recommended_suite_available"]
    assert len(facts["default_suites"]) == 12


def test_only_suites_outside_the_policy(tmp_path):
    root = device(tmp_path, ciphers="ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-CHACHA20-POLY1305")
    facts = stack.audit_stack(root)
    assert facts["tls_stack"]["openssl_config"] == "/etc/ssl/openssl.cnf"
    assert facts["default_suites"] == []
    assert not facts["recommended_suite_available"]
    assert len(facts["offerable_suites"]) == 12
    assert not any(s["default"] for s in facts["offerable_suites"])


def test_legacy_only_has_no_recommended_suite(tmp_path):
    facts = stack.audit_stack(device(tmp_path, ciphers="AES128-SHA:AES256-SHA:@SECLEVEL=0"))
    assert facts["default_suites"] == ["TLS_RSA_WITH_AES_256_CBC_SHA", "TLS_RSA_WITH_AES_128_CBC_SHA"]
    assert not facts["recommended_suite_available"]


def test_tls13_only_is_not_tls12_capable(tmp_path):
    facts = stack.audit_stack(device(tmp_path, minimum="TLSv1.3"))
    assert not facts["tls12_capable"]
    assert facts["default_suites"] == []


def test_a_cipher_string_openssl_rejects(tmp_path):
    facts = stack.audit_stack(device(tmp_path, ciphers="NOT-A-SUITE"))
    assert not facts["tls_stack"]["cipher_string_valid"]
    assert facts["default_suites"] == []


def test_red_hat_config_location_and_explicit_path(tmp_path):
    root = device(tmp_path, ciphers="AES128-SHA", path="etc/pki/tls/openssl.cnf")
    assert stack.audit_stack(root)["tls_stack"]["openssl_config"] == "/etc/pki/tls/openssl.cnf"
    with pytest.raises(InvalidInputError) as caught:
        stack.audit_stack(root, openssl_config="/etc/other.cnf")
    assert caught.value.message.startswith("openssl_config: cannot read /etc/other.cnf")


def test_other_tls_libraries_are_named(tmp_path):
    libs = tmp_path / "usr" / "lib" / "arm-linux-gnueabihf"
    libs.mkdir(parents=True)
    (libs / "libmbedtls.so.14").write_text("")
    assert stack.other_libraries(str(tmp_path)) == ["libmbedtls"]
    assert os.path.isdir(str(libs))
