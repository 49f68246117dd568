# Copyright: iotops.dps_tls contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Paths inside another root filesystem (a device image, a chroot), seen as the system at that root sees them.

An image's links are the image's: ``etc/ssl/certs -> /etc/ssl/certs`` means the image's own folder, not this
host's. Every symbolic link is followed here by hand, an absolute target starting again at the root and ``..``
stopping at it, as the kernel does under chroot. Writers then open the folder one component at a time without
following any link (O_NOFOLLOW), so a link swapped in after the resolution makes the open fail instead of
leading out of the root.
"""

from __future__ import annotations

import contextlib
import errno
import os

# The kernel's own limit on links followed in one lookup.
MAX_LINK_HOPS = 40
DIRECTORY_FLAGS = os.O_RDONLY | getattr(os, "O_DIRECTORY", 0) | getattr(os, "O_CLOEXEC", 0)


def _parts(path):
    return [part for part in path.split("/") if part and part != "."]


def resolve_in_root(root, path):
    """The host path of path as the system at root sees it, with no symbolic link left in it. Components that do
    not exist yet are kept as given. Raises OSError(ELOOP) after MAX_LINK_HOPS links."""
    base = os.path.realpath(root)
    parts = _parts(path)
    resolved = []
    hops = 0
    missing = False
    while parts:
        part = parts.pop(0)
        if part == "..":
            resolved = resolved[:-1]
            continue
        if missing:
            resolved.append(part)
            continue
        candidate = os.path.join(base, *(resolved + [part]))
        try:
            target = os.readlink(candidate)
        except OSError as exc:
            # EINVAL: not a link; ENOENT/ENOTDIR: not there (yet)
            missing = exc.errno != errno.EINVAL
            resolved.append(part)
            continue
        hops += 1
        if hops > MAX_LINK_HOPS:
            raise OSError(errno.ELOOP, "too many levels of symbolic links", path)
        if target.startswith("/"):
            resolved = []
        parts = _parts(target) + parts
    return os.path.join(base, *resolved)


def outside(root, host_path):
    """True when host_path, with this host's own resolution, lands outside root (a link changed under us)."""
    base = os.path.realpath(root)
    return os.path.commonpath([base, os.path.realpath(host_path)]) != base


def open_directory(root, path, create=False):
    """A descriptor of the folder path inside root, opened one component at a time from root without following
    any link; missing folders are made (mode 0755) when create is true. Raises OSError."""
    base = os.path.realpath(root)
    relative = os.path.relpath(resolve_in_root(root, path), base)
    fd = os.open(base, DIRECTORY_FLAGS)
    try:
        for part in _parts(relative) if relative != "." else []:
            try:
                child = os.open(part, DIRECTORY_FLAGS | os.O_NOFOLLOW, dir_fd=fd)
            except FileNotFoundError:
                if not create:
                    raise
                os.mkdir(part, 0o755, dir_fd=fd)
                child = os.open(part, DIRECTORY_FLAGS | os.O_NOFOLLOW, dir_fd=fd)
            os.close(fd)
            fd = child
    except BaseException:
        os.close(fd)
        raise
    return fd


@contextlib.contextmanager
def directory(root, path, create=False):
    """open_directory as a context: the descriptor is closed afterwards."""
    fd = open_directory(root, path, create)
    try:
        yield fd
    finally:
        os.close(fd)


def unlink_quietly(name, folder):
    """Remove a file of a folder descriptor; a file already gone is fine. Never follows a link."""
    try:
        os.unlink(name, dir_fd=folder)
    except OSError as exc:
        if exc.errno != errno.ENOENT:
            raise
