# Copyright: iotops.dps_tls contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What the device's TLS stack can offer DPS: its library, TLS 1.2, and which policy suites.

OpenSSL-based device apps get their defaults from the system OpenSSL configuration (the ``system_default``
section: CipherString, MinProtocol, MaxProtocol), so that file under ``root`` is what decides what an app
offers when it does not choose for itself. Its ``.include`` directives are followed as OpenSSL does (RHEL and
Fedora keep the crypto policy's settings in an included file). The library itself is this host's OpenSSL, as
Python links it.
"""

from __future__ import annotations

import errno
import glob
import os
import re
import ssl

from ansible_collections.iotops.dps_tls.plugins.module_utils._common.errors import InvalidInputError
from ansible_collections.iotops.dps_tls.plugins.module_utils._common.files import CONFIG_MAX_BYTES, read_regular_file
from ansible_collections.iotops.dps_tls.plugins.module_utils._common.rooted import resolve_in_root
from ansible_collections.iotops.dps_tls.plugins.module_utils._tls.policy import (
    RECOMMENDED, classify, get_policy, policy_suites)

# Where distributions keep the system OpenSSL configuration, most common first.
OPENSSL_CONFIGS = ("/etc/ssl/openssl.cnf", "/usr/lib/ssl/openssl.cnf", "/etc/pki/tls/openssl.cnf",
                   "/usr/local/ssl/openssl.cnf")
PROTOCOL_ORDER = ("SSLv3", "TLSv1", "TLSv1.1", "TLSv1.2", "TLSv1.3")
# Other TLS libraries an image may carry; found by file name, reported, not audited (their apps need a handshake).
OTHER_LIBRARIES = ("libmbedtls.so*", "libwolfssl.so*", "libbearssl.so*", "libgnutls.so*")
LIBRARY_DIRS = ("/lib", "/usr/lib", "/lib64", "/usr/lib64", "/usr/lib/*-linux-gnu*", "/lib/*-linux-gnu*",
                "/usr/local/lib")
# config(5): ".include [=] pathname" and ".pragma [=] name:value"
INCLUDE = re.compile(r"^\.include(?:\s*=\s*|\s+)(?P<path>\S.*)$")
PRAGMA = re.compile(r"^\.pragma(?:\s*=\s*|\s+)(?P<name>[^:\s]+)\s*:\s*(?P<value>.*)$")
INCLUDE_SUFFIXES = (".cnf", ".conf")
# OpenSSL has no limit; a deeper chain than this is a loop in all but name.
MAX_INCLUDE_DEPTH = 8


def _include_path(include, pragmas, root):
    """Where an .include points, as the device sees it, or None when OpenSSL would not follow it."""
    include = include.strip().strip("\"'")
    if not include.startswith("/"):
        if pragmas.get("abspath"):
            return None
        # OpenSSL prepends the includedir pragma, else $OPENSSL_CONF_INCLUDE (known only for this machine), else
        # the app's working directory, unknown here: "/" is where services run.
        base = pragmas.get("includedir") or (os.environ.get("OPENSSL_CONF_INCLUDE") if root == "/" else None) or "/"
        include = os.path.join(base, include)
    return os.path.normpath(include)


def _config_text(real, path):
    data = read_regular_file("openssl_config", real, max_bytes=CONFIG_MAX_BYTES, follow=False, missing_ok=True)
    if data is None:
        raise OSError(errno.ENOENT, "no such file", path)
    return data.decode("utf-8", "replace")


def read_openssl_config(root, path, pragmas=None, chain=(), from_dir=False):
    """The text of the config at path (as the device sees it) with its .include directives expanded in place,
    as OpenSSL reads it: a file, or a directory's *.cnf and *.conf files (not its subdirectories, and no
    directory from a file found in a directory). A missing include is skipped, as OpenSSL does; a loop or a
    chain deeper than MAX_INCLUDE_DEPTH stops there. Raises OSError when path itself cannot be read, and
    InvalidInputError (openssl_config) when it is no regular file or larger than any configuration file."""
    pragmas = {} if pragmas is None else pragmas
    real = resolve_in_root(root, path)
    text = _config_text(real, path)
    chain = chain + (real,)
    lines = []
    for raw in text.splitlines():
        line = raw.split("#", 1)[0].strip()
        pragma = PRAGMA.match(line)
        if pragma:
            value = pragma.group("value").strip()
            if pragma.group("name") == "includedir":
                pragmas["includedir"] = value
            elif pragma.group("name") == "abspath":
                pragmas["abspath"] = value.lower() in ("true", "on")
            continue
        include = INCLUDE.match(line)
        if not include:
            lines.append(raw)
            continue
        target = _include_path(include.group("path"), pragmas, root)
        if target is None or len(chain) > MAX_INCLUDE_DEPTH:
            continue
        try:
            host_path = resolve_in_root(root, target)
            if os.path.isdir(host_path):
                if from_dir:
                    continue
                names = sorted(n for n in os.listdir(host_path) if n.endswith(INCLUDE_SUFFIXES))
                files = [os.path.join(target, n) for n in names if not os.path.isdir(os.path.join(host_path, n))]
                included_from_dir = True
            else:
                files = [target]
                included_from_dir = from_dir
        except (IOError, OSError):  # unreadable or a symlink loop: skipped like a missing include
            continue
        for name in files:
            try:
                if resolve_in_root(root, name) in chain:
                    continue
                lines.append(read_openssl_config(root, name, pragmas, chain, included_from_dir))
            except (IOError, OSError, InvalidInputError):  # a FIFO or a huge include: skipped, never waited on
                continue
    return "\n".join(lines)


def parse_openssl_config(text):
    """{section: {key: value}} of an OpenSSL config file; lines before the first section are 'default'."""
    sections = {"default": {}}
    current = sections["default"]
    for raw in text.splitlines():
        line = raw.split("#", 1)[0].strip()
        if not line or line.startswith("."):  # .include and .pragma: read_openssl_config expands them
            continue
        if line.startswith("[") and line.endswith("]"):
            current = sections.setdefault(line[1:-1].strip(), {})
        elif "=" in line:
            key, value = line.split("=", 1)
            current[key.strip()] = value.strip().strip("\"'")
    return sections


def system_default(sections):
    """The system_default settings the config points to: openssl_conf -> ssl_conf -> system_default."""
    init = sections.get(sections["default"].get("openssl_conf", ""), {})
    ssl_conf = sections.get(init.get("ssl_conf", ""), {})
    return dict(sections.get(ssl_conf.get("system_default", ""), {}))


def find_openssl_config(root, path=None):
    """(path as the device sees it, settings) of the device's OpenSSL config; (None, {}) when it has none."""
    candidates = [path] if path else ([os.environ["OPENSSL_CONF"]] if root == "/" and os.environ.get("OPENSSL_CONF")
                                      else []) + list(OPENSSL_CONFIGS)
    for candidate in candidates:
        try:
            return candidate, system_default(parse_openssl_config(read_openssl_config(root, candidate)))
        except (IOError, OSError):
            if path:
                raise InvalidInputError("openssl_config", "cannot read %s under %s" % (path, root))
    return None, {}


