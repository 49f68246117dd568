# Copyright: iotops.dps_tls contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Client factory: an azure-mgmt client wired to the settings' cloud, credential, CA bundle, retries and polling."""

from __future__ import annotations

from ansible_collections.iotops.dps_tls.plugins.module_utils._common.errors import MissingDependencyError

# Between polls of a long-running operation when the service sends no Retry-After (the SDK default is 30 s).
POLLING_INTERVAL = 2
# 429 and 5xx are retried by azure-core's RetryPolicy, which sleeps for Retry-After when the service sends it.
RETRY_TOTAL = 5
RETRY_BACKOFF_FACTOR = 0.5
RETRY_BACKOFF_MAX = 30


def retry_policy(timeout):
    """azure-core's RetryPolicy with the collection's limits; timeout bounds all retries of one request.

    retry_status is set too: azure-core caps retries on 429/5xx answers at 3 of its own otherwise.
    """
    from azure.core.pipeline.policies import RetryPolicy
    return RetryPolicy(retry_total=RETRY_TOTAL, retry_status=RETRY_TOTAL, retry_backoff_factor=RETRY_BACKOFF_FACTOR,
                       retry_backoff_max=RETRY_BACKOFF_MAX, timeout=max(1, int(timeout)))


def client_kwargs(settings, timeout):
    """Keyword arguments for any azure-mgmt client built from these settings."""
    kwargs = dict(
        base_url=settings.resource_manager_endpoint,
        credential_scopes=[settings.credential_scope],
        polling_interval=POLLING_INTERVAL,
        retry_policy=retry_policy(timeout),
        user_agent='iotops.dps_tls',
    )
    if settings.api_version:
        kwargs['api_version'] = settings.api_version
    kwargs.update(settings.transport_kwargs())
    return kwargs


def dps_client(settings, credential, subscription_id, timeout):
    """An IotDpsClient for the settings (azure-mgmt-iothubprovisioningservices, imported only here)."""
    try:
        from azure.mgmt.iothubprovisioningservices import IotDpsClient
    except ImportError as exc:
        raise MissingDependencyError('azure-mgmt-iothubprovisioningservices', 'to manage DPS instances', error=exc)
    return IotDpsClient(credential, subscription_id, **client_kwargs(settings, timeout))
