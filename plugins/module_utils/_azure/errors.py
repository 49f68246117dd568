# Copyright: iotops.dps_tls contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Turn azure-core and azure-identity exceptions into one clear collection error.

An authentication failure is always reported as one, and a 404 means "absent" only when Azure says that the
resource itself is absent: a missing subscription or resource group, or an answer from something that is not
Azure Resource Manager, fails naming the option at fault.
"""

from __future__ import annotations

import contextlib
import json

from ansible_collections.iotops.dps_tls.plugins.module_utils._common.errors import DpsTlsError


class AzureAuthenticationError(DpsTlsError):
    """Azure refused the credentials, or no token could be obtained."""


class AzureApiError(DpsTlsError):
    """Azure Resource Manager answered with an error."""


class AzureConnectionError(DpsTlsError):
    """The endpoint could not be reached (DNS, TCP, TLS verification), or the connection broke."""


class AzureTimeoutError(DpsTlsError):
    """An operation did not finish within the task's timeout."""


# The codes that say "this very resource does not exist": ARM's own, and the one DPS gives for a certificate.
ABSENT_CODES = ('ResourceNotFound', 'CertificateNotFound')

# A 404 with any other code names something else that is missing: (error_kind, option, what to check).
NOT_FOUND_CODES = {
    'SubscriptionNotFound': (
        'subscription_not_found', 'subscription_id',
        'check subscription_id (or AZURE_SUBSCRIPTION_ID): Azure does not know this subscription, or the identity '
        '(%(who)s) cannot see it'),
    'ResourceGroupNotFound': (
        'resource_group_not_found', 'resource_group',
        'check resource_group: it does not exist in this subscription (create it first; nothing was written)'),
}
# Any other 404 (an unknown route, InvalidResourceType, or no ARM error body at all).
UNKNOWN_ROUTE = (
    'not_resource_manager', 'resource_manager_endpoint',
    'check resource_manager_endpoint: the endpoint did not answer as Azure Resource Manager does for this '
    'resource (unknown route or resource type, or not an ARM endpoint), so the resource cannot be called absent')

# The connection broke after the request was sent: the service may or may not have applied it.
ANSWER_LOST = 'answer_lost'
UNKNOWN_OUTCOME = ('the outcome is unknown: the connection broke after the request was sent, so Azure may have '
                   'applied it; run the task again: it reads the current state and converges')


def _body_code(response):
    """The error code of a body that is not in ARM's {"error": {...}} shape (DPS's ErrorDetails: {"code": ...})."""
    try:
        body = json.loads(response.text())
    except Exception:  # pylint: disable=broad-except
        return None
    if not isinstance(body, dict):
        return None
    code = body.get('code') or body.get('Code')
    return str(code) if code else None


def _response_facts(exc):
    """HTTP status, service error code, message and request id of an HttpResponseError, where known."""
    response = getattr(exc, 'response', None)
    status = getattr(exc, 'status_code', None) or getattr(response, 'status_code', None)
    error = getattr(exc, 'error', None)
    code = getattr(error, 'code', None)
    if code is None and response is not None and hasattr(response, 'text'):
        code = _body_code(response)
    message = getattr(error, 'message', None) or getattr(exc, 'message', None) or str(exc)
    request_id = None
    if response is not None and getattr(response, 'headers', None) is not None:
        headers = response.headers
        request_id = headers.get('x-ms-request-id') or headers.get('x-ms-correlation-request-id')
    return status, code, message, request_id


def is_missing_resource(exc):
    """True for a 404 that means the resource itself does not exist (and nothing else)."""
    status, code = _response_facts(exc)[:2]
    return status == 404 and code in ABSENT_CODES


def read_or_none(azure_errors, operation, read):
    """read(), or None when Azure says the resource is absent; any other error is mapped and raised."""
    from azure.core.exceptions import HttpResponseError
    with azure_errors(operation):
        try:
            return read()
        except HttpResponseError as exc:
            if is_missing_resource(exc):
                return None
            raise


def _token_service(exc):
    """scheme://host/path of the answering endpoint when it is a token service (no query: it may name ids)."""
    url = getattr(getattr(getattr(exc, 'response', None), 'request', None), 'url', None)
    if not url:
        return None
    base = str(url).split('?', 1)[0]
    return base if '/oauth2/' in base or base.endswith(('/token', '/oidctoken')) else None


def _first_line(text):
    text = (text or '').strip()
    return text.splitlines()[0] if text else ''


def _api_message(facts):
    operation, status, code, message, request_id = (facts[k] for k in (
        'operation', 'status', 'code', 'message', 'request_id'))
    if status is not None and status < 400:
        # The request was accepted; the long-running operation behind it ended Failed or Canceled.
        text = '%s failed: the operation ended unsuccessfully%s' % (operation, ' (%s)' % code if code else '')
    else:
        text = '%s failed: HTTP %s%s' % (operation, status, ' %s' % code if code else '')
    text += ': %s' % _first_line(message) if message else ''
    if request_id:
        text += ' (x-ms-request-id %s)' % request_id
    return text


def _tls_failure(facts):
    # azure-identity wraps a TLS failure of the token request as an authentication error: it is not one.
    return AzureConnectionError('%s failed: the TLS certificate of an Azure endpoint could not be verified (set '
                                'ca_bundle for a private cloud or the emulator): %s' % (
                                    facts['operation'], _first_line(facts['text'])),
                                error_kind='connection', operation=facts['operation'])


