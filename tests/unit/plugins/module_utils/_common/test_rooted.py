# Copyright: iotops.dps_tls contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Paths under another root, resolved as the system at that root sees them."""

from __future__ import annotations

import errno
import os

import pytest

from ansible_collections.iotops.dps_tls.plugins.module_utils._common import rooted


@pytest.fixture
def image(tmp_path):
    """An image whose links point the way images' links do, next to a 'host' folder they must never reach."""
    host = tmp_path / "host"
    root = tmp_path / "image"
    (host / "etc/ssl/certs").mkdir(parents=True)
    (root / "usr/lib/ssl/certs").mkdir(parents=True)
    (root / "etc/ssl").mkdir(parents=True)
    # absolute: the image's own /usr/lib/ssl/certs, whatever this host has there
    (root / "etc/ssl/certs").symlink_to("/usr/lib/ssl/certs")
    # an absolute link naming the host folder's own path means that path inside the image
    (root / "etc/host").symlink_to(str(host))
    # '..' beyond the image's / stays at its /
    (root / "etc/up").symlink_to("../../../../../../usr")
    (root / "etc/loop").symlink_to("/etc/loop")
    return str(root), str(host)


def test_absolute_links_start_again_at_the_root(image):
    root, host = image
    assert rooted.resolve_in_root(root, "/etc/ssl/certs/ca.crt") == root + "/usr/lib/ssl/certs/ca.crt"
    assert rooted.resolve_in_root(root, "/etc/host/etc/ssl/certs") == root + host + "/etc/ssl/certs"
    assert rooted.resolve_in_root(root, "/etc/up/lib") == root + "/usr/lib"
    assert rooted.resolve_in_root(root, "/../../etc/ssl/certs/../../../..") == root


def test_a_link_loop_ends(image):
    root, dummy = image
    with pytest.raises(OSError) as failure:
        rooted.resolve_in_root(root, "/etc/loop/x")
    assert failure.value.errno == errno.ELOOP


def test_the_running_system_resolves_as_usual():
    assert rooted.resolve_in_root("/", "/etc/../etc") == os.path.realpath("/etc")


def test_folders_open_under_the_root_only(image):
    root, host = image
    with rooted.directory(root, "/etc/ssl/certs") as fd:
        os.close(os.open("made-here", os.O_WRONLY | os.O_CREAT, 0o644, dir_fd=fd))
    assert os.path.exists(root + "/usr/lib/ssl/certs/made-here")
    with rooted.directory(root, "/etc/host/etc/ssl/certs", create=True) as fd:
        os.close(os.open("made-here", os.O_WRONLY | os.O_CREAT, 0o644, dir_fd=fd))
    assert os.path.exists(root + host + "/etc/ssl/certs/made-here")
    assert os.listdir(host + "/etc/ssl/certs") == [], "the host's folder was written"


def test_a_link_swapped_in_after_resolution_is_not_followed(image, monkeypatch):
    root, host = image
    os.rename(root + "/usr/lib/ssl/certs", root + "/usr/lib/ssl/moved")
    os.symlink(host + "/etc/ssl/certs", root + "/usr/lib/ssl/certs")
    monkeypatch.setattr(rooted, "resolve_in_root", lambda r, p: root + "/usr/lib/ssl/certs")
    with pytest.raises(OSError) as failure:
        rooted.open_directory(root, "/etc/ssl/certs")
    assert failure.value.errno in (errno.ELOOP, errno.ENOTDIR)
