# Copyright: iotops.dps_tls contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Installed into the bench virtualenv only (as dpsbench_azcloud_shim, loaded by a .pth line).

azure.azcollection resolves a `cloud_environment` given as a URL with
`azure.cli.core.cloud.get_cloud_from_metadata_endpoint`, a function the azure-cli-core it pins no longer has:
every such run fails with "'AttributeError' object has no attribute 'message'". Without a URL it can only reach
the public clouds, never the emulator. When DPSBENCH_AZCLOUD_SHIM=1, this adds that one function back: it reads
`<url>/metadata/endpoints` (one HTTPS GET, counted in the bench's request numbers) and builds the cloud with
azure-cli-core's own mapper. Nothing else of azure.azcollection is changed.
"""

import os
import sys

TARGET = "azure.cli.core.cloud"


def get_cloud_from_metadata_endpoint(arm_endpoint, name=None, session=None):
    import requests  # pylint: disable=import-outside-toplevel
    from azure.cli.core import cloud  # pylint: disable=import-outside-toplevel

    # requests, as azure.azcollection's older resolver used: it trusts REQUESTS_CA_BUNDLE, like the rest of the run.
    response = (session or requests).get(arm_endpoint.rstrip("/") + "/metadata/endpoints",
                                         params={"api-version": "2019-05-01"}, timeout=30)
    response.raise_for_status()
    clouds = cloud._convert_arm_to_cli(response.json())  # pylint: disable=protected-access
    if name and name in clouds:
        return clouds[name]
    return next(iter(clouds.values()))


class _Finder:
    """Lets azure.cli.core.cloud import as usual, then adds the function to it."""

    @staticmethod
    def find_spec(fullname, path=None, target=None):  # pylint: disable=unused-argument
        if fullname != TARGET:
            return None
        sys.meta_path.remove(_Finder)
        try:
            import importlib.util  # pylint: disable=import-outside-toplevel
            spec = importlib.util.find_spec(fullname)
        finally:
            sys.meta_path.insert(0, _Finder)
        if spec is None:
            return None
        real_exec = spec.loader.exec_module

        def exec_module(module):
            real_exec(module)
            if not hasattr(module, "get_cloud_from_metadata_endpoint"):
                module.get_cloud_from_metadata_endpoint = get_cloud_from_metadata_endpoint

        spec.loader.exec_module = exec_module
        return spec


if os.environ.get("DPSBENCH_AZCLOUD_SHIM") == "1" and _Finder not in sys.meta_path:
    sys.meta_path.insert(0, _Finder)
