# Copyright: iotops.dps_tls contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The service API client's offline parts: where the API is, shared access signatures, error mapping."""

from __future__ import annotations

import base64
import hashlib
import hmac
import urllib.parse

import pytest

from ansible_collections.iotops.dps_tls.plugins.module_utils._azure.errors import AzureAuthenticationError
from ansible_collections.iotops.dps_tls.plugins.module_utils._common.errors import InvalidInputError
from ansible_collections.iotops.dps_tls.plugins.module_utils._enrollment import service

HOST = 'dps-fleet.azure-devices-provisioning.net'


def test_the_service_api_is_at_the_instance_host_by_default(monkeypatch):
    monkeypatch.delenv(service.ENDPOINT_ENV, raising=False)
    assert service.service_url({}, HOST) == 'https://' + HOST


def test_a_service_endpoint_with_host_serves_every_instance(monkeypatch):
    monkeypatch.setenv(service.ENDPOINT_ENV, 'https://127.0.0.1:4443/dps/{host}/')
    assert service.service_url({}, HOST) == 'https://127.0.0.1:4443/dps/' + HOST
    assert service.service_url({'service_endpoint': 'https://proxy.example'}, HOST) == 'https://proxy.example'


def test_a_plain_http_endpoint_is_refused():
    with pytest.raises(InvalidInputError) as caught:
        service.service_url({'service_endpoint': 'http://127.0.0.1:1'}, HOST)
    assert caught.value.option == 'service_endpoint'


def test_the_signature_is_hmac_sha256_of_the_url_encoded_host_and_expiry():
    key = base64.b64encode(b'k' * 32).decode('ascii')
    token = service.shared_access_signature(HOST.upper(), 'provisioningserviceowner', key, now=1000)
    fields = dict(urllib.parse.parse_qsl(token.split(' ', 1)[1]))
    expected = base64.b64encode(hmac.new(b'k' * 32, ('%s\n%d' % (HOST, 1000 + service.SAS_LIFETIME)).encode(),
                                         hashlib.sha256).digest()).decode('ascii')
    assert token.startswith('SharedAccessSignature ')
    assert fields == {'sr': HOST, 'sig': expected, 'se': str(1000 + service.SAS_LIFETIME),
                      'skn': 'provisioningserviceowner'}


def test_errors_keep_dps_error_code_and_say_what_to_do():
    api = service.ServiceApi.__new__(service.ServiceApi)
    conflict = api._error('writing', 412, {'errorCode': 412002, 'message': 'etag'}, {})
    refused = api._error('reading', 401, {'errorCode': 401002, 'message': 'Unauthorized'}, {})
    assert isinstance(conflict, service.EtagConflict) and '412002' in conflict.message
    assert isinstance(refused, AzureAuthenticationError)
    assert 'Device Provisioning Service Data Contributor' in refused.message and refused.details['status'] == 401
