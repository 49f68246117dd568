# Copyright: iotops.dps_tls contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Error mapping (status, code, message, request id; authentication is never "absent") and the waiter's clock."""

from __future__ import annotations

import json

import pytest
from azure.core.exceptions import (
    ClientAuthenticationError,
    HttpResponseError,
    ResourceNotFoundError,
    ServiceRequestError,
)
from azure.core.rest import HttpRequest
from azure.identity import CredentialUnavailableError

from ansible_collections.iotops.dps_tls.plugins.module_utils._azure import errors, waiter


class FakeResponse:
    """Just what HttpResponseError reads from a response."""

    def __init__(self, status, body, request_id='req-1', url='https://arm.local/x'):
        self.status_code = status
        self.reason = 'Reason'
        self.headers = {'x-ms-request-id': request_id, 'content-type': 'application/json'}
        self.request = HttpRequest('GET', url)
        self._body = json.dumps(body).encode()
        self.content_type = 'application/json'

    def text(self, encoding=None):
        return self._body.decode()

    def body(self):
        return self._body


def api_error(status, code, message, cls=HttpResponseError):
    from azure.mgmt.core.exceptions import ARMErrorFormat
    return cls(response=FakeResponse(status, {'error': {'code': code, 'message': message}}),
               error_format=ARMErrorFormat)


def test_http_error_has_status_code_message_and_request_id():
    mapped = errors.map_azure_error(api_error(409, 'Conflict', 'The name is taken.'), 'creating DPS instance x')
    assert isinstance(mapped, errors.AzureApiError)
    assert 'HTTP 409 Conflict' in mapped.message
    assert 'The name is taken.' in mapped.message
    assert 'x-ms-request-id req-1' in mapped.message
    assert mapped.details['status'] == 409
    assert mapped.details['error_code'] == 'Conflict'
    assert mapped.details['request_id'] == 'req-1'


def test_throttling_that_outlasted_retries_is_reported_with_its_status():
    mapped = errors.map_azure_error(api_error(429, 'TooManyRequests', 'Slow down.'), 'reading DPS instance x')
    assert mapped.details['status'] == 429
    assert 'TooManyRequests' in mapped.message


def test_arm_401_is_an_authentication_error():
    mapped = errors.map_azure_error(api_error(401, 'InvalidAuthenticationTokenAudience', 'Wrong audience.',
                                              cls=ClientAuthenticationError), 'reading DPS instance x', 'cred')
    assert isinstance(mapped, errors.AzureAuthenticationError)
    assert mapped.message.startswith('Authentication failed during reading DPS instance x with cred')
    assert mapped.details['error_kind'] == 'authentication'


def test_a_token_service_that_refuses_is_named_not_arm():
    # Azure DevOps' OIDC endpoint refuses a bad System.AccessToken with 401: ARM was never called
    url = ('https://dev.azure.com/org/project-id/_apis/distributedtask/hubs/build/plans/plan-id/jobs/job-id/oidctoken'
           '?api-version=7.1&serviceConnectionId=sc')
    response = FakeResponse(401, {'message': 'TF400813: The user is not authorized to access this resource.'}, url=url)
    mapped = errors.map_azure_error(ClientAuthenticationError(response=response), 'listing DPS instances',
                                    'auth_source azure_pipelines (AzurePipelinesCredential)')
    assert isinstance(mapped, errors.AzureAuthenticationError)
    assert 'Azure Resource Manager' not in mapped.message
    assert 'the token service https://dev.azure.com/org/project-id/_apis/distributedtask/' in mapped.message
    assert 'SYSTEM_ACCESSTOKEN' in mapped.message and 'serviceConnectionId' not in mapped.message


def test_token_failure_is_an_authentication_error_not_absent():
    exc = ClientAuthenticationError('ClientSecretCredential.get_token failed: AADSTS7000215: Invalid client secret')
    mapped = errors.map_azure_error(exc, 'reading DPS instance x', 'auth_source env (ClientSecretCredential)')
    assert isinstance(mapped, errors.AzureAuthenticationError)
    assert 'no token could be obtained' in mapped.message
    assert 'AADSTS7000215' in mapped.message
    mapped = errors.map_azure_error(CredentialUnavailableError('az not found'), 'x')
    assert isinstance(mapped, errors.AzureAuthenticationError)


