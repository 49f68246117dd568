# Copyright: iotops.dps_tls contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Desired state of CA anchors in an OS trust store: read -> plan -> (check mode stops) -> apply -> verify.

Anchors this collection installs are named ``iotops-dps_tls-<name><suffix>``: that prefix is the only
marker, so removal can never touch an anchor the distribution or an administrator put there.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import os
import re
import tempfile

from ansible_collections.iotops.dps_tls.plugins.module_utils._common.errors import DpsTlsError, InvalidInputError
from ansible_collections.iotops.dps_tls.plugins.module_utils._trust.certificate import (
    CertificateError, bundle_fingerprints, check_ca_certificate, normalize_sha256, sha256_of, single_pem_certificate)
from ansible_collections.iotops.dps_tls.plugins.module_utils._trust.families import (
    FAMILIES, LOCK_NAME, detect_family, in_root, update_command)
from ansible_collections.iotops.dps_tls.plugins.module_utils._trust.roots import BUILTIN_ROOTS

ANCHOR_PREFIX = "iotops-dps_tls-"
NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
# Left next to the bundle while the update tool runs; if a run dies there, the next one rebuilds.
PENDING_NAME = ".iotops-dps_tls-update-pending"


def validate_request(certificates, state, root, family):
    """Every option error, before anything is read or written."""
    if not os.path.isabs(root):
        raise InvalidInputError("root", "must be an absolute path, got %r" % root)
    if family != "auto" and family not in FAMILIES:
        raise InvalidInputError("family", "must be auto or one of %s" % ", ".join(sorted(FAMILIES)))
    if not certificates:
        raise InvalidInputError("certificates", "name at least one certificate")
    seen = set()
    for index, entry in enumerate(certificates):
        where = "certificates[%d]" % index
        name = entry.get("name")
        if not name or not NAME.match(name):
            raise InvalidInputError(where + ".name", "must be 1-64 letters, digits, '.', '_' or '-' starting with a "
                                    "letter or digit, got %r" % name)
        if name in seen:
            raise InvalidInputError(where + ".name", "%r is named twice" % name)
        seen.add(name)
        sources = [key for key in ("builtin", "content", "src") if entry.get(key)]
        if len(sources) > 1:
            raise InvalidInputError(where, "give only one of builtin, content or src, not %s" % " and ".join(sources))
        if not sources and state == "present":
            raise InvalidInputError(where, "give one of builtin, content or src")
        if entry.get("builtin") and entry["builtin"] not in BUILTIN_ROOTS:
            raise InvalidInputError(where + ".builtin", "unknown builtin root %r; known: %s"
                                    % (entry["builtin"], ", ".join(sorted(BUILTIN_ROOTS))))
        if entry.get("sha256") and not normalize_sha256(entry["sha256"]):
            raise InvalidInputError(where + ".sha256", "must be 32 hex bytes, with or without colons")
        if (entry.get("content") or entry.get("src")) and not entry.get("sha256"):
            raise InvalidInputError(where + ".sha256", "is required for content and src: pin the fingerprint "
                                    "of the certificate you mean to trust")
        if entry.get("builtin") and entry.get("sha256") and \
                normalize_sha256(entry["sha256"]) != BUILTIN_ROOTS[entry["builtin"]].sha256:
            raise InvalidInputError(where + ".sha256", "does not match the pinned fingerprint of builtin %s"
                                    % entry["builtin"])


def load_certificate(index, entry):
    """The checked certificate of one entry; errors name the option the data came from."""
    if entry.get("builtin"):
        root = BUILTIN_ROOTS[entry["builtin"]]
        option, data, pin = "builtin", root.pem, root.sha256
    elif entry.get("content"):
        option, data, pin = "content", entry["content"], normalize_sha256(entry["sha256"])
    else:
        option, pin = "src", normalize_sha256(entry["sha256"])
        try:
            with open(entry["src"], "rb") as handle:
                data = handle.read()
        except (IOError, OSError) as exc:
            raise InvalidInputError("certificates[%d].src" % index, "cannot read %s: %s" % (entry["src"], exc.strerror))
    try:
        return check_ca_certificate(data, pin)
    except CertificateError as exc:
        raise InvalidInputError("certificates[%d].%s" % (index, option), "the certificate %s" % exc.message,
                                name=entry["name"])


