# Copyright: iotops.dps_tls contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The API calls on DPS instances: errors mapped, absent told apart from every other 404, waits bounded."""

from __future__ import annotations

from ansible_collections.iotops.dps_tls.plugins.module_utils._azure.errors import Writes, read_or_none
from ansible_collections.iotops.dps_tls.plugins.module_utils._dps.instance_views import properties_of

# provisioningState values after which no operation runs on the instance.
SETTLED_PROVISIONING_STATES = ('Succeeded', 'Failed', 'Canceled')


def is_settled(raw):
    """True when no operation runs on the instance (or it is gone)."""
    return raw is None or properties_of(raw).get('provisioningState') in (None,) + SETTLED_PROVISIONING_STATES


class DpsInstances:
    """The DPS instance operations of an IotDpsClient, with errors mapped and waits bounded by the waiter.

    writes records whether Azure accepted a write of this task (errors.Writes), so that a later failure is
    reported as changed.
    """

    def __init__(self, client, waiter, azure_errors):
        self.ops = client.iot_dps_resource
        self.waiter = waiter
        self.azure_errors = azure_errors
        self.writes = Writes(azure_errors, waiter)

    def get(self, resource_group, name):
        """The instance as a plain dict, or None when Azure says it does not exist (and only then)."""
        found = read_or_none(self.azure_errors, 'reading DPS instance %s' % name, lambda: self.ops.get(
            provisioning_service_name=name, resource_group_name=resource_group))
        return found.as_dict() if found is not None else None

    def wait_until_settled(self, resource_group, name):
        return self.waiter.poll(lambda: self.get(resource_group, name), is_settled,
                                'waiting for the running operation on DPS instance %s' % name)

    def list(self, resource_group=None):
        with self.azure_errors('listing DPS instances in %s' % (
                'resource group %s' % resource_group if resource_group else 'the subscription')):
            if resource_group:
                pages = self.ops.list_by_resource_group(resource_group_name=resource_group)
            else:
                pages = self.ops.list_by_subscription()
            return [item.as_dict() for item in pages]

    def _write(self, operation, begin, wait):
        """Send one long-running write and (when wait) wait for its outcome; the resulting reading or None."""
        with self.writes.sending(operation):
            poller = begin(polling=bool(wait))
        with self.writes.sending(operation):
            result = self.waiter.result(poller, operation) if wait else poller.polling_method().resource()
        return result.as_dict() if result is not None else None

    def put(self, resource_group, name, body, wait, operation):  # pylint: disable=too-many-arguments
        return self._write(operation, lambda **polling: self.ops.begin_create_or_update(
            resource_group_name=resource_group, provisioning_service_name=name, iot_dps_description=body,
            **polling), wait)

    def update_tags(self, resource_group, name, tags, wait):
        return self._write('updating the tags of DPS instance %s' % name, lambda **polling: self.ops.begin_update(
            resource_group_name=resource_group, provisioning_service_name=name,
            provisioning_service_tags=dict(tags=tags), **polling), wait)

    def delete(self, resource_group, name, wait):
        operation = 'deleting DPS instance %s' % name
        with self.writes.sending(operation):
            poller = self.ops.begin_delete(provisioning_service_name=name, resource_group_name=resource_group,
                                           polling=bool(wait))
        if wait:
            with self.writes.sending(operation):
                self.waiter.result(poller, operation)
