# Copyright: iotops.dps_tls contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""readiness_files on the controller, where the reports belong."""

from __future__ import annotations

from ansible_collections.iotops.dps_tls.plugins.module_utils._readiness.files import FILES_OPTIONS, write_report_files
from ansible_collections.iotops.dps_tls.plugins.plugin_utils._controller import ControllerAction


class ActionModule(ControllerAction):
    OPTIONS = FILES_OPTIONS

    def work(self, options, task_vars):
        return write_report_files(options, check_mode=self._task.check_mode, diff=self._task.diff)
