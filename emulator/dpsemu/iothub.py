# Copyright: iotops.dps_tls contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Just enough of Microsoft.Devices/IotHubs for reading a linked hub's own TLS floor.

Hubs are planted through the control API (POST /_emulator/iothubs) and read through ARM (GET one, list by
resource group or subscription), with ARM's token, api-version and subscription checks.
"""

from dpsemu import arm, dps
from dpsemu.server import ApiError, Response

HUBS = "iotHubs"
HUB_TYPE = "Microsoft.Devices/IotHubs"
LIST = arm.SUB + r"(?:" + arm.RG + r")?" + arm.PROVIDER + r"/IotHubs"


def representation(app, record):
    hub_id = "/subscriptions/%s/resourceGroups/%s/providers/%s/%s" % (
        app.identity.subscription_id, record["resourceGroup"], HUB_TYPE, record["name"])
    props = {"hostName": "%s.azure-devices.net" % record["name"].lower(), "state": "Active",
             "provisioningState": "Succeeded"}
    if record.get("minTlsVersion") is not None:
        props["minTlsVersion"] = record["minTlsVersion"]
    return {"id": hub_id, "name": record["name"], "type": HUB_TYPE, "location": record["location"],
            "sku": {"name": "S1", "tier": "Standard", "capacity": 1}, "etag": record["etag"], "properties": props}


def list_hubs(app, request, sub, rg=None):
    arm._guard(app, request, sub)  # pylint: disable=protected-access
    with app.store.lock:
        hubs = app.store.section(HUBS).values()
        return Response(200, {"value": [representation(app, h) for h in sorted(hubs, key=lambda h: h["name"])
                                        if rg is None or h["resourceGroup"].lower() == rg.lower()]})


def get_hub(app, request, sub, rg, name):
    arm._guard(app, request, sub)  # pylint: disable=protected-access
    with app.store.lock:
        record = app.store.section(HUBS).get(name.lower())
    if record is None or record["resourceGroup"].lower() != rg.lower():
        raise ApiError(404, "ResourceNotFound", "The Resource '%s/%s' under resource group '%s' was not found."
                       % (HUB_TYPE, name, rg))
    return Response(200, representation(app, record))


def plant(app, request):
    """Test control: a finished hub {name, resourceGroup, location, minTlsVersion?}."""
    body = request.json()
    if not isinstance(body, dict) or not all(isinstance(body.get(k), str) for k in ("name", "resourceGroup", "location")):
        raise ApiError(400, "InvalidRequestContent", "A hub needs name, resourceGroup and location.")
    record = {"name": body["name"], "resourceGroup": body["resourceGroup"], "location": body["location"],
              "minTlsVersion": body.get("minTlsVersion"), "etag": dps.new_etag()}
    with app.store.lock:
        app.store.section(HUBS)[body["name"].lower()] = record
        app.store.save()
    return Response(201, representation(app, record))


def register(router):
    router.add("GET", LIST, list_hubs)
    router.add("GET", arm.SUB + arm.RG + arm.PROVIDER + r"/IotHubs/(?P<name>[^/]+)", get_hub)
    router.add("POST", "/_emulator/iothubs", plant)
