# Copyright: iotops.dps_tls contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Linked hubs' TLS floor: matched by host name, unseen hubs reported as such, the optional package named."""

from __future__ import annotations

import sys

import pytest

from ansible_collections.iotops.dps_tls.plugins.module_utils._common.errors import MissingDependencyError
from ansible_collections.iotops.dps_tls.plugins.module_utils._hubs import tls


def test_a_missing_azure_mgmt_iothub_is_named(monkeypatch):
    monkeypatch.setitem(sys.modules, 'azure.mgmt.iothub', None)
    with pytest.raises(MissingDependencyError) as caught:
        tls._hub_client(object())
    assert caught.value.package == 'azure-mgmt-iothub' and 'linked_hub_tls' in caught.value.message


def test_hubs_are_matched_by_host_name_without_case(monkeypatch):
    monkeypatch.setattr(tls, 'hub_floors', lambda azure: {'hub-a.azure-devices.net': '1.2',
                                                          'hub-b.azure-devices.net': None})
    instances = [{'linked_hubs': [{'name': 'HUB-A.azure-devices.net'}, {'name': 'hub-b.azure-devices.net'},
                                  {'name': 'hub-c.azure-devices.net'}]}]
    hubs = tls.add_linked_hub_tls(None, instances)[0]['linked_hubs']
    assert [(h['min_tls_version'], h['iot_hub_found']) for h in hubs] == [('1.2', True), (None, True), (None, False)]


def test_no_linked_hub_means_no_call(monkeypatch):
    def fail(azure):
        raise AssertionError('listed hubs for an instance without any')
    monkeypatch.setattr(tls, 'hub_floors', fail)
    assert tls.add_linked_hub_tls(None, [{'linked_hubs': []}]) == [{'linked_hubs': []}]
