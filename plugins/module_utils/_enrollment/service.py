# Copyright: iotops.dps_tls contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The DPS service API (data plane) over a thin azure-core pipeline, with the ARM facts it needs.

The instance (its service host name), its CA certificates and, for auth_mode shared_access_key, its keys are
read through ARM with the same credential as every other module. The service API itself is called with an Entra
token for https://azure-devices-provisioning.net or a SharedAccessSignature made from the listKeys answer, with
the same retry policy and CA bundle as ARM.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import time
import urllib.parse

from ansible_collections.iotops.dps_tls.plugins.module_utils._azure import auth
from ansible_collections.iotops.dps_tls.plugins.module_utils._azure import client as arm_client
from ansible_collections.iotops.dps_tls.plugins.module_utils._azure.errors import (
    AzureApiError, AzureAuthenticationError, is_missing_resource)
from ansible_collections.iotops.dps_tls.plugins.module_utils._common.errors import (
    DpsTlsError, MissingDependencyError)
from ansible_collections.iotops.dps_tls.plugins.module_utils._enrollment.model import check_service_endpoint

API_VERSION = '2021-10-01'
SERVICE_SCOPE = 'https://azure-devices-provisioning.net/.default'
ENDPOINT_ENV = 'DPS_SERVICE_ENDPOINT'
OWNER_POLICY = 'provisioningserviceowner'
SAS_LIFETIME = 3600


class EtagConflict(DpsTlsError):
    """The service answered 412: the item changed since it was read."""


def shared_access_signature(host, policy, key, now=None):
    """DPS's SharedAccessSignature for host, signed with a base64 key of the policy."""
    expiry = int((now or time.time()) + SAS_LIFETIME)
    resource = urllib.parse.quote_plus(host.lower())
    signed = ('%s\n%d' % (resource, expiry)).encode('utf-8')
    signature = base64.b64encode(hmac.new(base64.b64decode(key), signed, hashlib.sha256).digest()).decode('ascii')
    return 'SharedAccessSignature sr=%s&sig=%s&se=%d&skn=%s' % (
        resource, urllib.parse.quote_plus(signature), expiry, policy)


def service_url(params, host):
    """Where the service API of the instance with this host name is: https://{host} unless service_endpoint says.

    service_endpoint (or DPS_SERVICE_ENDPOINT) may hold {host}, so one value serves every instance.
    """
    endpoint = params.get('service_endpoint')
    option = 'service_endpoint'
    if not endpoint and os.environ.get(ENDPOINT_ENV):
        endpoint, option = os.environ[ENDPOINT_ENV], ENDPOINT_ENV
    if not endpoint:
        return 'https://%s' % host
    check_service_endpoint(endpoint, option)
    return endpoint.replace('{host}', host).rstrip('/')


def _policies(credential, signature, waiter):
    from azure.core.pipeline.policies import (
        BearerTokenCredentialPolicy, HeadersPolicy, SansIOHTTPPolicy, UserAgentPolicy)

    class SignaturePolicy(SansIOHTTPPolicy):
        def on_request(self, request):
            request.http_request.headers['Authorization'] = signature()

    auth = SignaturePolicy() if signature else BearerTokenCredentialPolicy(credential, SERVICE_SCOPE)
    return [HeadersPolicy(), UserAgentPolicy(base_user_agent='iotops.dps_tls'),
            arm_client.retry_policy(waiter), auth]