class TrustStore(object):
    """One OS trust store (at root), driven through its family's own update tool."""

    def __init__(self, family, root, run_command, get_bin_path):
        self.family = family
        self.root = root
        self._run = run_command
        self._bin = get_bin_path
        self.anchor_dir = in_root(root, family.anchor_dir)
        self.bundle = in_root(root, family.bundle)
        self.pending = os.path.join(os.path.dirname(self.bundle), PENDING_NAME)

    def anchor_path(self, name):
        return os.path.join(self.anchor_dir, ANCHOR_PREFIX + name + self.family.suffix)

    def read_anchor(self, name):
        try:
            with open(self.anchor_path(name), "rb") as handle:
                return handle.read()
        except (IOError, OSError) as exc:
            if exc.errno == errno.ENOENT:
                return None
            raise DpsTlsError("Cannot read %s: %s" % (self.anchor_path(name), exc.strerror))

    def fingerprints(self):
        return bundle_fingerprints(self.bundle) or []

    @contextlib.contextmanager
    def locked(self):
        """Exclusive lock for write + update + verify, so concurrent runs never interleave tool runs."""
        lock_path = os.path.join(os.path.dirname(self.bundle), LOCK_NAME)
        try:
            if not os.path.isdir(os.path.dirname(lock_path)):
                os.makedirs(os.path.dirname(lock_path), 0o755)
            fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as exc:
            raise DpsTlsError("Cannot open the lock file %s: %s" % (lock_path, exc.strerror))
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            os.close(fd)

    def write_anchor(self, name, content):
        """Temporary file + rename: a reader never sees half a certificate. Mode 0644, SELinux label."""
        path = self.anchor_path(name)
        if not os.path.isdir(self.anchor_dir):
            os.makedirs(self.anchor_dir, 0o755)
        fd, tmp = tempfile.mkstemp(prefix=".iotops-dps_tls-", suffix=".tmp", dir=self.anchor_dir)
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(content)
                handle.flush()
                os.fsync(handle.fileno())
            os.chmod(tmp, 0o644)
            os.rename(tmp, path)
        except BaseException:
            if os.path.exists(tmp):
                os.unlink(tmp)
            raise
        if self.root == "/":
            _restore_selinux_context(path)

    def remove_stale_temporary_files(self):
        """A run killed while writing leaves its temporary file; the lock proves nobody is writing now."""
        try:
            names = os.listdir(self.anchor_dir)
        except OSError:
            return
        for name in names:
            if name.startswith(".iotops-dps_tls-") and name.endswith(".tmp"):
                os.unlink(os.path.join(self.anchor_dir, name))

    def remove_anchor(self, name):
        try:
            os.unlink(self.anchor_path(name))
        except OSError as exc:
            if exc.errno != errno.ENOENT:
                raise

    def mark_pending(self):
        """Until the update tool has run, the bundle may not match the anchors: a run killed meanwhile leaves this."""
        with open(self.pending, "w"):
            pass

    def update(self, fresh):
        tool = self._bin(self.family.tool)
        if not tool:
            raise DpsTlsError("The %s family's update command %s is not installed" % (self.family.name, self.family.tool),
                              family=self.family.name)
        argv = update_command(self.family, tool, self.root, fresh)
        # a killed Debian run leaves its half-built bundle behind, and the next run would append to it
        stale = self.bundle + ".new"
        if self.family.name == "debian" and os.path.exists(stale):
            os.unlink(stale)
        self.mark_pending()
        rc, out, err = self._run(argv)
        output = (out or "") + (err or "")
        if rc != 0:
            raise DpsTlsError("%s failed with exit code %d" % (" ".join(argv), rc), rc=rc, output=output)
        os.unlink(self.pending)
        return output


def _restore_selinux_context(path):
    try:
        from ansible.module_utils.compat import selinux
    except ImportError:  # pragma: no cover - every ansible-core has it; older ones lack the compat layer
        return
    try:
        if not selinux.is_selinux_enabled():
            return
        rc, context = selinux.matchpathcon(path, 0)
        if rc == 0:
            selinux.lsetfilecon(path, context)
    except (OSError, AttributeError):
        return


def ensure(certificates, state, root, family_name, check_mode, run_command, get_bin_path):
    """Bring the named anchors to state; returns the module result."""
    validate_request(certificates, state, root, family_name)
    if not os.path.isdir(root):
        raise InvalidInputError("root", "%s is not a directory" % root)
    family = FAMILIES[detect_family(root) if family_name == "auto" else family_name]
    store = TrustStore(family, root, run_command, get_bin_path)
    if root != "/" and family.name != "debian":
        raise InvalidInputError("root", "another root filesystem is supported only for the debian family, "
                                "and %s is %s" % (root, family.name))
    wanted = [(entry, load_certificate(index, entry) if state == "present" or _has_source(entry) else None)
              for index, entry in enumerate(certificates)]

    if check_mode:
        plan = _plan(store, wanted, state)
        return _result(store, plan, check_mode=True, repair=os.path.exists(store.pending))
    with store.locked():
        plan = _plan(store, wanted, state)
        repair = os.path.exists(store.pending)
        changes = [item for item in plan if item["write"] is not None or item["action"] == "removed"]
        needs_update = repair or changes or any(item["stale"] for item in plan)
        output = None
        store.remove_stale_temporary_files()
        if needs_update:
            before_count = len(set(store.fingerprints()))
            previous = {item["name"]: store.read_anchor(item["name"]) for item in changes}
            # Marked before the first anchor changes: a run killed after removing one, before the update tool ran,
            # leaves no other trace, and the next run would take the stale bundle for the truth.
            store.mark_pending()
            for item in changes:
                if item["action"] == "removed":
                    store.remove_anchor(item["name"])
                else:
                    store.write_anchor(item["name"], item["write"])
            fresh = repair or any(item["action"] == "removed" for item in plan)
            output = _update_and_verify(store, plan, state, before_count, previous, fresh, repair)
        return _result(store, plan, check_mode=False, repair=repair, output=output)


