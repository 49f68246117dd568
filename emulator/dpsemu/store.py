# Copyright: iotops.dps_tls contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Persistent emulator state: one JSON document, rewritten atomically after every change."""

import json
import os
import tempfile
import threading


def write_atomically(path, text, mode=0o600):
    """Write text to path so readers see either the old or the new file, never half of one."""
    directory = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(dir=directory, prefix=".tmp-")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def write_json(path, data, mode=0o600):
    write_atomically(path, json.dumps(data, indent=2, sort_keys=True) + "\n", mode)


def read_json(path, default=None):
    try:
        with open(path, encoding="utf-8") as handle:
            return json.load(handle)
    except FileNotFoundError:
        return default


class Store:
    """Sections of named records (e.g. provisioning services, operations) kept in state.json.

    Callers hold `store.lock` around a read-modify-write and call `save()` before releasing it.
    """

    def __init__(self, state_dir):
        self.path = os.path.join(state_dir, "state.json")
        self.lock = threading.RLock()
        self.data = read_json(self.path, default={}) or {}

    def section(self, name):
        return self.data.setdefault(name, {})

    def save(self):
        with self.lock:
            write_json(self.path, self.data)
