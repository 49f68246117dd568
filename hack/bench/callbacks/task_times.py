# Copyright: iotops.dps_tls contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Bench callback: the wall time of every task of a run, written as JSON to the file TASK_TIMES_FILE names.

A task's time runs from its start to the start of the next (or the end of the run): with the linear strategy,
that is what the task costs the run, every host's worker and the controller's wait included. Tasks of the same
name (a role applied twice, say) are added up."""

from __future__ import annotations

DOCUMENTATION = """
name: task_times
type: aggregate
short_description: write each task's wall time to a JSON file (bench only)
description: The bench's per-task times; see the module docstring.
requirements: [the TASK_TIMES_FILE environment variable]
"""

import json
import os
import time

from ansible.plugins.callback import CallbackBase


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "aggregate"
    CALLBACK_NAME = "task_times"
    CALLBACK_NEEDS_ENABLED = True

    def __init__(self):
        super().__init__()
        self._times = {}
        self._current = None

    def _close(self):
        if self._current:
            name, started = self._current
            self._times[name] = self._times.get(name, 0.0) + time.monotonic() - started
            self._current = None

    def v2_playbook_on_task_start(self, task, is_conditional):
        self._close()
        self._current = (task.get_name(), time.monotonic())

    def v2_playbook_on_play_start(self, play):
        self._close()

    def v2_playbook_on_stats(self, stats):
        self._close()
        with open(os.environ["TASK_TIMES_FILE"], "w", encoding="utf-8") as handle:
            json.dump(self._times, handle, indent=1)