def _authentication(facts):
    # azure-identity raises ClientAuthenticationError (or its CredentialUnavailableError) with no response when no
    # token could be had; ARM answers 401 when it rejects the token (e.g. the wrong audience). A token service that
    # refuses the request itself (Azure DevOps' OIDC endpoint, Entra ID) answers 401 too: say which.
    token_service, code, request_id = facts['token_service'], facts['code'], facts['request_id']
    extra = '%s%s' % (' %s' % code if code else '', ', x-ms-request-id %s' % request_id if request_id else '')
    if facts['status'] == 401 and token_service:
        where = 'the token service %s refused the request (HTTP 401%s)' % (token_service, extra)
        if 'oidctoken' in token_service:
            where += ('; for auth_source azure_pipelines the step must map $(System.AccessToken) to '
                      'SYSTEM_ACCESSTOKEN and the pipeline must be allowed to use the service connection')
    elif facts['status'] == 401:
        where = 'Azure Resource Manager rejected the token (HTTP 401%s)' % extra
    else:
        where = 'no token could be obtained'
    return AzureAuthenticationError('Authentication failed during %s with %s: %s: %s' % (
        facts['operation'], facts['who'], where, _first_line(facts['message'] or facts['text'])),
        error_kind='authentication', **facts['details'])


def _forbidden(facts):
    return AzureAuthenticationError(
        _api_message(facts) + ' - the identity (%s) is authenticated but lacks permission' % facts['who'],
        error_kind='authorization', **facts['details'])


def _unreachable(facts):
    return AzureConnectionError('%s failed: cannot reach Azure: %s (check resource_manager_endpoint, '
                                'authority_host and ca_bundle)' % (facts['operation'], _first_line(facts['text'])),
                                error_kind='connection', operation=facts['operation'])


def _answer_lost(facts):
    return AzureConnectionError('%s failed: %s (%s)' % (facts['operation'], UNKNOWN_OUTCOME,
                                                        _first_line(facts['text'])),
                                error_kind=ANSWER_LOST, operation=facts['operation'])


def _not_found_elsewhere(facts):
    kind, option, hint = NOT_FOUND_CODES.get(facts['code'], UNKNOWN_ROUTE)
    return AzureApiError('%s - %s' % (_api_message(facts), hint % facts), error_kind=kind, option=option,
                         **facts['details'])


def _api(facts):
    return AzureApiError(_api_message(facts), error_kind='api', **facts['details'])


def _rows(core):
    """(does this row apply to the facts?, the error it makes), first match wins."""
    return (
        (lambda f: 'CERTIFICATE_VERIFY_FAILED' in f['text'] or 'certificate verify failed' in f['text'],
         _tls_failure),
        (lambda f: isinstance(f['exc'], core.ClientAuthenticationError) or f['status'] == 401, _authentication),
        (lambda f: f['status'] == 403, _forbidden),
        (lambda f: isinstance(f['exc'], core.ServiceRequestError), _unreachable),
        (lambda f: isinstance(f['exc'], core.ServiceResponseError), _answer_lost),
        (lambda f: f['code'] in NOT_FOUND_CODES or (f['status'] == 404 and f['code'] not in ABSENT_CODES),
         _not_found_elsewhere),
    )


def map_azure_error(exc, operation, credential_description=None):
    """The collection error for an azure-core/azure-identity exception, or None when exc is not one of theirs."""
    try:
        from azure.core import exceptions as core
    except ImportError:
        return None
    if not isinstance(exc, core.AzureError):
        return None
    status, code, message, request_id = _response_facts(exc)
    details = dict(status=status, error_code=code, request_id=request_id, operation=operation)
    facts = dict(exc=exc, operation=operation, status=status, code=code, message=message, request_id=request_id,
                 who=credential_description or 'the configured credentials', text=str(exc),
                 token_service=_token_service(exc),
                 details=dict((k, v) for k, v in details.items() if v is not None))
    for applies, make in _rows(core):
        if applies(facts):
            return make(facts)
    return _api(facts)


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


class Writes:
    """The one way to send a write: a failure once Azure accepted a write of this task (or may have: the answer
    was lost) is reported with changed: true, and a lost answer says that a rerun converges."""

    def __init__(self, azure_errors_factory, waiter=None):
        self.azure_errors = azure_errors_factory
        self.waiter = waiter
        self.accepted = False

    def _lost_answers(self):
        return getattr(self.waiter, 'lost_answers', 0)

    @contextlib.contextmanager
    def sending(self, operation):
        """Around one write request and the wait for its outcome."""
        lost_before = self._lost_answers()
        try:
            with self.azure_errors(operation):
                yield
        except Exception as exc:
            lost = self._lost_answers() > lost_before
            if lost and isinstance(exc, DpsTlsError) and UNKNOWN_OUTCOME not in exc.message:
                # The retry of a write whose first answer was lost failed: the first one may have been applied.
                exc.message = '%s; %s' % (exc.message, UNKNOWN_OUTCOME)
                exc.args = (exc.message,)
            if lost or getattr(exc, 'details', {}).get('error_kind') == ANSWER_LOST:
                self.accepted = True
            raise
        self.accepted = True

    @contextlib.contextmanager
    def changed_on_failure(self):
        """Around a whole task: its failure after an accepted write still changed the resource."""
        try:
            yield
        except DpsTlsError as exc:
            if self.accepted:
                exc.details['changed'] = True
            raise
