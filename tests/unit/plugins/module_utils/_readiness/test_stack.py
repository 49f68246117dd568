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


RHEL_OPENSSL_CNF = """\
openssl_conf = openssl_init

[openssl_init]
providers = provider_sect
ssl_conf = ssl_module

[provider_sect]
default = default_sect

[default_sect]
activate = 1

[ssl_module]
system_default = crypto_policy

[crypto_policy]
.include = /etc/crypto-policies/back-ends/opensslcnf.config
"""
# What a crypto policy that offers no DPS suite writes (the layout of RHEL 9's back-ends).
NO_DPS_POLICY = """\
CipherString = @SECLEVEL=2:ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-CHACHA20-POLY1305
Ciphersuites = TLS_AES_256_GCM_SHA384
TLS.MinProtocol = TLSv1.2
TLS.MaxProtocol = TLSv1.3
"""


def write(root, path, text):
    target = root / path.lstrip("/")
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(text)
    return target


def rhel_device(tmp_path, policy=NO_DPS_POLICY):
    """A RHEL-like image: openssl.cnf includes the back-end, an absolute symlink into /usr/share (inside the image)."""
    write(tmp_path, "/etc/pki/tls/openssl.cnf", RHEL_OPENSSL_CNF)
    write(tmp_path, "/usr/share/crypto-policies/DEFAULT/opensslcnf.txt", policy)
    back_ends = tmp_path / "etc" / "crypto-policies" / "back-ends"
    back_ends.mkdir(parents=True)
    (back_ends / "opensslcnf.config").symlink_to("/usr/share/crypto-policies/DEFAULT/opensslcnf.txt")
    return str(tmp_path)


def test_a_red_hat_crypto_policy_is_followed_through_include(tmp_path):
    facts = stack.audit_stack(rhel_device(tmp_path))
    assert facts["tls_stack"]["openssl_config"] == "/etc/pki/tls/openssl.cnf"
    assert facts["tls_stack"]["cipher_string"].startswith("@SECLEVEL=2:ECDHE-ECDSA-AES256-GCM-SHA384")
    assert facts["tls_stack"]["min_protocol"] == "TLSv1.2"
    assert facts["tls12_capable"]
    assert facts["default_suites"] == []
    assert not facts["recommended_suite_available"]


def test_a_crypto_policy_that_allows_only_tls13(tmp_path):
    facts = stack.audit_stack(rhel_device(tmp_path, policy="TLS.MinProtocol = TLSv1.3\n"))
    assert not facts["tls12_capable"]
    assert facts["default_suites"] == []


def test_include_forms_relative_paths_and_directories(tmp_path):
    write(tmp_path, "/etc/ssl/openssl.cnf", "openssl_conf = init\n.pragma includedir:/etc/ssl\n"
                                            ".include conf.d   # a directory, relative to includedir\n"
                                            "[sys]\nCipherString = DEFAULT\n.include=/etc/ssl/last.cnf\n")
    write(tmp_path, "/etc/ssl/conf.d/10-init.cnf", "[init]\nssl_conf = ssl_sect\n")
    write(tmp_path, "/etc/ssl/conf.d/20-ssl.conf", "[ssl_sect]\nsystem_default = sys\n.include /etc/ssl/sub\n")
    write(tmp_path, "/etc/ssl/conf.d/30-ignored.txt", "[sys]\nMinProtocol = TLSv1.3\n")
    write(tmp_path, "/etc/ssl/conf.d/nested/x.cnf", "[sys]\nMinProtocol = TLSv1.3\n")
    # a directory named from a file found in a directory is not followed either
    write(tmp_path, "/etc/ssl/sub/y.cnf", "[sys]\nMinProtocol = TLSv1.3\n")
    write(tmp_path, "/etc/ssl/last.cnf", "MaxProtocol = TLSv1.2\n.include /etc/ssl/missing.cnf\n")
    path, settings = stack.find_openssl_config(str(tmp_path))
    assert path == "/etc/ssl/openssl.cnf"
    assert settings == {"CipherString": "DEFAULT", "MaxProtocol": "TLSv1.2"}


def test_abspath_pragma_refuses_relative_includes(tmp_path):
    write(tmp_path, "/etc/ssl/openssl.cnf", "openssl_conf = init\n.pragma = abspath:true\n.include rel.cnf\n")
    write(tmp_path, "/rel.cnf", "[init]\nssl_conf = s\n[s]\nsystem_default = d\n[d]\nCipherString = X\n")
    assert stack.find_openssl_config(str(tmp_path))[1] == {}
    write(tmp_path, "/etc/ssl/openssl.cnf", "openssl_conf = init\n.include rel.cnf\n")
    assert stack.find_openssl_config(str(tmp_path))[1] == {"CipherString": "X"}


def test_include_loops_and_deep_chains_end(tmp_path):
    write(tmp_path, "/etc/ssl/openssl.cnf", "openssl_conf = init\n.include /etc/ssl/a.cnf\n"
                                            "[init]\nssl_conf = s\n[s]\nsystem_default = d\n")
    write(tmp_path, "/etc/ssl/a.cnf", "[d]\nCipherString = A\n.include /etc/ssl/b.cnf\n")
    write(tmp_path, "/etc/ssl/b.cnf", ".include /etc/ssl/a.cnf\n.include /etc/ssl/openssl.cnf\n[d]\nMinProtocol = TLSv1.2\n")
    assert stack.find_openssl_config(str(tmp_path))[1] == {"CipherString": "A", "MinProtocol": "TLSv1.2"}
    for n in range(20):
        write(tmp_path, "/etc/ssl/chain/%d.cnf" % n, "[d]\nCipherString = C%d\n.include /etc/ssl/chain/%d.cnf\n" % (n, n + 1))
    write(tmp_path, "/etc/ssl/a.cnf", ".include /etc/ssl/chain/0.cnf\n")
    settings = stack.find_openssl_config(str(tmp_path))[1]
    assert settings["CipherString"] == "C%d" % (stack.MAX_INCLUDE_DEPTH - 2)


def test_symlinks_stay_inside_the_root(tmp_path):
    (tmp_path / "etc").mkdir()
    (tmp_path / "etc" / "loop").symlink_to("/etc/loop")
    with pytest.raises(OSError):
        open(stack.resolve_in_root(str(tmp_path), "/etc/loop"))
    (tmp_path / "etc" / "up").symlink_to("../../../../etc")
    assert stack.resolve_in_root(str(tmp_path), "/etc/up/x") == os.path.join(str(tmp_path), "etc", "x")
    # an include through a symlink loop is skipped, the rest of the config still counts
    write(tmp_path, "/etc/ssl/openssl.cnf", "openssl_conf = init\n.include /etc/loop/x.cnf\n.include /etc/loop\n"
                                            "[init]\nssl_conf = s\n[s]\nsystem_default = d\n[d]\nCipherString = A\n")
    assert stack.find_openssl_config(str(tmp_path)) == ("/etc/ssl/openssl.cnf", {"CipherString": "A"})


def test_a_fifo_include_is_skipped_and_never_waited_on(tmp_path):
    write(tmp_path, "/etc/ssl/openssl.cnf", "openssl_conf = init\n.include /etc/ssl/fifo.cnf\n"
                                            "[init]\nssl_conf = s\n[s]\nsystem_default = d\n[d]\nCipherString = A\n")
    os.mkfifo(str(tmp_path / "etc/ssl/fifo.cnf"))
    assert stack.find_openssl_config(str(tmp_path)) == ("/etc/ssl/openssl.cnf", {"CipherString": "A"})
