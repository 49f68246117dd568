# Copyright: iotops.dps_tls contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Turn azure-core and azure-identity exceptions into one clear collection error.

An authentication failure is always reported as one: it is never mistaken for "the resource does not exist".
"""

from __future__ import annotations

import contextlib

from ansible_collections.iotops.dps_tls.plugins.module_utils._common.errors import DpsTlsError


class AzureAuthenticationError(DpsTlsError):
    """Azure refused the credentials, or no token could be obtained."""


class AzureApiError(DpsTlsError):
    """Azure Resource Manager answered with an error."""


class AzureConnectionError(DpsTlsError):
    """The endpoint could not be reached (DNS, TCP, TLS verification)."""


class AzureTimeoutError(DpsTlsError):
    """An operation did not finish within the task's timeout."""


def _response_facts(exc):
    """HTTP status, service error code, message and request id of an HttpResponseError, where known."""
    response = getattr(exc, 'response', None)
    status = getattr(exc, 'status_code', None) or getattr(response, 'status_code', None)
    error = getattr(exc, 'error', None)
    code = getattr(error, 'code', None)
    message = getattr(error, 'message', None) or getattr(exc, 'message', None) or str(exc)
    request_id = None
    if response is not None and getattr(response, 'headers', None) is not None:
        headers = response.headers
        request_id = headers.get('x-ms-request-id') or headers.get('x-ms-correlation-request-id')
    return status, code, message, request_id


def _token_service(exc):
    """scheme://host/path of the answering endpoint when it is a token service (no query: it may name ids)."""
    url = getattr(getattr(getattr(exc, 'response', None), 'request', None), 'url', None)
    if not url:
        return None
    base = str(url).split('?', 1)[0]
    return base if '/oauth2/' in base or base.endswith(('/token', '/oidctoken')) else None


# ARM answers 404 both for a resource that does not exist and for a subscription it cannot find; only the error code
# tells them apart, and a wrong subscription must never read as "the resource is absent".
SUBSCRIPTION_NOT_FOUND = 'SubscriptionNotFound'


def is_missing_resource(exc):
    """True for a 404 that means the resource itself does not exist (not its subscription)."""
    return _response_facts(exc)[1] != SUBSCRIPTION_NOT_FOUND


def _api_message(operation, status, code, message, request_id):
    if status is not None and status < 400:
        # The request was accepted; the long-running operation behind it ended Failed or Canceled.
        text = '%s failed: the operation ended unsuccessfully' % operation
        if code:
            text += ' (%s)' % code
    else:
        text = '%s failed: HTTP %s' % (operation, status)
        if code:
            text += ' %s' % code
    text += ': %s' % message.strip().splitlines()[0] if message else ''
    if request_id:
        text += ' (x-ms-request-id %s)' % request_id
    return text


def map_azure_error(exc, operation, credential_description=None):
    """The collection error for an azure-core/azure-identity exception, or None when exc is not one of theirs."""
    try:
        from azure.core import exceptions as core
    except ImportError:
        return None
    if not isinstance(exc, core.AzureError):
        return None
    who = credential_description or 'the configured credentials'
    status, code, message, request_id = _response_facts(exc)
    details = dict(status=status, error_code=code, request_id=request_id, operation=operation)
    details = dict((k, v) for k, v in details.items() if v is not None)
    text = str(exc)
    if 'CERTIFICATE_VERIFY_FAILED' in text or 'certificate verify failed' in text:
        # azure-identity wraps a TLS failure of the token request as an authentication error: it is not one.
        return AzureConnectionError('%s failed: the TLS certificate of an Azure endpoint could not be verified (set '
                                    'ca_bundle for a private cloud or the emulator): %s' % (
                                        operation, text.strip().splitlines()[0]),
                                    error_kind='connection', operation=operation)
    if isinstance(exc, core.ClientAuthenticationError) or status == 401:
        # azure-identity raises ClientAuthenticationError (or its CredentialUnavailableError) with no response when
        # no token could be had; ARM answers 401 when it rejects the token (e.g. the wrong audience). A token
        # service that refuses the request itself (Azure DevOps' OIDC endpoint, Entra ID) answers 401 too: say which.
        token_service = _token_service(exc)
        facts = '%s%s' % (' %s' % code if code else '', ', x-ms-request-id %s' % request_id if request_id else '')
        if status == 401 and token_service:
            where = 'the token service %s refused the request (HTTP 401%s)' % (token_service, facts)
            if 'oidctoken' in token_service:
                where += ('; for auth_source azure_pipelines the step must map $(System.AccessToken) to '
                          'SYSTEM_ACCESSTOKEN and the pipeline must be allowed to use the service connection')
        elif status == 401:
            where = 'Azure Resource Manager rejected the token (HTTP 401%s)' % facts
        else:
            where = 'no token could be obtained'
        first_line = (message or str(exc)).strip().splitlines()[0] if (message or str(exc)).strip() else ''
        return AzureAuthenticationError('Authentication failed during %s with %s: %s: %s' % (
            operation, who, where, first_line), error_kind='authentication', **details)
    if status == 403:
        return AzureAuthenticationError(
            _api_message(operation, status, code, message, request_id) +
            ' - the identity (%s) is authenticated but lacks permission' % who,
            error_kind='authorization', **details)
    if isinstance(exc, core.ServiceRequestError):
        return AzureConnectionError('%s failed: cannot reach Azure: %s (check resource_manager_endpoint, '
                                    'authority_host and ca_bundle)' % (operation, exc),
                                    error_kind='connection', operation=operation)
    if isinstance(exc, core.ServiceResponseError):
        return AzureConnectionError('%s failed: the connection broke while waiting for Azure: %s' % (operation, exc),
                                    error_kind='connection', operation=operation)
    if isinstance(exc, core.HttpResponseError) and code == SUBSCRIPTION_NOT_FOUND:
        return AzureApiError(_api_message(operation, status, code, message, request_id) +
                             ' - check subscription_id (or AZURE_SUBSCRIPTION_ID): Azure does not know this '
                             'subscription, or the identity (%s) cannot see it' % who,
                             error_kind='subscription_not_found', option='subscription_id', **details)
    if isinstance(exc, core.HttpResponseError):
        return AzureApiError(_api_message(operation, status, code, message, request_id), error_kind='api', **details)
    return AzureApiError('%s failed: %s' % (operation, exc), error_kind='api', operation=operation)


@contextlib.contextmanager
def azure_errors(operation, credential_description=None):
    """Re-raise Azure SDK exceptions from the block as collection errors; anything else passes through untouched."""
    try:
        yield
    except DpsTlsError:
        raise
    except Exception as exc:  # pylint: disable=broad-except
        mapped = map_azure_error(exc, operation, credential_description)
        if mapped is None:
            raise
        raise mapped from exc
