# Copyright: iotops.dps_tls contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Dropping hash links without ever leaving a gap OpenSSL's -CApath lookup would stop at."""

from __future__ import annotations

import os

from ansible_collections.iotops.dps_tls.plugins.module_utils._trust.links import (
    dangling_own_links, drop_links, pem_link_name)


def links(folder):
    return {name: os.readlink(os.path.join(folder, name)) for name in sorted(os.listdir(folder))}


def make(folder, mapping):
    for name, target in mapping.items():
        os.symlink(target, os.path.join(folder, name))


def test_a_dropped_link_is_filled_by_the_last_of_its_hash(tmp_path):
    make(str(tmp_path), {"aaaaaaaa.0": "a.pem", "aaaaaaaa.1": "gone.pem", "aaaaaaaa.2": "b.pem", "aaaaaaaa.3": "c.pem",
                         "bbbbbbbb.0": "gone.pem", "bbbbbbbb.1": "d.pem", "cccccccc.r0": "gone.pem",
                         "gone.pem": "/nowhere/gone.crt", "a.pem": "a.crt"})
    fd = os.open(str(tmp_path), os.O_RDONLY)
    try:
        drop_links(fd, ["gone.pem"])
    finally:
        os.close(fd)
    assert links(str(tmp_path)) == {"a.pem": "a.crt", "aaaaaaaa.0": "a.pem", "aaaaaaaa.1": "c.pem",
                                    "aaaaaaaa.2": "b.pem", "bbbbbbbb.0": "d.pem"}


def test_only_names_that_are_wholly_a_hash_link_count_as_one(tmp_path):
    # "aaaaaaaa.1\n" is not a hash link: with a pattern ending in $ it would be renumbered into the gap
    make(str(tmp_path), {"aaaaaaaa.0": "gone.pem", "aaaaaaaa.1\n": "mine.pem", "aaaaaaaa.1.bak": "old.pem"})
    fd = os.open(str(tmp_path), os.O_RDONLY)
    try:
        drop_links(fd, ["gone.pem"])
    finally:
        os.close(fd)
    assert links(str(tmp_path)) == {"aaaaaaaa.1\n": "mine.pem", "aaaaaaaa.1.bak": "old.pem"}


def test_several_links_of_one_hash_go_together(tmp_path):
    make(str(tmp_path), {"aaaaaaaa.0": "x.pem", "aaaaaaaa.1": "keep.pem", "aaaaaaaa.2": "y.pem"})
    fd = os.open(str(tmp_path), os.O_RDONLY)
    try:
        drop_links(fd, ["x.pem", "y.pem"])
    finally:
        os.close(fd)
    assert links(str(tmp_path)) == {"aaaaaaaa.0": "keep.pem"}


def test_dangling_own_links_are_found_under_the_root(tmp_path):
    certs = tmp_path / "etc/ssl/certs"
    anchors = tmp_path / "usr/local/share/ca-certificates"
    certs.mkdir(parents=True)
    anchors.mkdir(parents=True)
    (anchors / "iotops-dps_tls-here.crt").write_text("x")
    make(str(certs), {"iotops-dps_tls-here.pem": "../../../usr/local/share/ca-certificates/iotops-dps_tls-here.crt",
                      "iotops-dps_tls-gone.pem": "../../../usr/local/share/ca-certificates/iotops-dps_tls-gone.crt",
                      "11111111.0": "iotops-dps_tls-here.pem", "22222222.0": "iotops-dps_tls-gone.pem",
                      "33333333.0": "iotops-dps_tls-lost.pem", "44444444.0": "vendor.pem"})
    fd = os.open(str(certs), os.O_RDONLY)
    try:
        found = dangling_own_links(str(tmp_path), "/etc/ssl/certs", fd, "iotops-dps_tls-")
    finally:
        os.close(fd)
    assert found == {"iotops-dps_tls-gone.pem", "iotops-dps_tls-lost.pem"}
    assert pem_link_name("iotops-dps_tls-x.crt") == "iotops-dps_tls-x.pem"
