# Copyright: iotops.dps_tls contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""AzureModule: an AnsibleModule with the shared Azure options, a DPS client factory and one error path."""

from __future__ import annotations

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.iotops.dps_tls.plugins.module_utils._azure import auth, client, errors, names, waiter
from ansible_collections.iotops.dps_tls.plugins.module_utils._common.module import run_module

DEFAULT_TIMEOUT = 600
# The option every Azure module with a deadline shares.
TIMEOUT_OPTION = dict(type='int', default=DEFAULT_TIMEOUT)


class AzureModule:
    """Merges the Azure options into a module's argument spec and owns credentials, clients and their errors."""

    def __init__(self, argument_spec, **kwargs):
        spec = dict(auth.AZURE_ARGUMENT_SPEC)
        spec.update(argument_spec)
        self.module = AnsibleModule(argument_spec=spec, **kwargs)
        self.params = self.module.params
        self.check_mode = self.module.check_mode
        self.diff = self.module._diff
        self._settings = None
        self._plan = None
        self._waiter = None
        self._credential = None

    def waiter(self):
        """The task's one overall deadline (option timeout, when the module has one), started at the first call."""
        if self._waiter is None:
            timeout = self.params.get('timeout')
            if timeout is None:
                timeout = DEFAULT_TIMEOUT
            names.require_in_range('timeout', timeout, names.TIMEOUT_RANGE, ' seconds')
            self._waiter = waiter.Waiter(timeout)
        return self._waiter

    def credential_plan(self):
        """Which credential the options choose; raises InvalidInputError before any network call."""
        if self._plan is None:
            self._settings = auth.AzureSettings(self.params)
            plan = auth.plan_credential(self._settings)
            # The subscription goes into every request path.
            names.SUBSCRIPTION_ID.require('subscription_id', plan.subscription_id)
            self._plan = plan
        return self._plan

    def credential(self):
        """The plan's azure-identity credential, built once; its token requests share the task's deadline."""
        if self._credential is None:
            self._credential = auth.build_credential(self.credential_plan(), self.waiter())
        return self._credential

    def dps_client(self):
        plan = self.credential_plan()
        return client.dps_client(self._settings, self.credential(), plan.subscription_id, self.waiter())

    def azure_errors(self, operation):
        """Context manager: Azure SDK exceptions in the block become one clear collection error."""
        description = self._plan.describe() if self._plan else None
        return errors.azure_errors(operation, description)

    def run(self, action):
        """exit_json with action(self)'s result, or fail_json with the collection error it raised."""
        run_module(self.module, lambda: action(self))