class ServiceApi:
    """enrollmentGroups/enrollments/registrations of one DPS instance; answers are plain dicts or None (404)."""

    def __init__(self, azure, params):
        self.azure = azure
        self.params = params
        self.dps_name = params['dps_name']
        self.arm = azure.dps_client()
        self.where = dict(provisioning_service_name=self.dps_name, resource_group_name=params['resource_group'])
        self.host = self._service_host()
        self.base_url = service_url(params, self.host)
        self._pipeline = None

    def _service_host(self):
        from azure.core.exceptions import ResourceNotFoundError
        with self.azure.azure_errors('reading DPS instance %s' % self.dps_name):
            try:
                raw = self.arm.iot_dps_resource.get(**self.where).as_dict()
            except ResourceNotFoundError as exc:
                if not is_missing_resource(exc):
                    raise
                raise DpsTlsError('DPS instance %s does not exist in resource group %s' % (
                    self.dps_name, self.params['resource_group']), error_kind='not_found') from exc
        properties = raw.get('properties') or {}
        self.linked_hubs = [hub.get('name') for hub in properties.get('iotHubs') or [] if hub.get('name')]
        return properties.get('serviceOperationsHostName')

    def ca_certificate(self, name):
        """The CA certificate `name` on the instance as ARM returns it (a dict), or None."""
        from azure.core.exceptions import ResourceNotFoundError
        with self.azure.azure_errors('reading certificate %s of DPS instance %s' % (name, self.dps_name)):
            try:
                return self.arm.dps_certificate.get(certificate_name=name, **self.where).as_dict()
            except ResourceNotFoundError as exc:
                if not is_missing_resource(exc):
                    raise
                return None

    def _signature(self):
        with self.azure.azure_errors('listing the shared access keys of DPS instance %s' % self.dps_name):
            rules = [rule.as_dict() for rule in self.arm.iot_dps_resource.list_keys(**self.where)]
        chosen = [r for r in rules if r.get('keyName') == OWNER_POLICY] or \
            [r for r in rules if 'EnrollmentWrite' in (r.get('rights') or '')]
        if not chosen:
            raise AzureAuthenticationError('auth_mode shared_access_key: DPS instance %s has no shared access policy '
                                           'with EnrollmentWrite rights' % self.dps_name, option='auth_mode')
        rule = chosen[0]
        return lambda: shared_access_signature(self.host, rule['keyName'], rule['primaryKey'])

    def pipeline(self):
        if self._pipeline is None:
            try:
                from azure.core import PipelineClient
                from azure.core.pipeline.transport import RequestsTransport
            except ImportError as exc:
                raise MissingDependencyError('azure-core', 'to call the DPS service API', error=exc)
            signature = self._signature() if self.params.get('auth_mode') == 'shared_access_key' else None
            # The same credential choice as ARM's (auth_source and friends), asked for the service API's audience.
            credential = None if signature else self.azure.credential()
            settings = auth.AzureSettings(self.params)
            self._pipeline = PipelineClient(self.base_url, policies=_policies(credential, signature, self.azure.waiter()),
                                            transport=RequestsTransport(**settings.transport_kwargs()))
        return self._pipeline

    def call(self, method, path, operation, body=None, headers=None):
        """(status, parsed body, response headers); 404 gives (404, None, ...); other errors raise."""
        from azure.core.rest import HttpRequest
        url = '%s/%s?api-version=%s' % (self.base_url, path, API_VERSION)
        request = HttpRequest(method, url, json=body, headers=dict(headers or {}, Accept='application/json'))
        with self.azure.azure_errors(operation):
            response = self.pipeline().send_request(request, stream=False)
        text = response.text() if response.content else ''
        parsed = json.loads(text) if text.strip() else None
        if response.status_code == 404 and method in ('GET', 'DELETE'):
            return 404, None, response.headers
        if response.status_code >= 400:
            raise self._error(operation, response.status_code, parsed, response.headers)
        return response.status_code, parsed, response.headers

    def _error(self, operation, status, body, headers):
        body = body if isinstance(body, dict) else {}
        code = body.get('errorCode') or headers.get('x-ms-error-code')
        message = '%s failed: HTTP %d%s: %s' % (operation, status, ' (errorCode %s)' % code if code else '',
                                                body.get('message') or 'no message')
        details = dict(status=status, error_code=code, operation=operation)
        if status == 412:
            return EtagConflict(message, error_kind='precondition_failed', **details)
        if status in (401, 403):
            hint = (' - with auth_mode entra the identity needs the "Device Provisioning Service Data Contributor" '
                    'role (or Data Reader to read) on the instance; auth_mode shared_access_key uses a key from '
                    'listKeys instead. Network rules (public network access, IP filter rules for the service API) '
                    'are refused the same way')
            return AzureAuthenticationError(message + hint, error_kind='authorization', **details)
        return AzureApiError(message, error_kind='api', **details)

    def get(self, kind, item):
        return self.call('GET', '%s/%s' % (kind, urllib.parse.quote(item, safe='')),
                         'reading %s %s of DPS instance %s' % (kind[:-1], item, self.dps_name))[1]

    def put(self, kind, item, body, etag=None):
        headers = {'If-Match': etag} if etag else {}
        return self.call('PUT', '%s/%s' % (kind, urllib.parse.quote(item, safe='')),
                         'writing %s %s of DPS instance %s' % (kind[:-1], item, self.dps_name), body=body,
                         headers=headers)[1]

    def delete(self, kind, item, etag):
        self.call('DELETE', '%s/%s' % (kind, urllib.parse.quote(item, safe='')),
                  'deleting %s %s of DPS instance %s' % (kind[:-1], item, self.dps_name), headers={'If-Match': etag})

    def query(self, path, what):
        """Every item of a query, page after page (x-ms-continuation)."""
        items, continuation = [], None
        while True:
            headers = {'x-ms-continuation': continuation} if continuation else {}
            _status, page, answer = self.call('POST', path, 'listing %s of DPS instance %s' % (what, self.dps_name),
                                              body={'query': 'SELECT *'}, headers=headers)
            items.extend(page or [])
            continuation = answer.get('x-ms-continuation')
            if not continuation:
                return items
