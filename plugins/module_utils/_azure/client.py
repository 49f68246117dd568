# Copyright: iotops.dps_tls contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Client factory: an azure-mgmt client wired to the settings' cloud, credential, CA bundle, retries and polling.

Every wait inside the client (connect, read, Retry-After, retry backoff) is cut to the time left before the task's
deadline, so that `timeout` bounds the whole task.
"""

from __future__ import annotations

import functools

from ansible_collections.iotops.dps_tls.plugins.module_utils._azure.errors import AzureTimeoutError
from ansible_collections.iotops.dps_tls.plugins.module_utils._common.errors import MissingDependencyError

# Between polls of a long-running operation when the service sends no Retry-After (the SDK default is 30 s).
POLLING_INTERVAL = 2
# 429 and 5xx are retried by azure-core's RetryPolicy, which sleeps for Retry-After when the service sends it.
RETRY_TOTAL = 5
RETRY_BACKOFF_FACTOR = 0.5
RETRY_BACKOFF_MAX = 30
# Requests that change nothing: a lost answer to one of them leaves no doubt about the outcome.
SAFE_METHODS = ('GET', 'HEAD', 'OPTIONS')


def _expired(waiter, what):
    return AzureTimeoutError(
        'timeout=%ss reached while %s; nothing more was sent. Run the task again later, or raise timeout'
        % (waiter.timeout, what), error_kind='timeout', timeout=waiter.timeout)


def _deadline_retry_policy_class():
    from azure.core.pipeline.policies import RetryPolicy

    class DeadlineRetryPolicy(RetryPolicy):
        """azure-core's RetryPolicy bounded by the task's deadline instead of a fresh timeout per request."""

        def __init__(self, waiter, **kwargs):
            super().__init__(**kwargs)
            self.waiter = waiter

        def configure_retries(self, options):
            settings = super().configure_retries(options)
            settings['timeout'] = self.waiter.remaining()
            return settings

        def _configure_timeout(self, request, absolute_timeout, is_response_error):
            left = self.waiter.remaining()
            if left <= 0:
                raise _expired(self.waiter, 'sending %s %s' % (
                    request.http_request.method, request.http_request.url.split('?', 1)[0]))
            super()._configure_timeout(request, left, is_response_error)
            # A server that stalls mid-answer is cut at the deadline.
            options = request.context.options
            options['connection_timeout'] = min(options.get('connection_timeout') or left, left)
            options['read_timeout'] = left

        def increment(self, settings, response=None, error=None):
            # A write whose connection broke after it was sent may have been applied. azure-core sends an idempotent
            # one (PUT, DELETE) again; either way the outcome is counted as unknown, so that the task reports a
            # change, and says so when the retry fails too.
            from azure.core.exceptions import ServiceResponseError
            request = getattr(response, 'http_request', None)
            if isinstance(error, ServiceResponseError) and getattr(request, 'method', 'GET') not in SAFE_METHODS:
                self.waiter.lost_answers += 1
            return super().increment(settings, response=response, error=error)

        def sleep(self, settings, transport, response=None):
            wait = self.get_retry_after(response) if response is not None else None
            if wait is None:
                wait = self.get_backoff_time(settings)
            if wait >= self.waiter.remaining():
                status = getattr(getattr(response, 'http_response', None), 'status_code', None)
                raise _expired(self.waiter, 'waiting %ss to retry after %s' % (
                    wait, 'HTTP %s' % status if status else 'a broken connection'))
            super().sleep(settings, transport, response=response)

    return DeadlineRetryPolicy


def retry_policy(waiter):
    """The collection's retry policy: azure-core's limits, every wait cut to the waiter's time left.

    retry_status is set too: azure-core caps retries on 429/5xx answers at 3 of its own otherwise.
    """
    return _deadline_retry_policy_class()(
        waiter, retry_total=RETRY_TOTAL, retry_status=RETRY_TOTAL, retry_backoff_factor=RETRY_BACKOFF_FACTOR,
        retry_backoff_max=RETRY_BACKOFF_MAX)


def credential_kwargs(class_name, waiter):
    """Keyword arguments that put a credential's own token requests under the task's deadline.

    azure-identity builds its pipeline with retry_policy_class when given one. The managed identity credential sets
    its own (IMDS's retry rules), so it keeps them, with each connect and read cut to the time left.
    """
    left = max(1, int(waiter.remaining()))
    if class_name == 'AzureCliCredential':
        return {'process_timeout': left}
    if class_name == 'ManagedIdentityCredential':
        return {'connection_timeout': left, 'read_timeout': left}
    return {'retry_policy_class': functools.partial(_deadline_retry_policy_class(), waiter)}


def client_kwargs(settings, waiter):
    """Keyword arguments for any azure-mgmt client built from these settings."""
    kwargs = dict(
        base_url=settings.resource_manager_endpoint,
        credential_scopes=[settings.credential_scope],
        polling_interval=POLLING_INTERVAL,
        retry_policy=retry_policy(waiter),
        user_agent='iotops.dps_tls',
    )
    if settings.api_version:
        kwargs['api_version'] = settings.api_version
    kwargs.update(settings.transport_kwargs())
    return kwargs


def dps_client(settings, credential, subscription_id, waiter):
    """An IotDpsClient for the settings (azure-mgmt-iothubprovisioningservices, imported only here)."""
    try:
        from azure.mgmt.iothubprovisioningservices import IotDpsClient
    except ImportError as exc:
        raise MissingDependencyError('azure-mgmt-iothubprovisioningservices', 'to manage DPS instances', error=exc)
    return IotDpsClient(credential, subscription_id, **client_kwargs(settings, waiter))
