# Copyright: iotops.dps_tls contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The whole device audit on small image trees: input checks first, then the verdict."""

from __future__ import annotations

import os

import pytest

from ansible_collections.iotops.dps_tls.plugins.module_utils._common.errors import InvalidInputError
from ansible_collections.iotops.dps_tls.plugins.module_utils._readiness import audit
from ansible_collections.iotops.dps_tls.plugins.module_utils._trust.roots import BUILTIN_ROOTS
from ansible_collections.iotops.dps_tls.plugins.module_utils._x509 import certificate as x509_certificate
from ansible_collections.iotops.dps_tls.plugins.module_utils._x509 import openssl


def image(tmp_path, roots):
    (tmp_path / "etc").mkdir()
    (tmp_path / "etc" / "os-release").write_text("ID=debian\n")
    certs = tmp_path / "etc" / "ssl" / "certs"
    certs.mkdir(parents=True)
    (certs / "ca-certificates.crt").write_text("".join(BUILTIN_ROOTS[name].pem for name in roots))
    return str(tmp_path)


@pytest.mark.parametrize("kwargs, words", [
    ({"root": "relative"}, "root: must be an absolute path"),
    ({"required_roots": ["baltimore"]}, "required_roots: unknown builtin root baltimore"),
    ({"family": "windows"}, "family: must be auto or one of"),
    ({"endpoint": "https://dps.example"}, "endpoint: must be a host name"),
    ({"endpoint": "dps.example", "port": 70000}, "port: must be between 1 and 65535"),
    ({"timeout": 0}, "timeout: must be more than 0"),
    ({"timeout": 301}, "timeout: must be more than 0 and at most 300 seconds"),
    ({"endpoint": "a..b"}, "endpoint: must be a host name or IP address without empty labels"),
    ({"endpoint": ".dps.example"}, "endpoint: must be a host name or IP address without empty labels"),
    ({"endpoint": "dps example"}, "endpoint: must be a host name or IP address without spaces"),
    ({"endpoint": "dps.example", "server_name": "a..b"}, "server_name: must be a DNS name"),
])
def test_bad_input_names_the_option(tmp_path, kwargs, words):
    args = dict({"root": str(tmp_path)}, **kwargs)
    with pytest.raises(InvalidInputError) as caught:
        audit.audit_device(**args)
    assert caught.value.message.startswith(words)


def test_a_ca_file_that_is_no_pem_bundle_is_refused(tmp_path):
    garbage = tmp_path / "garbage.txt"
    garbage.write_text("not a certificate\n")
    with pytest.raises(InvalidInputError) as caught:
        audit.audit_device(root=image(tmp_path, BUILTIN_ROOTS), endpoint="localhost", ca_file=str(garbage))
    assert caught.value.option == "ca_file"
    assert caught.value.message.startswith("ca_file: %s holds no readable PEM certificate" % garbage)


def test_an_image_of_unknown_os_family_is_refused_before_reading(tmp_path, monkeypatch):
    def refuse(*dummy, **kwargs):
        raise AssertionError("the image was read before the input was refused")
    monkeypatch.setattr(audit, "audit_stack", refuse)
    with pytest.raises(InvalidInputError) as caught:
        audit.audit_device(root=str(tmp_path))
    assert caught.value.option == "family"
    assert "cannot tell the OS family of root %s" % tmp_path in caught.value.message
    assert "set family explicitly" in caught.value.message


def test_an_explicit_family_without_its_bundle_is_a_device_blocker(tmp_path):
    facts = audit.audit_device(root=str(tmp_path), family="debian")
    assert facts["trust_store"] == "%s/etc/ssl/certs/ca-certificates.crt" % tmp_path
    assert [b["check"] for b in facts["blockers"]] == ["roots"]
    assert "(trust store None)" not in facts["blockers"][0]["message"]


def test_ready_image(tmp_path):
    facts = audit.audit_device(root=image(tmp_path, BUILTIN_ROOTS))
    assert facts["ready"] and facts["blockers"] == []
    assert [c["name"] for c in facts["checks"]] == ["tls12", "suites", "roots", "sdks", "pinning"]
    assert facts["roots"] == dict.fromkeys(BUILTIN_ROOTS, True)
    assert "handshake" not in facts


def test_an_audit_without_pinned_files_parses_no_certificate(tmp_path, monkeypatch):
    """Every device pays for a parse: cryptography's import, or the openssl commands without it."""
    def refuse(*args):
        raise AssertionError("a certificate was parsed")
    monkeypatch.setattr(x509_certificate, "_cryptography", refuse)
    monkeypatch.setattr(x509_certificate, "HAS_CRYPTOGRAPHY", None)
    monkeypatch.setattr(openssl, "inspect", refuse)
    assert audit.audit_device(root=image(tmp_path, BUILTIN_ROOTS))["ready"]