def _setting(settings, name):
    """A protocol setting, also in the TLS.-prefixed form RHEL's crypto policies write (TLS.MinProtocol)."""
    return settings.get(name) or settings.get("TLS." + name)


def _protocol_range(settings):
    """(lowest, highest) protocol the config allows, by PROTOCOL_ORDER index."""
    low = _setting(settings, "MinProtocol") or "TLSv1"
    high = _setting(settings, "MaxProtocol") or "TLSv1.3"
    index = {name.lower(): i for i, name in enumerate(PROTOCOL_ORDER)}
    return index.get(low.lower(), 0), index.get(high.lower(), len(PROTOCOL_ORDER) - 1)


def _tls12_suites(cipher_string):
    """OpenSSL names of the TLS 1.2 suites a context with this cipher string offers; None if OpenSSL rejects it."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    try:
        context.set_ciphers(cipher_string)
    except ssl.SSLError:
        return None
    return set(c["name"] for c in context.get_ciphers() if c.get("protocol") != "TLSv1.3")


def other_libraries(root):
    """Names only (nothing is read), in the image's folders: its links followed inside it."""
    found = set()
    for folder in LIBRARY_DIRS:
        try:
            folder_in_root = resolve_in_root(root, folder)
        except OSError:
            continue
        for pattern in OTHER_LIBRARIES:
            for path in glob.glob(os.path.join(folder_in_root, pattern)):
                found.add(os.path.basename(path).split(".so")[0])
    return sorted(found)


def audit_stack(root="/", openssl_config=None, policy="dps"):
    """The tls_stack, tls12_capable, offerable_suites and recommended_suite_available facts."""
    rules = get_policy(policy)
    config_path, settings = find_openssl_config(root, openssl_config)
    cipher_string = settings.get("CipherString")
    low, high = _protocol_range(settings)
    tls12 = PROTOCOL_ORDER.index("TLSv1.2")
    library_tls12 = bool(getattr(ssl, "HAS_TLSv1_2", True))
    tls12_capable = library_tls12 and low <= tls12 <= high

    library = _tls12_suites("ALL:@SECLEVEL=0") or set()
    default = _tls12_suites(cipher_string or "DEFAULT")
    suites = []
    for suite in policy_suites(rules):
        if suite.openssl_name not in library:
            continue
        suites.append({"iana_name": suite.iana_name, "openssl_name": suite.openssl_name,
                       "code": "0x%04X" % suite.code, "classification": classify(rules, suite.code),
                       "default": tls12_capable and default is not None and suite.openssl_name in default})
    offered = [s for s in suites if s["default"]]
    return {
        "tls_stack": {
            "library": "OpenSSL" if "openssl" in ssl.OPENSSL_VERSION.lower() else ssl.OPENSSL_VERSION.split()[0],
            "version": ssl.OPENSSL_VERSION,
            "python_ssl": True,
            "openssl_config": config_path,
            "cipher_string": cipher_string,
            "cipher_string_valid": default is not None,
            "min_protocol": _setting(settings, "MinProtocol"),
            "max_protocol": _setting(settings, "MaxProtocol"),
            "other_libraries": other_libraries(root),
        },
        "tls12_capable": tls12_capable,
        "offerable_suites": suites,
        "default_suites": [s["iana_name"] for s in offered],
        "recommended_suite_available": any(s["classification"] == RECOMMENDED for s in offered),
    }
