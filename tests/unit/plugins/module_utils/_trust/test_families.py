# Copyright: iotops.dps_tls contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Paths and commands of each OS family, and how the family of a system is told."""

from __future__ import annotations

import pytest

from ansible_collections.iotops.dps_tls.plugins.module_utils._common.errors import DpsTlsError
from ansible_collections.iotops.dps_tls.plugins.module_utils._trust.families import (
    FAMILIES, detect_family, in_root, update_command)


@pytest.mark.parametrize("family, anchor_dir, suffix, bundle, argv, fresh_argv", [
    ("debian", "/usr/local/share/ca-certificates", ".crt", "/etc/ssl/certs/ca-certificates.crt",
     ["/usr/sbin/update-ca-certificates"], ["/usr/sbin/update-ca-certificates"]),
    ("redhat", "/etc/pki/ca-trust/source/anchors", ".pem", "/etc/pki/ca-trust/extracted/pem/tls-ca-bundle.pem",
     ["/usr/bin/update-ca-trust", "extract"], ["/usr/bin/update-ca-trust", "extract"]),
    ("suse", "/etc/pki/trust/anchors", ".pem", "/var/lib/ca-certificates/ca-bundle.pem",
     ["/usr/sbin/update-ca-certificates"], ["/usr/sbin/update-ca-certificates", "--fresh"]),
    ("alpine", "/usr/local/share/ca-certificates", ".crt", "/etc/ssl/certs/ca-certificates.crt",
     ["/usr/sbin/update-ca-certificates"], ["/usr/sbin/update-ca-certificates"]),
    ("arch", "/etc/ca-certificates/trust-source/anchors", ".crt", "/etc/ca-certificates/extracted/tls-ca-bundle.pem",
     ["/usr/bin/update-ca-trust", "extract"], ["/usr/bin/update-ca-trust", "extract"]),
])
def test_each_family_has_its_own_paths_and_command(family, anchor_dir, suffix, bundle, argv, fresh_argv):
    spec = FAMILIES[family]
    assert (spec.anchor_dir, spec.suffix, spec.bundle) == (anchor_dir, suffix, bundle)
    assert update_command(spec, argv[0], "/", fresh=False) == argv
    assert update_command(spec, argv[0], "/", fresh=True) == fresh_argv


def test_debian_on_another_root_uses_relative_certificate_folders():
    argv = update_command(FAMILIES["debian"], "/usr/sbin/update-ca-certificates", "/img", fresh=True)
    assert argv == [
        "/usr/sbin/update-ca-certificates",
        "--certsconf", "/img/etc/ca-certificates.conf",
        "--certsdir", "../../../usr/share/ca-certificates",
        "--localcertsdir", "../../../usr/local/share/ca-certificates",
        "--etccertsdir", "/img/etc/ssl/certs",
        "--hooksdir", "/img/nonexistent/ca-certificates-hooks",
    ]


def test_debian_on_another_root_follows_the_images_links_inside_the_image(tmp_path):
    """An image whose etc/ssl/certs is an absolute link to /etc/ssl/certs means its own folder: the tool must be
    given that folder under the root, never this host's."""
    (tmp_path / "usr/lib/ssl/certs").mkdir(parents=True)
    (tmp_path / "etc/ssl").mkdir(parents=True)
    (tmp_path / "etc/ssl/certs").symlink_to("/usr/lib/ssl/certs")
    (tmp_path / "etc/ca-certificates.conf").symlink_to("/../../etc/ca-certificates.conf.real")
    root = str(tmp_path)
    argv = update_command(FAMILIES["debian"], "/usr/sbin/update-ca-certificates", root, fresh=False)
    options = dict(zip(argv[1::2], argv[2::2]))
    assert options["--etccertsdir"] == root + "/usr/lib/ssl/certs"
    assert options["--certsconf"] == root + "/etc/ca-certificates.conf.real"
    assert options["--certsdir"] == "../../../share/ca-certificates"
    assert options["--hooksdir"].startswith(root + "/")


@pytest.mark.parametrize("family", ["redhat", "suse", "alpine", "arch"])
def test_other_families_refuse_another_root(family):
    with pytest.raises(DpsTlsError, match="only for the debian family"):
        update_command(FAMILIES[family], "/tool", "/img", fresh=False)


def test_in_root():
    assert in_root("/", "/etc/ssl") == "/etc/ssl"
    assert in_root("/img", "/etc/ssl") == "/img/etc/ssl"


@pytest.mark.parametrize("os_release, family", [
    ('ID=debian\n', "debian"),
    ('ID=ubuntu\nID_LIKE=debian\n', "debian"),
    ('ID=raspbian\nID_LIKE=debian\n', "debian"),
    ('ID="rhel"\nID_LIKE="fedora"\n', "redhat"),
    ('ID="centos"\n', "redhat"),
    ('ID=fedora\n', "redhat"),
    ('ID="amzn"\nID_LIKE="centos rhel fedora"\n', "redhat"),
    ('ID="rocky"\nID_LIKE="rhel centos fedora"\n', "redhat"),
    ('ID="almalinux"\n', "redhat"),
    ('ID="opensuse-leap"\nID_LIKE="suse opensuse"\n', "suse"),
    ('ID="sles"\n', "suse"),
    ('ID=alpine\n', "alpine"),
    ('ID=arch\n', "arch"),
    ('ID=myboard\nID_LIKE=debian\n', "debian"),
])
def test_family_from_os_release(tmp_path, os_release, family):
    (tmp_path / "etc").mkdir()
    (tmp_path / "etc/os-release").write_text("# a comment\n" + os_release)
    assert detect_family(str(tmp_path)) == family


@pytest.mark.parametrize("layout, family", [
    ("etc/pki/ca-trust/source", "redhat"),
    ("etc/pki/trust", "suse"),
    ("etc/ca-certificates/trust-source", "arch"),
    ("usr/share/ca-certificates", "debian"),
])
def test_family_from_layout_when_os_release_is_unknown(tmp_path, layout, family):
    # a Yocto image: os-release names the distro, not what it is like
    (tmp_path / "usr/lib").mkdir(parents=True)
    (tmp_path / "usr/lib/os-release").write_text("ID=poky\n")
    (tmp_path / layout).mkdir(parents=True)
    assert detect_family(str(tmp_path)) == family


def test_unknown_system_asks_for_a_family(tmp_path):
    with pytest.raises(DpsTlsError, match="set family explicitly"):
        detect_family(str(tmp_path))