def _has_source(entry):
    return bool(entry.get("builtin") or entry.get("content") or entry.get("src"))


def _plan(store, wanted, state):
    """Per anchor: what to do. write is the content to write (None: nothing); stale means the anchor file
    is right but the bundle lacks it (a run died before the update), so the update must run."""
    trusted = set(store.fingerprints())
    plan = []
    for entry, cert in wanted:
        name = entry["name"]
        current = store.read_anchor(name)
        item = {"name": name, "path": store.anchor_path(name), "write": None, "stale": False,
                "existed": current is not None,
                "sha256": cert.sha256 if cert else _fingerprint_of(current)}
        if state == "present":
            content = cert.pem.encode("ascii")
            if current == content:
                item["action"] = "unchanged"
                item["stale"] = cert.sha256 not in trusted
            elif current is None and cert.sha256 in trusted:
                item["action"], item["path"] = "already_trusted", None
            else:
                item["action"], item["write"] = "added", content
        else:
            item["action"] = "removed" if current is not None else "unchanged"
            if current is None:
                item["path"] = None
        item["trusted_before"] = item["sha256"] in trusted
        plan.append(item)
    return plan


def _fingerprint_of(content):
    if content is None:
        return None
    try:
        return sha256_of(single_pem_certificate(content))
    except CertificateError:
        return None


def _update_and_verify(store, plan, state, before_count, previous, fresh, repair=False):
    """Run the tool under the lock, then prove the result; on a bad result put the old files back."""
    try:
        output = store.update(fresh)
        problem = _verify(store, plan, state, before_count, repair)
    except DpsTlsError as exc:
        output = exc.details.get("output", "")
        problem = exc.message
    if problem is None:
        return output
    for name, content in previous.items():
        if content is None:
            store.remove_anchor(name)
        else:
            store.write_anchor(name, content)
    try:
        rollback_output = store.update(fresh=True)
    except DpsTlsError as exc:
        rollback_output = "rollback update failed too: %s %s" % (exc.message, exc.details.get("output", ""))
    raise DpsTlsError("The trust store update did not give the expected bundle (%s); the previous anchors were "
                      "restored and the store rebuilt" % problem, bundle=store.bundle, output=output,
                      rollback_output=rollback_output)


def _verify(store, plan, state, before_count, repair=False):
    after = set(store.fingerprints())
    if state == "present":
        missing = [item["name"] for item in plan if item["sha256"] not in after]
        if missing:
            return "%s not in %s" % (", ".join(missing), store.bundle)
    if repair:
        # The bundle before a repair is that of a run cut short (it may still hold roots whose anchors that run
        # had removed): its size is no baseline.
        return None
    removed = len([item for item in plan if item["action"] == "removed"])
    if len(after) < before_count - removed:
        return "%s shrank from %d to %d certificates" % (store.bundle, before_count, len(after))
    return None


def _result(store, plan, check_mode, repair, output=None):
    after = None if check_mode else set(store.fingerprints())
    anchors = []
    for item in plan:
        if check_mode:
            # a prediction: a removed anchor may stay trusted when the distribution ships the same root
            trusted = {"added": True, "already_trusted": True, "removed": False}.get(
                item["action"], item["trusted_before"] or item["stale"])
        else:
            trusted = bool(item["sha256"]) and item["sha256"] in after
        anchors.append({"name": item["name"], "sha256": item["sha256"], "path": item["path"],
                        "trusted": trusted, "action": item["action"]})
    changed = bool(repair or any(item["action"] in ("added", "removed") or item["stale"] for item in plan))
    result = {"changed": changed, "family": store.family.name, "bundle": store.bundle, "anchors": anchors,
              "diff": _diff(plan)}
    if output is not None:
        result["update_output"] = output
    return result


def _diff(plan):
    """Anchor files of this collection before and after, by name."""
    before = sorted(item["name"] for item in plan if item["existed"])
    after = sorted(item["name"] for item in plan if item["action"] in ("unchanged", "added") and item["path"])
    return {"before": {"anchors": before}, "after": {"anchors": after}}
