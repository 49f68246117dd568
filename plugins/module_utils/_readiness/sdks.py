# Copyright: iotops.dps_tls contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Azure IoT device SDKs installed on a device, and whether each is new enough for TLS 1.2 with DPS.

Each language leaves its own trace: Python a dist-info/egg-info in a site-packages folder, Node.js a
package.json under node_modules/azure-iot-device, Java a jar (by name or its pom.properties), .NET an entry
in an app's *.deps.json or a NuGet packages folder. The C SDK is compiled into the app and leaves none.
"""

from __future__ import annotations

import glob
import json
import os
import re
import stat
import sys
import zipfile

from ansible_collections.iotops.dps_tls.plugins.module_utils._common.errors import InvalidInputError
from ansible_collections.iotops.dps_tls.plugins.module_utils._common.files import CONFIG_MAX_BYTES, read_regular_file
from ansible_collections.iotops.dps_tls.plugins.module_utils._common.rooted import resolve_in_root

# The device SDK releases that first do TLS 1.2 with DPS (Microsoft's TLS support article).
MINIMUMS = {
    "python": ("azure-iot-device", "2.0.0"),
    "nodejs": ("azure-iot-device", "1.12.2"),
    "java": ("iot-device-client", "1.19.0"),
    "dotnet": ("Microsoft.Azure.Devices.Client", "1.21.4"),
}
PYTHON_SITE_DIRS = ("/usr/lib/python3*/site-packages", "/usr/lib/python3*/dist-packages",
                    "/usr/local/lib/python3*/site-packages", "/usr/local/lib/python3*/dist-packages",
                    "/usr/lib/python3/dist-packages", "/opt/*/lib/python3*/site-packages")
NODE_GLOBAL_DIRS = ("/usr/lib/node_modules", "/usr/local/lib/node_modules")
PYTHON_DIST = re.compile(r"azure[_-]iot[_-]device-([^-]+?)(?:-py[^-]*)?\.(?:dist-info|egg-info)", re.IGNORECASE)
JAVA_JAR = re.compile(r"iot-device-client-(\d[^/]*?)(?:-with-deps|-jar-with-dependencies)?\.jar")
JAVA_POM = "META-INF/maven/com.microsoft.azure.sdk.iot/iot-device-client/pom.properties"
DOTNET_NAME = "microsoft.azure.devices.client"
MAX_DEPTH = 8
SKIPPED_DIRS = (".git", "__pycache__", "proc", "sys", "dev")
# A .deps.json of a large .NET app stays well under this; package metadata is a few KiB.
METADATA_MAX_BYTES = 4 * CONFIG_MAX_BYTES


def version_key(version):
    """Comparable form of '1.19.0', '2.0.0rc1', '1.41.3-preview-001': a pre-release sorts before its release."""
    match = re.match(r"^v?(\d+(?:\.\d+)*)(.*)$", version.strip())
    if not match:
        return None
    numbers = [int(part) for part in match.group(1).split(".")]
    numbers += [0] * (4 - len(numbers))
    return tuple(numbers), 0 if match.group(2).strip(".") else 1


def is_new_enough(version, minimum):
    key = version_key(version or "")
    return key is not None and key >= version_key(minimum)


def _entry(language, version, path):
    name, minimum = MINIMUMS[language]
    return {"name": name, "language": language, "version": version, "minimum": minimum,
            "ok": is_new_enough(version, minimum), "path": path}


def _inside(root, path):
    """path (given as the system at root names it) on this host, with the image's links followed inside the
    image; None when it cannot be followed."""
    try:
        return resolve_in_root(root, path)
    except OSError:
        return None


def _read(path):
    """The bytes of a regular file (never through a link, never a FIFO or a device), or None."""
    try:
        return read_regular_file("app_paths", path, max_bytes=METADATA_MAX_BYTES, follow=False, missing_ok=True)
    except InvalidInputError:
        return None


def _walk(top):
    """os.walk under top (which never follows folder links), without VCS/cache folders, not deeper than
    MAX_DEPTH."""
    if top is None:
        return
    base = top.rstrip(os.sep).count(os.sep)
    for folder, dirs, files in os.walk(top):
        dirs[:] = [d for d in dirs if d not in SKIPPED_DIRS]
        if folder.count(os.sep) - base >= MAX_DEPTH:
            dirs[:] = []
        yield folder, dirs, files


def _app_files(root, app_paths, extra_tops=()):
    """(folder, dirs, files) of every folder under the app paths (and extra_tops), as the image names them."""
    for top in list(extra_tops) + list(app_paths):
        yield from _walk(_inside(root, top))


def _metadata_version(path):
    """Version: from a dist-info METADATA or an egg-info PKG-INFO (a file or a folder)."""
    candidates = [os.path.join(path, "METADATA"), os.path.join(path, "PKG-INFO"), path]
    for candidate in candidates:
        data = _read(candidate)
        if data is None:
            continue
        for line in data.decode("utf-8", "replace").splitlines():
            if line.startswith("Version:"):
                return line.split(":", 1)[1].strip()
            if not line.strip():
                break
    return None


def python_sdks(folders):
    found = []
    for folder in folders:
        try:
            names = sorted(os.listdir(folder))
        except OSError:
            continue
        for name in names:
            match = PYTHON_DIST.fullmatch(name)
            if match:
                path = os.path.join(folder, name)
                found.append(_entry("python", _metadata_version(path) or match.group(1), path))
    return found


def python_folders(root, python_paths):
    """site-packages folders to search: the image's usual ones, the given ones (a venv or site-packages), and
    on the running system this Python's own path."""
    base = os.path.realpath(root)
    patterns = list(PYTHON_SITE_DIRS)
    for path in python_paths:
        patterns += [os.path.join(path, "lib", "python3*", "site-packages"), path]
    folders = []
    for pattern in patterns:
        # glob runs on the image's own resolution of the fixed part, so a link in it stays inside the image
        fixed, _sep, rest = pattern.partition("*")
        head = os.path.dirname(fixed) if rest else fixed.rstrip("/") or "/"
        start = _inside(root, head)
        if start is None:
            continue
        matches = sorted(glob.glob(start + pattern[len(head):])) if rest else [start]
        folders += [m for m in (_inside(root, "/" + os.path.relpath(f, base)) for f in matches) if m]
    if root == "/":
        folders += [p for p in sys.path if p.endswith(("site-packages", "dist-packages"))]
    unique = []
    for folder in folders:
        if os.path.isdir(folder) and folder not in unique:
            unique.append(folder)
    return unique


