# Copyright: iotops.dps_tls contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Fetches the real azure-iot-device packages the test installs into device images, once, into CACHE.

    python fetch_sdks.py CACHE

PyPI wheels with pip download, npm tarballs with npm pack; both through the registries' own clients.
Already cached files are not fetched again, so later runs are offline.
"""

from __future__ import annotations

import glob
import os
import subprocess
import sys

PYPI = {"old": "2.0.0rc13", "new": "2.14.0"}
NPM = {"old": "1.11.2", "new": "1.18.4"}


def main(cache):
    os.makedirs(os.path.join(cache, "pypi"), exist_ok=True)
    os.makedirs(os.path.join(cache, "npm"), exist_ok=True)
    for version in PYPI.values():
        if not glob.glob(os.path.join(cache, "pypi", "azure_iot_device-%s-*.whl" % version)):
            subprocess.run([sys.executable, "-m", "pip", "download", "-q", "--no-deps", "--only-binary=:all:",
                            "-d", os.path.join(cache, "pypi"), "azure-iot-device==%s" % version], check=True)
    for version in NPM.values():
        if not os.path.exists(os.path.join(cache, "npm", "azure-iot-device-%s.tgz" % version)):
            subprocess.run(["npm", "pack", "--silent", "--pack-destination", os.path.join(cache, "npm"),
                            "azure-iot-device@%s" % version], check=True, stdout=subprocess.DEVNULL)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
