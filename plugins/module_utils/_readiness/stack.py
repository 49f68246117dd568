# Copyright: iotops.dps_tls contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What the device's TLS stack can offer DPS: its library, TLS 1.2, and which policy suites.

OpenSSL-based device apps get their defaults from the system OpenSSL configuration (the ``system_default``
section: CipherString, MinProtocol, MaxProtocol), so that file under ``root`` is what decides what an app
offers when it does not choose for itself. The library itself is this host's OpenSSL, as Python links it.
"""

from __future__ import annotations

import glob
import os
import ssl

from ansible_collections.iotops.dps_tls.plugins.module_utils._common.errors import InvalidInputError
from ansible_collections.iotops.dps_tls.plugins.module_utils._tls.policy import (
    RECOMMENDED, classify, get_policy, policy_suites)
from ansible_collections.iotops.dps_tls.plugins.module_utils._trust.families import in_root

# Where distributions keep the system OpenSSL configuration, most common first.
OPENSSL_CONFIGS = ("/etc/ssl/openssl.cnf", "/usr/lib/ssl/openssl.cnf", "/etc/pki/tls/openssl.cnf",
                   "/usr/local/ssl/openssl.cnf")
PROTOCOL_ORDER = ("SSLv3", "TLSv1", "TLSv1.1", "TLSv1.2", "TLSv1.3")
# Other TLS libraries an image may carry; found by file name, reported, not audited (their apps need a handshake).
OTHER_LIBRARIES = ("libmbedtls.so*", "libwolfssl.so*", "libbearssl.so*", "libgnutls.so*")
LIBRARY_DIRS = ("/lib", "/usr/lib", "/lib64", "/usr/lib64", "/usr/lib/*-linux-gnu*", "/lib/*-linux-gnu*",
                "/usr/local/lib")


def parse_openssl_config(text):
    """{section: {key: value}} of an OpenSSL config file; lines before the first section are 'default'."""
    sections = {"default": {}}
    current = sections["default"]
    for raw in text.splitlines():
        line = raw.split("#", 1)[0].strip()
        if not line or line.startswith("."):  # .include and .pragma: not followed
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
            with open(in_root(root, candidate)) as handle:
                return candidate, system_default(parse_openssl_config(handle.read()))
        except (IOError, OSError):
            if path:
                raise InvalidInputError("openssl_config", "cannot read %s under %s" % (path, root))
    return None, {}


def _protocol_range(settings):
    """(lowest, highest) protocol the config allows, by PROTOCOL_ORDER index."""
    low = settings.get("MinProtocol", "TLSv1")
    high = settings.get("MaxProtocol", "TLSv1.3")
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
    found = set()
    for folder in LIBRARY_DIRS:
        for pattern in OTHER_LIBRARIES:
            for path in glob.glob(os.path.join(in_root(root, folder), pattern)):
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
            "min_protocol": settings.get("MinProtocol"),
            "max_protocol": settings.get("MaxProtocol"),
            "other_libraries": other_libraries(root),
        },
        "tls12_capable": tls12_capable,
        "offerable_suites": suites,
        "default_suites": [s["iana_name"] for s in offered],
        "recommended_suite_available": any(s["classification"] == RECOMMENDED for s in offered),
    }
