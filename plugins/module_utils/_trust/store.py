# Copyright: iotops.dps_tls contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Desired state of CA anchors in an OS trust store: read -> plan -> (check mode stops) -> apply -> verify.

Anchors this collection installs are named ``iotops-dps_tls-<name><suffix>``: that prefix is the only
marker, so removal can never touch an anchor the distribution or an administrator put there.
"""

from __future__ import annotations

import binascii
import contextlib
import fcntl
import os
import re

from ansible_collections.iotops.dps_tls.plugins.module_utils._common.errors import DpsTlsError, InvalidInputError
from ansible_collections.iotops.dps_tls.plugins.module_utils._common.files import (
    BUNDLE_MAX_BYTES, CERTIFICATE_MAX_BYTES, read_regular_file)
from ansible_collections.iotops.dps_tls.plugins.module_utils._common.rooted import (
    directory, open_directory, resolve_in_root, unlink_quietly)
from ansible_collections.iotops.dps_tls.plugins.module_utils._trust.certificate import (
    CertificateError, check_ca_certificate, fingerprints_in, normalize_sha256, sha256_of, single_pem_certificate)
from ansible_collections.iotops.dps_tls.plugins.module_utils._trust.families import (
    FAMILIES, LOCK_NAME, detect_family, holds_trust_store, in_root, update_command)
from ansible_collections.iotops.dps_tls.plugins.module_utils._trust.roots import BUILTIN_ROOTS

ANCHOR_PREFIX = "iotops-dps_tls-"
# Goes into a file name: matched whole (fullmatch), so a trailing newline is refused too.
NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")
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
        if not name or not NAME.fullmatch(name):
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
        data = read_regular_file("certificates[%d].src" % index, entry["src"], max_bytes=CERTIFICATE_MAX_BYTES)
    try:
        return check_ca_certificate(data, pin)
    except CertificateError as exc:
        raise InvalidInputError("certificates[%d].%s" % (index, option), "the certificate %s" % exc.message,
                                name=entry["name"])


class TrustStore(object):
    """One OS trust store (at root), driven through its family's own update tool.

    Every file is reached through a folder descriptor opened from root without following links (rooted), so
    nothing is read or written outside root, even through a link the image carries or one swapped in meanwhile.
    """

    def __init__(self, family, root, run_command, get_bin_path):
        self.family = family
        self.root = root
        self._run = run_command
        self._bin = get_bin_path
        self.anchor_dir = in_root(root, family.anchor_dir)
        self.bundle = in_root(root, family.bundle)
        self._bundle_dir = os.path.dirname(family.bundle)
        self._bundle_fd = None

    def anchor_file(self, name):
        return ANCHOR_PREFIX + name + self.family.suffix

    def anchor_path(self, name):
        return os.path.join(self.anchor_dir, self.anchor_file(name))

    def _read(self, folder, name, max_bytes):
        """A file of the store, or None when it (or its folder) does not exist."""
        try:
            with directory(self.root, folder) as fd:
                return read_regular_file("root", name, max_bytes=max_bytes, dir_fd=fd, follow=False,
                                         missing_ok=True, shown=os.path.join(in_root(self.root, folder), name))
        except (FileNotFoundError, NotADirectoryError):
            return None
        except OSError as exc:
            raise DpsTlsError("Cannot read %s in %s: %s" % (name, in_root(self.root, folder), exc.strerror or exc))

    def read_anchor(self, name):
        return self._read(self.family.anchor_dir, self.anchor_file(name), CERTIFICATE_MAX_BYTES)

    def fingerprints(self):
        return fingerprints_in(self._read(self._bundle_dir, os.path.basename(self.family.bundle), BUNDLE_MAX_BYTES))

    def pending(self):
        """Whether a run died between changing anchors and the end of the update tool."""
        try:
            return os.path.lexists(os.path.join(resolve_in_root(self.root, self._bundle_dir), PENDING_NAME))
        except OSError:
            return False

    @contextlib.contextmanager
    def locked(self):
        """Exclusive lock for write + update + verify, so concurrent runs never interleave tool runs."""
        try:
            folder = open_directory(self.root, self._bundle_dir, create=True)
        except OSError as exc:
            raise DpsTlsError("Cannot open %s: %s" % (os.path.dirname(self.bundle), exc.strerror or exc))
        try:
            fd = os.open(LOCK_NAME, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC, 0o644, dir_fd=folder)
        except OSError as exc:
            os.close(folder)
            lock = os.path.join(os.path.dirname(self.bundle), LOCK_NAME)
            raise DpsTlsError("Cannot open the lock file %s: %s" % (lock, exc.strerror))
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            self._bundle_fd = folder
            yield
        finally:
            self._bundle_fd = None
            os.close(fd)
            os.close(folder)

    def write_anchor(self, name, content):
        """Temporary file + rename: a reader never sees half a certificate. Mode 0644, SELinux label. The file
        is made new (O_EXCL, O_NOFOLLOW) in a folder opened without following links, and renamed over the
        anchor, which replaces a link there instead of writing through it."""
        final = self.anchor_file(name)
        with directory(self.root, self.family.anchor_dir, create=True) as folder:
            tmp = ".iotops-dps_tls-%s.tmp" % binascii.hexlify(os.urandom(6)).decode()
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC, 0o644,
                         dir_fd=folder)
            try:
                with os.fdopen(fd, "wb") as handle:
                    handle.write(content)
                    handle.flush()
                    os.fchmod(handle.fileno(), 0o644)
                    os.fsync(handle.fileno())
                os.rename(tmp, final, src_dir_fd=folder, dst_dir_fd=folder)
            except BaseException:
                unlink_quietly(tmp, folder)
                raise
        if self.root == "/":
            _restore_selinux_context(self.anchor_path(name))

    def remove_stale_temporary_files(self):
        """A run killed while writing leaves its temporary file; the lock proves nobody is writing now."""
        try:
            with directory(self.root, self.family.anchor_dir) as folder:
                for name in os.listdir(folder):
                    if name.startswith(".iotops-dps_tls-") and name.endswith(".tmp"):
                        unlink_quietly(name, folder)
        except OSError:
            return

    def drop_links(self, names):
        """The hash links of these anchors (and those a killed run left dangling), before the anchors go."""
        if not self.family.links_dir:
            return
        # imported here: only a removal or a repair needs it, and each module run on a device pays for every import
        from ansible_collections.iotops.dps_tls.plugins.module_utils._trust.links import (
            dangling_own_links, drop_links, pem_link_name)
        try:
            with directory(self.root, self.family.links_dir) as folder:
                doomed = set(pem_link_name(self.anchor_file(name)) for name in names)
                doomed |= dangling_own_links(self.root, self.family.links_dir, folder, ANCHOR_PREFIX)
                drop_links(folder, doomed)
        except (FileNotFoundError, NotADirectoryError):
            return

    def remove_anchor(self, name):
        self.drop_links([name])
        try:
            with directory(self.root, self.family.anchor_dir) as folder:
                unlink_quietly(self.anchor_file(name), folder)
        except (FileNotFoundError, NotADirectoryError):
            return

    def mark_pending(self):
        """Until the update tool has run, the bundle may not match the anchors: a run killed meanwhile leaves this."""
        os.close(os.open(PENDING_NAME, os.O_WRONLY | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC, 0o644,
                         dir_fd=self._bundle_fd))

    def update(self, fresh, rehash=False):
        """Run the family's tool; rehash: also rebuild the hash links (a killed tool may have left some out, and
        Debian's tool rehashes only when it adds or removes a link itself)."""
        tool = self._bin(self.family.tool)
        if not tool:
            raise DpsTlsError("The %s family's update command %s is not installed" % (self.family.name, self.family.tool),
                              family=self.family.name)
        argv = update_command(self.family, tool, self.root, fresh)
        # a killed Debian run leaves its half-built bundle behind, and the next run would append to it
        if self.family.name == "debian":
            unlink_quietly(os.path.basename(self.family.bundle) + ".new", self._bundle_fd)
        self.mark_pending()
        rc, out, err = self._run(argv)
        output = (out or "") + (err or "")
        if rc != 0:
            raise DpsTlsError("%s failed with exit code %d" % (" ".join(argv), rc), rc=rc, output=output)
        openssl = self._bin("openssl") if rehash and self.family.links_dir else None
        if openssl:
            argv = [openssl, "rehash", resolve_in_root(self.root, self.family.links_dir)]
            rc, out, err = self._run(argv)
            output += (out or "") + (err or "")
            if rc != 0:
                raise DpsTlsError("%s failed with exit code %d" % (" ".join(argv), rc), rc=rc, output=output)
        unlink_quietly(PENDING_NAME, self._bundle_fd)
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
    wanted = [(entry, load_certificate(index, entry) if state == "present" or _has_source(entry) else None)
              for index, entry in enumerate(certificates)]
    store = open_store(root, family_name, run_command, get_bin_path)

    if check_mode:
        plan = _plan(store, wanted, state)
        return _result(store, plan, check_mode=True, repair=store.pending())
    with store.locked():
        plan = _plan(store, wanted, state)
        repair = store.pending()
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
            if repair:
                store.drop_links([])
            for item in changes:
                if item["action"] == "removed":
                    store.remove_anchor(item["name"])
                else:
                    store.write_anchor(item["name"], item["write"])
            fresh = repair or any(item["action"] == "removed" for item in plan)
            output = _update_and_verify(store, plan, state, before_count, previous, fresh, repair)
        return _result(store, plan, check_mode=False, repair=repair, output=output)