def test_missing_roots_block_in_plain_words(tmp_path):
    facts = audit.audit_device(root=image(tmp_path, ["digicert_global_root_g2", "digicert_global_root_g3"]))
    assert not facts["ready"]
    assert facts["blockers"] == [{"check": "roots", "message": "does not trust microsoft_rsa_root_ca_2017 "
                                  "(trust store %s/etc/ssl/certs/ca-certificates.crt)" % tmp_path}]
    assert facts["roots"]["microsoft_ecc_root_ca_2017"] is False


def test_required_roots_are_the_users_choice(tmp_path):
    facts = audit.audit_device(root=image(tmp_path, ["digicert_global_root_g2"]),
                               required_roots=["digicert_global_root_g2"])
    assert facts["ready"]


def test_unresolvable_endpoint_is_a_blocker(tmp_path):
    facts = audit.audit_device(root=image(tmp_path, BUILTIN_ROOTS), endpoint="name.invalid", timeout=2)
    assert not facts["handshake"]["ok"]
    assert [b["check"] for b in facts["blockers"]] == ["handshake"]


def test_a_red_hat_crypto_policy_without_dps_suites_blocks(tmp_path):
    root = image(tmp_path, BUILTIN_ROOTS)
    pki = tmp_path / "etc" / "pki" / "tls"
    pki.mkdir(parents=True)
    (pki / "openssl.cnf").write_text("openssl_conf = openssl_init\n[openssl_init]\nssl_conf = ssl_module\n"
                                     "[ssl_module]\nsystem_default = crypto_policy\n[crypto_policy]\n"
                                     ".include = /etc/crypto-policies/back-ends/opensslcnf.config\n")
    back_ends = tmp_path / "etc" / "crypto-policies" / "back-ends"
    back_ends.mkdir(parents=True)
    (back_ends / "opensslcnf.config").write_text("CipherString = ECDHE-ECDSA-AES256-GCM-SHA384\n"
                                                 "TLS.MinProtocol = TLSv1.2\n")
    facts = audit.audit_device(root=root, openssl_config="/etc/pki/tls/openssl.cnf")
    assert not facts["ready"]
    assert [b["check"] for b in facts["blockers"]] == ["suites"]
    assert "ECDHE-ECDSA-AES256-GCM-SHA384" in facts["blockers"][0]["message"]


def test_an_images_absolute_link_to_its_store_is_read_inside_the_image(tmp_path):
    """etc/ssl/certs -> /usr/lib/ssl/certs is the image's own folder. Before, the audit followed the link on this
    host and reported this host's bundle as the device's."""
    host = tmp_path / "host"
    (host / "certs").mkdir(parents=True)
    (host / "certs/ca-certificates.crt").write_text("".join(root.pem for root in BUILTIN_ROOTS.values()))
    device = tmp_path / "device"
    (device / "etc/ssl").mkdir(parents=True)
    (device / "etc/os-release").write_text("ID=debian\n")
    inside = device / str(host / "certs").lstrip("/")
    inside.mkdir(parents=True)
    (inside / "ca-certificates.crt").write_text(BUILTIN_ROOTS["digicert_global_root_g2"].pem)
    (device / "etc/ssl/certs").symlink_to(str(host / "certs"))
    facts = audit.audit_device(root=str(device))
    assert facts["trust_store"] == str(inside / "ca-certificates.crt")
    assert facts["roots"]["digicert_global_root_g2"] and not facts["roots"]["microsoft_rsa_root_ca_2017"]


def test_a_fifo_or_a_huge_file_is_refused_by_name(tmp_path):
    (tmp_path / "image").mkdir()
    root = image(tmp_path / "image", BUILTIN_ROOTS)
    fifo = tmp_path / "pipe"
    os.mkfifo(str(fifo))
    huge = tmp_path / "huge.pem"
    with open(str(huge), "wb") as handle:
        handle.truncate(1024 ** 3)
    os.mkfifo(os.path.join(root, "etc/pinned.pem"))
    for kwargs, option, words in (
            ({"ca_file": str(fifo), "endpoint": "localhost"}, "ca_file", "is a FIFO"),
            ({"ca_file": str(huge), "endpoint": "localhost"}, "ca_file", "1073741824 bytes"),
            ({"pinning_paths": ["/etc/pinned.pem"]}, "pinning_paths", "is a FIFO"),
            ({"openssl_config": "/etc/pinned.pem"}, "openssl_config", "is a FIFO")):
        with pytest.raises(InvalidInputError) as caught:
            audit.audit_device(root=root, **kwargs)
        assert caught.value.option == option and words in caught.value.message


def test_a_fifo_bundle_in_the_image_is_refused_not_waited_on(tmp_path):
    root = image(tmp_path, [])
    os.unlink(os.path.join(root, "etc/ssl/certs/ca-certificates.crt"))
    os.mkfifo(os.path.join(root, "etc/ssl/certs/ca-certificates.crt"))
    with pytest.raises(InvalidInputError, match="is a FIFO"):
        audit.audit_device(root=root)