def test_403_is_an_authorization_error():
    mapped = errors.map_azure_error(api_error(403, 'AuthorizationFailed', 'No access.'), 'creating DPS instance x')
    assert mapped.details['error_kind'] == 'authorization'
    assert 'lacks permission' in mapped.message


def test_connection_error_points_at_endpoint_and_ca_bundle():
    mapped = errors.map_azure_error(ServiceRequestError('certificate verify failed'), 'reading DPS instance x')
    assert isinstance(mapped, errors.AzureConnectionError)
    assert 'ca_bundle' in mapped.message


def test_tls_failure_of_the_token_request_is_a_connection_error():
    exc = ClientAuthenticationError('Authentication failed: [SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed')
    mapped = errors.map_azure_error(exc, 'reading DPS instance x')
    assert isinstance(mapped, errors.AzureConnectionError)
    assert 'set ca_bundle' in mapped.message


def test_foreign_exceptions_pass_through_untouched():
    assert errors.map_azure_error(KeyError('x'), 'op') is None
    with pytest.raises(KeyError):
        with errors.azure_errors('op'):
            raise KeyError('x')


def test_context_manager_maps():
    with pytest.raises(errors.AzureApiError) as err:
        with errors.azure_errors('deleting DPS instance x'):
            raise api_error(500, 'InternalServerError', 'Boom.', cls=ResourceNotFoundError)
    assert 'deleting DPS instance x failed: HTTP 500' in err.value.message


class FakeClock:
    def __init__(self):
        self.now = 100.0

    def __call__(self):
        return self.now


class FakePoller:
    def __init__(self, clock, finishes_after):
        self.clock = clock
        self.finishes_after = finishes_after
        self.waited = []

    def wait(self, timeout=None):
        self.waited.append(timeout)
        self.clock.now += min(timeout, self.finishes_after)

    def done(self):
        return self.clock.now >= 100.0 + self.finishes_after

    def status(self):
        return 'Succeeded' if self.done() else 'InProgress'

    def result(self):
        return 'the resource'


def test_waiter_waits_only_for_what_is_left():
    clock = FakeClock()
    w = waiter.Waiter(60, clock=clock)
    clock.now += 15
    poller = FakePoller(clock, finishes_after=20)
    assert w.result(poller, 'creating x') == 'the resource'
    assert poller.waited == [45]


def test_waiter_times_out_with_a_clear_message():
    clock = FakeClock()
    w = waiter.Waiter(30, clock=clock)
    with pytest.raises(errors.AzureTimeoutError) as err:
        w.result(FakePoller(clock, finishes_after=100), 'creating DPS instance x')
    assert 'did not finish within timeout=30s' in err.value.message
    assert 'InProgress' in err.value.message
    assert w.remaining() == 0


def test_poll_reads_until_settled_sleeping_between():
    clock = FakeClock()
    naps = []

    def sleep(seconds):
        naps.append(seconds)
        clock.now += seconds

    values = iter(['Updating', 'Updating', 'Succeeded'])
    w = waiter.Waiter(60, clock=clock, sleep=sleep)
    assert w.poll(lambda: next(values), lambda v: v == 'Succeeded', 'waiting', interval=2) == 'Succeeded'
    assert naps == [2, 2]


def test_poll_gives_up_at_the_deadline():
    clock = FakeClock()

    def sleep(seconds):
        clock.now += seconds

    w = waiter.Waiter(5, clock=clock, sleep=sleep)
    with pytest.raises(errors.AzureTimeoutError) as err:
        w.poll(lambda: 'Updating', lambda v: v == 'Succeeded', 'waiting for x', interval=2)
    assert 'still busy after timeout=5s' in err.value.message


def test_a_missing_subscription_is_not_a_missing_resource():
    exc = api_error(404, 'SubscriptionNotFound', "The subscription 'x' could not be found.", cls=ResourceNotFoundError)
    assert errors.is_missing_resource(exc) is False
    mapped = errors.map_azure_error(exc, 'reading DPS instance dps1')
    assert isinstance(mapped, errors.AzureApiError)
    assert mapped.details['option'] == 'subscription_id'
    assert mapped.details['error_kind'] == 'subscription_not_found'
    assert 'check subscription_id' in mapped.message and 'HTTP 404 SubscriptionNotFound' in mapped.message


