# Copyright: iotops.dps_tls contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Certificates pinned in an app's configuration that will break when DPS rotates its certificates.

Microsoft asks devices to pin roots only: a pinned leaf or intermediate breaks at the next rotation, and a
pinned root DPS does not chain to never matches. Files are read as text and every PEM certificate in them
is looked at; a pinned builtin root is fine.
"""

from __future__ import annotations

import os

from ansible_collections.iotops.dps_tls.plugins.module_utils._common.errors import InvalidInputError
from ansible_collections.iotops.dps_tls.plugins.module_utils._common.files import CONFIG_MAX_BYTES, read_regular_file
from ansible_collections.iotops.dps_tls.plugins.module_utils._common.rooted import resolve_in_root
from ansible_collections.iotops.dps_tls.plugins.module_utils._tls.chain import builtin_root_name
from ansible_collections.iotops.dps_tls.plugins.module_utils._x509.pem import (
    CertificateError, certificate_ders, sha256_of)

MAX_FILE_SIZE = CONFIG_MAX_BYTES  # configuration files, not disk images
LEAF = "leaf"
INTERMEDIATE = "intermediate"
OTHER_ROOT = "other_root"
BLOCKING = (LEAF, INTERMEDIATE)


def _files(root, given):
    """(path, named) of each file to look at: the path given, or every file under the folder given. Links in a
    folder are followed inside root, as the device would (os.walk itself never follows folder links)."""
    path = resolve_in_root(root, given)
    if not os.path.isdir(path):
        yield path, True
        return
    for folder, dirs, files in os.walk(path):
        dirs[:] = [d for d in dirs if d not in (".git", "node_modules", "__pycache__")]
        for name in sorted(files):
            found = os.path.join(folder, name)
            if os.path.islink(found):
                try:
                    found = resolve_in_root(root, "/" + os.path.relpath(found, os.path.realpath(root)))
                except OSError:
                    continue
            yield found, False


def _read_text(path, named):
    """The text of a file holding PEM, else None. A path given by name must be a readable regular file of at
    most MAX_FILE_SIZE (an error names pinning_paths); in a folder such files are passed over (apps keep
    binaries, sockets and FIFOs next to their configuration)."""
    try:
        data = read_regular_file("pinning_paths", path, max_bytes=MAX_FILE_SIZE, follow=False, missing_ok=True)
    except InvalidInputError:
        if named:
            raise
        return None
    if data is None or b"-----BEGIN" not in data:
        return None
    # JSON and YAML configs often carry PEM with escaped newlines
    return data.decode("utf-8", "replace").replace("\\n", "\n")


def _finding(kind, path, subject, fingerprint):
    messages = {
        LEAF: "pins the end-entity certificate %s: it changes at every DPS certificate rotation; pin the root",
        INTERMEDIATE: "pins the intermediate CA %s: Microsoft rotates intermediates without notice; pin the root",
        OTHER_ROOT: "pins the root %s, which DPS does not chain to",
    }
    return {"kind": kind, "path": path, "subject": subject, "sha256": fingerprint,
            "blocking": kind in BLOCKING, "message": messages[kind] % subject}


def find_pinned(root, pinning_paths):
    """A finding for each pinned certificate that is not a builtin root, in the files or folders given."""
    findings = []
    for given in pinning_paths:
        try:
            files = list(_files(root, given))
        except OSError as exc:
            raise InvalidInputError("pinning_paths", "cannot follow %s under %s: %s" % (given, root, exc.strerror))
        for path, named in files:
            text = _read_text(path, named)
            if text is None:
                continue
            for der in certificate_ders(text):
                fingerprint = sha256_of(der)
                if builtin_root_name(fingerprint):
                    continue
                # imported here: most devices pin nothing else, and each module run on a device pays for every import
                from ansible_collections.iotops.dps_tls.plugins.module_utils._x509.certificate import inspect
                try:
                    facts = inspect(der)
                except CertificateError:
                    continue
                if facts["self_signed"]:
                    kind = OTHER_ROOT
                else:
                    kind = INTERMEDIATE if facts["is_ca"] else LEAF
                findings.append(_finding(kind, path, facts["subject"], fingerprint))
    return findings
