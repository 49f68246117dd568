# Copyright: iotops.dps_tls contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Modules whose work is on the controller (the readiness reports), run in the controller's own process.

A module run costs a Python start and its imports, close to half a second on a small controller; these tasks
run once per fleet, but that second is most of what a small fleet's audit costs beyond reaching the devices.
The module files keep the documentation and the same code path for a direct run.
"""

from __future__ import annotations

from ansible.plugins.action import ActionBase

from ansible_collections.iotops.dps_tls.plugins.module_utils._common.errors import DpsTlsError


class ControllerAction(ActionBase):
    """Validates the task's options against OPTIONS, then returns work(options, task_vars) as the result."""

    OPTIONS = {}
    TRANSFERS_FILES = False
    _requires_connection = False
    _supports_check_mode = True

    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        _validation, options = self.validate_argument_spec(argument_spec=self.OPTIONS)
        try:
            result.update(self.work(options, task_vars or {}))
        except DpsTlsError as exc:
            result.update(exc.details, failed=True, msg=exc.message)
        return result

    def work(self, options, task_vars):
        raise NotImplementedError
