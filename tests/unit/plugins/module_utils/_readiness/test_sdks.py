# Copyright: iotops.dps_tls contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""SDK discovery in each language's own layout, and the version comparison against the minimums."""

from __future__ import annotations

import json
import zipfile

import pytest

from ansible_collections.iotops.dps_tls.plugins.module_utils._readiness import sdks


@pytest.mark.parametrize("version, minimum, ok", [
    ("2.0.0", "2.0.0", True),
    ("2.0.0rc13", "2.0.0", False),
    ("1.12.2", "1.12.2", True),
    ("1.12.0-preview.2", "1.12.2", False),
    ("1.9.9", "1.12.2", False),
    ("1.41.3", "1.21.4", True),
    ("1.21", "1.21.4", False),
    ("garbage", "1.0.0", False),
    (None, "1.0.0", False),
])
def test_is_new_enough(version, minimum, ok):
    assert sdks.is_new_enough(version, minimum) is ok


def write(path, text=""):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


def test_every_language_in_its_layout(tmp_path):
    write(tmp_path / "usr/lib/python3/dist-packages/azure_iot_device-2.0.0rc13.dist-info/METADATA",
          "Metadata-Version: 2.1\nName: azure-iot-device\nVersion: 2.0.0rc13\n\nbody\n")
    write(tmp_path / "opt/venv/lib/python3.9/site-packages/azure_iot_device-2.14.0.dist-info/METADATA",
          "Name: azure-iot-device\nVersion: 2.14.0\n")
    write(tmp_path / "usr/lib/node_modules/azure-iot-device/package.json", json.dumps({"version": "1.18.4"}))
    write(tmp_path / "app/node_modules/x/node_modules/azure-iot-device/package.json", json.dumps({"version": "1.9.9"}))
    write(tmp_path / "app/lib/iot-device-client-1.17.5.jar")
    (tmp_path / "app/fat").mkdir(parents=True)
    with zipfile.ZipFile(str(tmp_path / "app/fat/all.jar"), "w") as jar:
        jar.writestr(sdks.JAVA_POM, "version=2.1.0\n")
    write(tmp_path / "app/net/App.deps.json", json.dumps({"libraries": {"Microsoft.Azure.Devices.Client/1.41.0": {}}}))
    (tmp_path / "app/nuget/microsoft.azure.devices.client/1.18.0").mkdir(parents=True)
    (tmp_path / "app/packages/Microsoft.Azure.Devices.Client.1.21.4").mkdir(parents=True)

    found = sdks.find_sdks(str(tmp_path), python_paths=["/opt/venv"], app_paths=["/app"])
    summary = sorted((s["language"], s["version"], s["ok"]) for s in found)
    assert summary == [
        ("dotnet", "1.18.0", False), ("dotnet", "1.21.4", True), ("dotnet", "1.41.0", True),
        ("java", "1.17.5", False), ("java", "2.1.0", True),
        ("nodejs", "1.18.4", True), ("nodejs", "1.9.9", False),
        ("python", "2.0.0rc13", False), ("python", "2.14.0", True),
    ]
    assert all(s["path"].startswith(str(tmp_path)) for s in found)


def test_only_names_that_are_wholly_an_sdk_count(tmp_path):
    write(tmp_path / "usr/lib/python3/dist-packages/azure_iot_device-1.0.0.dist-info\n/METADATA",
          "Name: azure-iot-device\nVersion: 1.0.0\n")
    write(tmp_path / "app/lib/iot-device-client-1.0.0.jar\n")
    write(tmp_path / "app/lib/iot-device-client-1.0.0.jar.orig")
    assert sdks.find_sdks(str(tmp_path), app_paths=["/app"]) == []


def test_nothing_found_in_an_empty_image(tmp_path):
    assert sdks.find_sdks(str(tmp_path), app_paths=["/missing"]) == []


def test_an_image_is_read_as_the_image_sees_itself_and_special_files_never_block(tmp_path):
    import os
    host = tmp_path / "host"
    write(host / "site-packages/azure_iot_device-2.14.0.dist-info/METADATA", "Version: 2.14.0\n")
    write(host / "package.json", json.dumps({"version": "1.18.4"}))
    image = tmp_path / "image"
    # an absolute link in the image means the image's own (missing) folder, never this host's
    (image / "opt/app/lib/python3.11").mkdir(parents=True)
    (image / "opt/app/lib/python3.11/site-packages").symlink_to(str(host / "site-packages"))
    modules = image / "srv/app/node_modules/azure-iot-device"
    modules.mkdir(parents=True)
    (modules / "package.json").symlink_to(str(host / "package.json"))
    fifo_app = image / "srv/fifo/node_modules/azure-iot-device"
    fifo_app.mkdir(parents=True)
    os.mkfifo(str(fifo_app / "package.json"))
    os.mkfifo(str(image / "srv/fifo/app.deps.json"))
    os.mkfifo(str(image / "srv/fifo/fat.jar"))
    found = sdks.find_sdks(str(image), python_paths=["/opt/app"], app_paths=["/srv"])
    assert [e for e in found if e["version"] is not None] == []
    assert all(str(host) not in e["path"] for e in found)