def open_store(root, family_name, run_command, get_bin_path):
    """The trust store at root, or an error naming root when root is no system with a trust store."""
    if not os.path.isdir(root):
        raise InvalidInputError("root", "%s is not a directory" % root)
    try:
        name = detect_family(root) if family_name == "auto" else family_name
    except DpsTlsError as exc:
        if root == "/":
            raise
        raise InvalidInputError("root", "%s holds no system this module knows: %s" % (root, exc.message))
    family = FAMILIES[name]
    if root != "/" and family.name != "debian":
        raise InvalidInputError("root", "another root filesystem is supported only for the debian family, "
                                "and %s is %s" % (root, family.name))
    for path in (family.anchor_dir, os.path.dirname(family.bundle)) + family.store_dirs:
        try:
            resolve_in_root(root, path)
        except OSError as exc:
            raise InvalidInputError("root", "%s cannot be followed inside %s: %s" % (path, root, exc.strerror))
    if not holds_trust_store(root, family):
        # an empty folder or the wrong mount point: filling it with a new store would only hide the mistake
        raise InvalidInputError("root", "%s holds no %s trust store (none of %s exists in it); give the root "
                                "filesystem of a device" % (root, family.name, ", ".join(family.store_dirs)))
    return TrustStore(family, root, run_command, get_bin_path)


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
        output = store.update(fresh, rehash=repair)
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
    """output is the update tool's, None when it did not run: the bundle is then the one the plan read, under the
    same lock, and is not read again."""
    after = set(store.fingerprints()) if output is not None else None
    anchors = []
    for item in plan:
        if check_mode:
            # a prediction: a removed anchor may stay trusted when the distribution ships the same root
            trusted = {"added": True, "already_trusted": True, "removed": False}.get(
                item["action"], item["trusted_before"] or item["stale"])
        elif after is None:
            trusted = item["trusted_before"]
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
