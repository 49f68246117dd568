#!/usr/bin/python
# Copyright: iotops.dps_tls contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: readiness_merge
short_description: Merge the readiness reports of a sliced fleet audit into one verdict for the gate
version_added: 0.2.0
author: IoT Ops (@iotops)
description:
  - A fleet too large for one control node is audited in slices (AWX/AAP job slicing, or C(ansible-playbook --limit)
    runs). Each slice writes its own report (a C(readiness-slice-<id>.json) file and a
    C(readiness_slice_report_<id>) C(set_stats) artifact). This module combines them into one fleet verdict, so
    that the gate decides on the whole fleet, never on one slice.
  - The verdict fails closed. A slice that is missing (fewer reports than O(expected_slices)), that did not finish
    its audit, that cannot be read or is not a report, or that holds a device another slice holds too, fails the
    verdict and is named in RV(summary.problems).
  - The module only reads. It never reports a change.
  - The playbook C(iotops.dps_tls.readiness_gate) runs it and fails the play on a failing verdict.
options:
  reports:
    description:
      - Slice reports as data, for example the C(readiness_slice_report_<id>) artifacts AWX passes to the next
        node of a workflow.
    type: list
    elements: raw
    default: []
  paths:
    description:
      - Slice report files, or directories whose C(readiness-slice-*.json) files are read.
      - A path that is missing, unreadable, not a regular file or not a report is a problem that fails the verdict.
    type: list
    elements: path
    default: []
  expected_slices:
    description: How many slices the fleet was audited in. Fewer reports fail the verdict (a slice is missing).
    type: int
    default: 1
  min_ratio:
    description: Share (0.0 to 1.0) of the counted devices of the whole fleet that must be ready.
    type: float
    default: 1.0
  exclude:
    description: Device names or shell-style patterns the verdict does not count.
    type: list
    elements: str
    default: []
seealso:
  - module: iotops.dps_tls.tls_readiness
attributes:
  check_mode:
    details:
      - The module only reads; check mode merges the same way.
extends_documentation_fragment:
  - iotops.dps_tls.attributes.info_module
  - iotops.dps_tls.attributes.controller
"""

EXAMPLES = r"""
- name: Merge the slices written by three --limit runs into one verdict
  iotops.dps_tls.readiness_merge:
    paths: [/srv/readiness]
    expected_slices: 3
  register: fleet

- name: Gate on the fleet, never on one slice
  ansible.builtin.fail:
    msg: "{{ fleet.message }}"
  when: not fleet.passed
"""

RETURN = r"""
passed:
  description: The fleet's verdict; false whenever RV(summary.problems) is not empty.
  returned: always
  type: bool
message:
  description: The verdict in a few lines, capped to the top reasons with their device counts.
  returned: always
  type: str
summary:
  description:
    - The fleet summary, as in the reports of P(iotops.dps_tls.tls_readiness#role) (C(devices), C(counted),
      C(ready), C(not_ready), C(excluded), C(ratio), C(min_ratio), C(passed), C(blocking_devices),
      C(blockers_by_check), C(devices_per_blocker)), plus the slices.
  returned: always
  type: dict
  contains:
    slices:
      description: Each slice merged, with C(slice), C(source), C(state) (V(complete) or V(failed)), C(devices) and
        C(ready).
      type: list
      elements: dict
    expected_slices:
      description: O(expected_slices).
      type: int
    problems:
      description: What kept the reports from making a verdict (missing, failed, unreadable or overlapping slices).
      type: list
      elements: str
devices:
  description: Every device of the fleet with C(name), C(ready), C(groups), C(checks), C(blockers) and C(slice).
  returned: always
  type: list
  elements: dict
junit:
  description: JUnit XML of the whole fleet.
  returned: always
  type: str
markdown:
  description: A Markdown summary of the whole fleet.
  returned: always
  type: str
html:
  description: The whole fleet as a self-contained HTML page (inline CSS and SVG, no script, nothing fetched).
  returned: always
  type: str
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.iotops.dps_tls.plugins.module_utils._common.module import run_module
from ansible_collections.iotops.dps_tls.plugins.module_utils._readiness.merge import MERGE_OPTIONS, merge_slices


def main():
    module = AnsibleModule(argument_spec=MERGE_OPTIONS, supports_check_mode=True)
    params = module.params

    def action():
        report = merge_slices(reports=params["reports"], paths=params["paths"],
                              expected_slices=params["expected_slices"], min_ratio=params["min_ratio"],
                              exclude=params["exclude"])
        return dict(report, changed=False, passed=report["summary"]["passed"])

    run_module(module, action)


if __name__ == "__main__":
    main()
