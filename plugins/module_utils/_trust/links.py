# Copyright: iotops.dps_tls contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The hash-link folder (Debian's /etc/ssl/certs, what ``openssl -CApath`` and ``curl --capath`` read), kept
verifying at every moment.

Debian's tool drops links of removed certificates only with ``--fresh``, which first deletes every link in the
folder and then makes them all again: a run killed in between leaves a folder that verifies nothing. So the links
of an anchor this collection removes are dropped here, one at a time and each step atomic, and the tool runs
without ``--fresh``. OpenSSL looks up ``<hash>.0``, ``<hash>.1``, ... and stops at the first missing number, so a
dropped link is replaced by the last link of its hash (rename over it) rather than leaving a gap.
"""

from __future__ import annotations

import os
import re

from ansible_collections.iotops.dps_tls.plugins.module_utils._common.rooted import resolve_in_root, unlink_quietly

# <subject hash>.<n> for certificates, <subject hash>.r<n> for CRLs (openssl rehash)
HASH_LINK = re.compile(r"(?P<hash>[0-9a-f]{8})\.(?P<kind>r?)(?P<number>[0-9]+)")


def pem_link_name(anchor_file):
    """The link Debian's tool makes in the links folder for a local anchor: its name with .pem for .crt."""
    return os.path.splitext(anchor_file)[0] + ".pem"


def _readlink(name, dir_fd):
    try:
        return os.readlink(name, dir_fd=dir_fd)
    except OSError:
        return None


def _buckets(dir_fd):
    """{(hash, kind): {number: link target}} of the hash links in the folder."""
    buckets = {}
    for entry in os.listdir(dir_fd):
        match = HASH_LINK.fullmatch(entry)
        target = _readlink(entry, dir_fd) if match else None
        if target is not None:
            key = (match.group("hash"), match.group("kind"))
            buckets.setdefault(key, {})[int(match.group("number"))] = target
    return buckets


def _drop_from_bucket(dir_fd, key, links, doomed):
    """Drop the doomed links of one hash without ever leaving a gap in its numbers."""
    name = "%s.%s%%d" % key
    while True:
        dropped = sorted(n for n, target in links.items() if os.path.basename(target) in doomed)
        if not dropped:
            return
        last = max(links)
        if last == dropped[0] or os.path.basename(links[last]) in doomed:
            unlink_quietly(name % last, dir_fd)
        else:
            os.rename(name % last, name % dropped[0], src_dir_fd=dir_fd, dst_dir_fd=dir_fd)
            links[dropped[0]] = links[last]
        del links[last]


def drop_links(dir_fd, pem_names):
    """Remove the hash links to these .pem links, then the .pem links themselves."""
    doomed = set(pem_names)
    if not doomed:
        return
    for key, links in sorted(_buckets(dir_fd).items()):
        _drop_from_bucket(dir_fd, key, links, doomed)
    for name in sorted(doomed):
        if _readlink(name, dir_fd) is not None:
            unlink_quietly(name, dir_fd)


def dangling_own_links(root, links_dir, dir_fd, prefix):
    """Names of this collection's .pem links (prefix) whose anchor is gone, and the .pem names that hash links
    still point to although the .pem link is gone: what a run killed after removing an anchor leaves."""
    stale = set()
    for entry in os.listdir(dir_fd):
        match = HASH_LINK.fullmatch(entry)
        target = _readlink(entry, dir_fd) if (match or entry.startswith(prefix)) else None
        if target is None:
            continue
        name = os.path.basename(target) if match else entry
        if name.startswith(prefix) and not os.path.exists(resolve_in_root(root, os.path.join(links_dir, entry))):
            stale.add(name)
    return stale
