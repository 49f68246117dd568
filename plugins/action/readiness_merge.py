# Copyright: iotops.dps_tls contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""readiness_merge on the controller, where the slice reports are."""

from __future__ import annotations

from ansible_collections.iotops.dps_tls.plugins.module_utils._readiness.merge import MERGE_OPTIONS, merge_slices
from ansible_collections.iotops.dps_tls.plugins.plugin_utils._controller import ControllerAction


class ActionModule(ControllerAction):
    OPTIONS = MERGE_OPTIONS

    def work(self, options, task_vars):
        report = merge_slices(reports=options["reports"], paths=options["paths"],
                              expected_slices=options["expected_slices"], min_ratio=options["min_ratio"],
                              exclude=options["exclude"])
        return dict(report, changed=False, passed=report["summary"]["passed"])
