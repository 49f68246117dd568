# Copyright: iotops.dps_tls contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Reading a file the user named, safely: only a regular file, never more than a certificate input can hold.

A FIFO, a socket or a device given where a certificate belongs would block the task (opening a FIFO waits for a
writer, reading a character device never ends), and a huge file would be read whole into memory. The file is
opened without blocking, checked with fstat on the open descriptor (so a file swapped in after the check is not
read), and read only up to its cap.
"""

from __future__ import annotations

import errno
import os
import stat

from ansible_collections.iotops.dps_tls.plugins.module_utils._common.errors import InvalidInputError

# One certificate, chain or private key: a 4096-bit RSA key is ~3.3 KiB and a chain of ten certificates stays
# under 64 KiB, so 1 MiB leaves room for comments and text dumps and still refuses disk images and logs.
CERTIFICATE_MAX_BYTES = 1024 * 1024
# A CA bundle: Debian's 146 roots take ~220 KiB, and the largest distribution bundle with text dumps stays under
# 1 MiB. 8 MiB is no real bundle's size.
BUNDLE_MAX_BYTES = 8 * 1024 * 1024
# A configuration file (OpenSSL's, an app's with pinned certificates).
CONFIG_MAX_BYTES = 1024 * 1024

KINDS = ((stat.S_ISDIR, "a directory"), (stat.S_ISFIFO, "a FIFO (named pipe)"), (stat.S_ISSOCK, "a socket"),
         (stat.S_ISCHR, "a character device"), (stat.S_ISBLK, "a block device"))


def _kind(mode):
    for test, name in KINDS:
        if test(mode):
            return name
    return "not a regular file"


def read_regular_file(option, path, max_bytes=CERTIFICATE_MAX_BYTES, dir_fd=None, follow=True, missing_ok=False,
                      shown=None):
    """The bytes of the regular file at path (relative to dir_fd when given), or InvalidInputError naming option.

    follow=False refuses a symbolic link as the last component (O_NOFOLLOW): for files inside a store this
    collection manages, where a link swapped in would lead elsewhere. missing_ok returns None for a missing file.
    shown is the path errors name (the full path of a file opened relative to dir_fd).
    """
    fd = _open(option, path, dir_fd=dir_fd, follow=follow, missing_ok=missing_ok, shown=shown or path)
    if fd is None:
        return None
    path = shown or path
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise InvalidInputError(option, "%s is %s, not a regular file" % (path, _kind(info.st_mode)))
        if info.st_size > max_bytes:
            raise InvalidInputError(option, "%s is %d bytes, more than the %d bytes allowed here (no certificate, "
                                    "key, bundle or configuration file is that large)" % (path, info.st_size, max_bytes))
        return _read_at_most(option, path, fd, max_bytes)
    finally:
        os.close(fd)


def _open(option, path, dir_fd, follow, missing_ok, shown):
    """A descriptor opened without blocking (a FIFO opens at once, with no writer), or None when missing_ok."""
    flags = os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0) | (0 if follow else os.O_NOFOLLOW)
    try:
        return os.open(path, flags, dir_fd=dir_fd)
    except OSError as exc:
        if missing_ok and exc.errno in (errno.ENOENT, errno.ENOTDIR):
            return None
        if exc.errno == errno.ELOOP and not follow:
            raise InvalidInputError(option, "%s is a symbolic link, not a regular file" % shown)
        raise InvalidInputError(option, "cannot read %s: %s" % (shown, exc.strerror or exc))


def _read_at_most(option, path, fd, max_bytes):
    """Read until end of file, refusing a file that grew past max_bytes after fstat."""
    chunks = []
    size = 0
    while True:
        try:
            chunk = os.read(fd, min(1024 * 1024, max_bytes + 1 - size))
        except OSError as exc:
            raise InvalidInputError(option, "cannot read %s: %s" % (path, exc.strerror or exc))
        if not chunk:
            return b"".join(chunks)
        chunks.append(chunk)
        size += len(chunk)
        if size > max_bytes:
            raise InvalidInputError(option, "%s grew past the %d bytes allowed here while it was read" % (path, max_bytes))
