# Copyright: iotops.dps_tls contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""ARM's cloud metadata endpoint, so tools that take a cloud as a URL (azure.azcollection's
cloud_environment, azure-cli's ARM_CLOUD_METADATA_URL) find the emulator's endpoints. Unauthenticated, as in Azure."""

from dpsemu.server import Response

CLOUD_NAME = "DpsEmulator"


def endpoints(app, request):
    url = app.base_url
    version = request.query.get("api-version", "")
    if version >= "2019-05-01":
        # The newer form: a list of clouds (here one), as azure-cli-core reads it.
        return Response(200, [{
            "name": CLOUD_NAME,
            "resourceManager": url,
            "portal": url,
            "gallery": url,
            "graph": url,
            "graphAudience": url,
            "authentication": {"loginEndpoint": url, "audiences": [url], "tenant": "common",
                               "identityProvider": "AAD"},
            "suffixes": {},
        }])
    # The older form (api-version 2015-01-01 and before): the cloud that answers.
    return Response(200, {
        "galleryEndpoint": url,
        "graphEndpoint": url,
        "portalEndpoint": url,
        "authentication": {"loginEndpoint": url, "audiences": [url]},
    })


def register(router):
    router.add("GET", "/metadata/endpoints", endpoints)