@pytest.mark.parametrize('code', ['ResourceNotFound', 'CertificateNotFound'])
def test_only_the_resource_s_own_not_found_code_means_absent(code):
    assert errors.is_missing_resource(api_error(404, code, 'Not found.', cls=ResourceNotFoundError)) is True


@pytest.mark.parametrize('code, option, kind', [
    ('ResourceGroupNotFound', 'resource_group', 'resource_group_not_found'),
    ('SubscriptionNotFound', 'subscription_id', 'subscription_not_found'),
    ('InvalidResourceType', 'resource_manager_endpoint', 'not_resource_manager'),
    ('NoRouteFound', 'resource_manager_endpoint', 'not_resource_manager'),
    (None, 'resource_manager_endpoint', 'not_resource_manager'),
])
def test_other_404s_fail_naming_the_option_at_fault(code, option, kind):
    exc = api_error(404, code, 'Not found.', cls=ResourceNotFoundError)
    assert errors.is_missing_resource(exc) is False
    mapped = errors.map_azure_error(exc, 'reading DPS instance dps1')
    assert mapped.details['option'] == option and mapped.details['error_kind'] == kind
    assert 'check %s' % option in mapped.message


def test_a_404_without_an_arm_body_is_not_absent():
    class Plain(FakeResponse):
        def text(self, encoding=None):
            return '<html>Not Found</html>'
    exc = ResourceNotFoundError(response=Plain(404, {}))
    assert errors.is_missing_resource(exc) is False
    assert errors.map_azure_error(exc, 'x').details['option'] == 'resource_manager_endpoint'


def test_a_dps_error_body_code_is_read_too():
    exc = ResourceNotFoundError(response=FakeResponse(404, {'code': 'CertificateNotFound', 'message': 'gone'}))
    assert errors.is_missing_resource(exc) is True


def test_a_lost_answer_says_the_outcome_is_unknown():
    from azure.core.exceptions import ServiceResponseError
    mapped = errors.map_azure_error(ServiceResponseError('Connection reset by peer'), 'deleting DPS instance x')
    assert isinstance(mapped, errors.AzureConnectionError)
    assert mapped.details['error_kind'] == errors.ANSWER_LOST
    assert 'outcome is unknown' in mapped.message and 'run the task again' in mapped.message


def test_writes_mark_changed_only_after_an_accepted_or_lost_write():
    from azure.core.exceptions import HttpResponseError, ServiceResponseError
    writes = errors.Writes(errors.azure_errors)
    with pytest.raises(errors.AzureApiError) as err:
        with writes.changed_on_failure():
            with writes.sending('creating x'):
                raise api_error(409, 'Conflict', 'busy', cls=HttpResponseError)
    assert 'changed' not in err.value.details
    with pytest.raises(errors.AzureConnectionError) as err:
        with writes.changed_on_failure():
            with writes.sending('creating x'):
                raise ServiceResponseError('Connection aborted')
    assert err.value.details['changed'] is True
    writes = errors.Writes(errors.azure_errors)
    with pytest.raises(errors.AzureTimeoutError) as err:
        with writes.changed_on_failure():
            with writes.sending('creating x'):
                pass
            raise errors.AzureTimeoutError('later')
    assert err.value.details['changed'] is True


def test_a_failed_retry_of_a_write_whose_answer_was_lost_is_an_unknown_outcome():
    from azure.core.exceptions import HttpResponseError

    class Clock:
        lost_answers = 0
    clock = Clock()
    writes = errors.Writes(errors.azure_errors, clock)
    with pytest.raises(errors.AzureApiError) as err:
        with writes.changed_on_failure():
            with writes.sending('creating x'):
                clock.lost_answers += 1  # the first PUT's answer was lost; its retry collides with it
                raise api_error(409, 'AnotherOperationInProgress', 'busy', cls=HttpResponseError)
    assert err.value.details['changed'] is True
    assert 'outcome is unknown' in err.value.message