def node_sdks(root, app_paths):
    found = []
    seen = set()
    for folder, dummy, files in _app_files(root, app_paths, extra_tops=NODE_GLOBAL_DIRS):
        if os.path.basename(folder) == "azure-iot-device" and "package.json" in files and \
                os.path.basename(os.path.dirname(folder)) == "node_modules":
            path = os.path.join(folder, "package.json")
            if path in seen:
                continue
            seen.add(path)
            found.append(_entry("nodejs", _json(path, "version"), path))
    return found


def _json(path, key):
    """data[key] of the JSON file at path, or None."""
    data = _read(path)
    try:
        value = json.loads(data.decode("utf-8", "replace")) if data is not None else None
    except ValueError:
        return None
    return value.get(key) if isinstance(value, dict) else None


def _jar_version(path):
    """The SDK version in a fat jar's pom.properties, or None; a jar is opened only when it is a regular file."""
    try:
        if not stat.S_ISREG(os.lstat(path).st_mode):
            return None
        with zipfile.ZipFile(path) as jar:
            if JAVA_POM not in jar.namelist():
                return None
            return _pom_version(jar.read(JAVA_POM).decode("utf-8", "replace")) or ""
    except (IOError, OSError, zipfile.BadZipfile):
        return None


def _pom_version(text):
    for line in text.splitlines():
        if line.startswith("version="):
            return line.split("=", 1)[1].strip()
    return None


def java_sdks(root, app_paths):
    found = []
    for folder, dummy, files in _app_files(root, app_paths):
        for name in files:
            path = os.path.join(folder, name)
            match = JAVA_JAR.fullmatch(name)
            if match:
                found.append(_entry("java", match.group(1), path))
            elif name.endswith(".jar"):
                version = _jar_version(path)  # a fat jar carries the SDK's pom.properties inside
                if version is not None:
                    found.append(_entry("java", version or None, path + "!/" + JAVA_POM))
            elif name == "pom.properties" and path.endswith(JAVA_POM):
                data = _read(path)
                if data is not None:
                    found.append(_entry("java", _pom_version(data.decode("utf-8", "replace")), path))
    return found


def dotnet_sdks(root, app_paths):
    found = []
    for folder, dirs, files in _app_files(root, app_paths):
        for name in files:
            if name.endswith(".deps.json"):
                path = os.path.join(folder, name)
                libraries = _json(path, "libraries")
                for key in libraries if isinstance(libraries, dict) else ():
                    package, dummy, version = key.partition("/")
                    if package.lower() == DOTNET_NAME:
                        found.append(_entry("dotnet", version, path))
        base = os.path.basename(folder)
        if base.lower() == DOTNET_NAME:  # NuGet global packages: microsoft.azure.devices.client/<version>/
            found += [_entry("dotnet", d, os.path.join(folder, d)) for d in sorted(dirs) if version_key(d)]
            dirs[:] = []
        elif base.lower().startswith(DOTNET_NAME + ".") and version_key(base[len(DOTNET_NAME) + 1:]):
            found.append(_entry("dotnet", base[len(DOTNET_NAME) + 1:], folder))  # packages.config layout
            dirs[:] = []
    return found


def find_sdks(root="/", python_paths=(), app_paths=()):
    """Every Azure IoT device SDK found, each with its minimum and whether it meets it."""
    return (python_sdks(python_folders(root, python_paths)) + node_sdks(root, app_paths)
            + java_sdks(root, app_paths) + dotnet_sdks(root, app_paths))
