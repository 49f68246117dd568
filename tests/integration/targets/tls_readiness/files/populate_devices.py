# Copyright: iotops.dps_tls contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Puts SDKs and app configuration into simulated devices: python populate_devices.py CACHE DEVICES PKI

device-002: azure-iot-device 2.0.0rc13 (Python, installed by pip from the real wheel) and 1.11.2 (Node.js, the
real npm tarball), a Java jar name and a .NET deps.json older than the minimums, and an app config pinning the
test PKI's leaf and intermediate.
device-003: azure-iot-device 2.14.0 and 1.18.4, Java 1.30.1 and .NET 1.41.0 in their own layouts, and pins of a
builtin root (fine) and another root (a warning).
Java and .NET packages come from registries this machine cannot reach: their layouts are written here.
"""

from __future__ import annotations

import glob
import json
import os
import subprocess
import sys
import tarfile
import zipfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from fetch_sdks import NPM, PYPI  # noqa: E402  pylint: disable=wrong-import-position

DPS_ROOT = "/usr/share/ca-certificates/mozilla/DigiCert_Global_Root_G2.crt"


def pip_install(cache, version, target):
    wheel = glob.glob(os.path.join(cache, "pypi", "azure_iot_device-%s-*.whl" % version))[0]
    subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--no-compile", "--no-index",
                    "--target", target, wheel], check=True)


def npm_unpack(cache, version, node_modules):
    target = os.path.join(node_modules, "azure-iot-device")
    os.makedirs(target)
    with tarfile.open(os.path.join(cache, "npm", "azure-iot-device-%s.tgz" % version)) as archive:
        for member in archive.getmembers():
            if member.isfile() and member.name.startswith("package/"):
                member.name = member.name[len("package/"):]
                archive.extract(member, target)


def write(path, text):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as handle:
        handle.write(text)


def read(path):
    with open(path) as handle:
        return handle.read()


def deps_json(version):
    return json.dumps({"runtimeTarget": {"name": ".NETCoreApp,Version=v8.0"},
                       "libraries": {"Microsoft.Azure.Devices.Client/%s" % version: {"type": "package"},
                                     "Newtonsoft.Json/13.0.3": {"type": "package"}}}, indent=2)


def main(cache, devices, pki):
    old, new = os.path.join(devices, "device-002"), os.path.join(devices, "device-003")
    pip_install(cache, PYPI["old"], os.path.join(old, "usr/lib/python3/dist-packages"))
    pip_install(cache, PYPI["new"], os.path.join(new, "usr/lib/python3/dist-packages"))
    npm_unpack(cache, NPM["old"], os.path.join(old, "opt/app/node_modules"))
    npm_unpack(cache, NPM["new"], os.path.join(new, "opt/app/telemetry/node_modules"))

    write(os.path.join(old, "opt/app/lib/iot-device-client-1.17.5.jar"), "")
    write(os.path.join(old, "opt/app/dotnet/Agent.deps.json"), deps_json("1.18.0"))
    # a fat jar carrying the SDK's pom.properties, and NuGet's global packages folder
    os.makedirs(os.path.join(new, "opt/app/java"))
    with zipfile.ZipFile(os.path.join(new, "opt/app/java/agent-all.jar"), "w") as jar:
        jar.writestr("META-INF/maven/com.microsoft.azure.sdk.iot/iot-device-client/pom.properties",
                     "groupId=com.microsoft.azure.sdk.iot\nartifactId=iot-device-client\nversion=1.30.1\n")
    os.makedirs(os.path.join(new, "opt/app/nuget/microsoft.azure.devices.client/1.41.0/lib"))

    write(os.path.join(old, "etc/app/config.json"), json.dumps({
        "dps": {"pinned_certificates": [read(os.path.join(pki, "leaf_rsa.crt")),
                                        read(os.path.join(pki, "intermediate.crt"))]}}, indent=2))
    write(os.path.join(new, "etc/app/trust/dps-root.pem"), read(DPS_ROOT))
    write(os.path.join(new, "etc/app/trust/lab-root.pem"), read(os.path.join(pki, "root.crt")))
    return 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:4]))
