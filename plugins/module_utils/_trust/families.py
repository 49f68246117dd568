# Copyright: iotops.dps_tls contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Where each OS family keeps its trust anchors, what it calls its bundle, and how it rebuilds it."""

from __future__ import annotations

import os
from collections import namedtuple

from ansible_collections.iotops.dps_tls.plugins.module_utils._common.errors import DpsTlsError, InvalidInputError
from ansible_collections.iotops.dps_tls.plugins.module_utils._common.files import CONFIG_MAX_BYTES, read_regular_file
from ansible_collections.iotops.dps_tls.plugins.module_utils._common.rooted import resolve_in_root

# anchor_dir: where local anchors go; suffix: the only file ending the tool reads (Debian ignores .pem);
# bundle: the PEM bundle the tool writes; tool: its command; fresh: extra argument that drops stale links;
# store_dirs: folders of which a system with this trust store has at least one; links_dir: the hash-link folder
# this collection keeps itself (Debian's tool only clears stale links with --fresh, which empties the folder
# first: a run killed then leaves links that verify nothing).
Family = namedtuple("Family", ["name", "anchor_dir", "suffix", "bundle", "tool", "update_args", "fresh_args",
                               "store_dirs", "links_dir"])

FAMILIES = {
    "debian": Family("debian", "/usr/local/share/ca-certificates", ".crt", "/etc/ssl/certs/ca-certificates.crt",
                     "update-ca-certificates", (), (),
                     ("/etc/ssl/certs", "/usr/share/ca-certificates", "/usr/local/share/ca-certificates"),
                     "/etc/ssl/certs"),
    "redhat": Family("redhat", "/etc/pki/ca-trust/source/anchors", ".pem",
                     "/etc/pki/ca-trust/extracted/pem/tls-ca-bundle.pem", "update-ca-trust", ("extract",), (),
                     ("/etc/pki/ca-trust",), None),
    "suse": Family("suse", "/etc/pki/trust/anchors", ".pem", "/var/lib/ca-certificates/ca-bundle.pem",
                   "update-ca-certificates", (), ("--fresh",), ("/etc/pki/trust", "/var/lib/ca-certificates"), None),
    "alpine": Family("alpine", "/usr/local/share/ca-certificates", ".crt", "/etc/ssl/certs/ca-certificates.crt",
                     "update-ca-certificates", (), (),
                     ("/etc/ssl/certs", "/usr/share/ca-certificates", "/usr/local/share/ca-certificates"), None),
    "arch": Family("arch", "/etc/ca-certificates/trust-source/anchors", ".crt",
                   "/etc/ca-certificates/extracted/tls-ca-bundle.pem", "update-ca-trust", ("extract",), (),
                   ("/etc/ca-certificates",), None),
}

# os-release ID / ID_LIKE words -> family. Yocto images name themselves freely, so layout decides there.
OS_IDS = {
    "debian": "debian", "ubuntu": "debian", "raspbian": "debian", "linuxmint": "debian", "pop": "debian",
    "rhel": "redhat", "centos": "redhat", "fedora": "redhat", "amzn": "redhat", "rocky": "redhat",
    "almalinux": "redhat", "ol": "redhat", "azurelinux": "redhat", "mariner": "redhat",
    "suse": "suse", "opensuse": "suse", "sles": "suse", "sle-micro": "suse", "opensuse-leap": "suse",
    "opensuse-tumbleweed": "suse", "alpine": "alpine", "arch": "arch", "manjaro": "arch", "endeavouros": "arch",
}

# Layout clues, most specific first, for images whose os-release says nothing we know (Yocto, buildroot).
LAYOUT_CLUES = (
    ("/etc/pki/ca-trust/source", "redhat"),
    ("/etc/pki/trust", "suse"),
    ("/etc/ca-certificates/trust-source", "arch"),
    ("/etc/ca-certificates.conf", "debian"),
    ("/usr/share/ca-certificates", "debian"),
    ("/usr/local/share/ca-certificates", "debian"),
)

LOCK_NAME = ".iotops-dps_tls.lock"


def in_root(root, path):
    """path inside the root filesystem root (root '/' is the running system), as shown to the user; reads and
    writes go through rooted.resolve_in_root, which follows the image's links inside the image."""
    return os.path.join(root, path.lstrip("/")) if root != "/" else path


def read_os_release(root):
    for candidate in ("/etc/os-release", "/usr/lib/os-release"):
        try:
            data = read_regular_file("root", resolve_in_root(root, candidate), max_bytes=CONFIG_MAX_BYTES,
                                     missing_ok=True)
        except (InvalidInputError, OSError):
            continue
        if data is None:
            continue
        lines = data.decode("utf-8", "replace").splitlines()
        values = {}
        for line in lines:
            if "=" in line and not line.startswith("#"):
                key, value = line.split("=", 1)
                values[key.strip()] = value.strip().strip("\"'")
        return values
    return {}


def detect_family(root):
    """The family of the system at root, from os-release, else from its trust-store layout."""
    release = read_os_release(root)
    words = [release.get("ID", "")] + release.get("ID_LIKE", "").split()
    for word in words:
        if word.lower() in OS_IDS:
            return OS_IDS[word.lower()]
    for path, family in LAYOUT_CLUES:
        if _exists(root, path):
            return family
    raise DpsTlsError("Could not tell the OS family of %s (os-release ID %r, no known trust-store layout); "
                      "set family explicitly" % (root, release.get("ID")), os_release_id=release.get("ID"))


def _exists(root, path):
    try:
        return os.path.exists(resolve_in_root(root, path))
    except OSError:
        return False


def holds_trust_store(root, family):
    """Whether root has any of the family's trust-store folders: a root without one is no device's root."""
    return any(_exists(root, path) for path in family.store_dirs)


def update_command(family, tool_path, root, fresh, hooks_dir=None):
    """The argv that rebuilds the bundle. For another root, only Debian's tool takes path options. Each is the
    folder the image itself would use (its links followed inside the image), so the tool never reaches this
    host's store through an absolute link of the image; the certificate folders are given relative to the links
    folder, so the links it makes stay valid when the image boots with that root as /."""
    argv = [tool_path] + list(family.update_args) + (list(family.fresh_args) if fresh else [])
    if root == "/":
        return argv
    if family.name != "debian":
        raise DpsTlsError("Working on another root filesystem is supported only for the debian family", family=family.name)
    certs_dir = resolve_in_root(root, "/etc/ssl/certs")
    argv += [
        "--certsconf", resolve_in_root(root, "/etc/ca-certificates.conf"),
        "--certsdir", os.path.relpath(resolve_in_root(root, "/usr/share/ca-certificates"), certs_dir),
        "--localcertsdir", os.path.relpath(resolve_in_root(root, family.anchor_dir), certs_dir),
        "--etccertsdir", certs_dir,
        # the image's hooks (Java keystore, ...) would write to this host's paths: never run them here
        "--hooksdir", hooks_dir or os.path.join(os.path.realpath(root), "nonexistent/ca-certificates-hooks"),
    ]
    return argv
