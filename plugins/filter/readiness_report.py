# Copyright: iotops.dps_tls contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
name: readiness_report
short_description: Turn gathered tls_readiness results into a fleet report and a gate verdict
version_added: 0.1.0
author: IoT Ops (@iotops)
description:
  - Takes a dictionary of device name -> registered M(iotops.dps_tls.tls_readiness) result (null or a failed result
    for a device that was not audited) and returns a summary with the gate's verdict, JUnit XML and Markdown.
  - A device that was not audited counts as not ready.
  - The role P(iotops.dps_tls.tls_readiness#role) writes the three reports and gates on the summary.
options:
  _input:
    description: Device name -> registered tls_readiness result.
    type: dict
    required: true
  min_ratio:
    description: Share of the counted devices that must be ready for C(summary.passed) to be true.
    type: float
    default: 1.0
  exclude:
    description: Device names (or shell-style patterns) not counted by the gate. Their failed checks are
      C(skipped) test cases in the JUnit XML.
    type: list
    elements: str
    default: []
  groups:
    description: Device name -> its inventory groups (C(group_names)), for the reports grouped by inventory group.
      A device without a group is in V(ungrouped).
    type: dict
  hubs:
    description: The linked IoT hubs, each with C(name) and C(min_tls_version) when known, for the HTML report.
    type: list
    elements: dict
  slice_id:
    description:
      - This run's slice id, when the fleet is audited in slices (AWX/AAP job slicing, C(--limit) runs). Empty when
        the run audits the whole fleet.
      - 1-64 letters, digits, C(-) and C(_).
    type: str
    default: ""
"""

EXAMPLES = r"""
- name: Build the report from every device's result
  ansible.builtin.set_fact:
    report: >-
      {{ dict(ansible_play_hosts_all | zip(ansible_play_hosts_all | map('extract', hostvars)
              | map(attribute='readiness', default=None)))
         | iotops.dps_tls.readiness_report(min_ratio=0.95, exclude=['lab-*']) }}
  run_once: true
"""

RETURN = r"""
_value:
  description: The report.
  type: dict
  contains:
    summary:
      description: C(devices), C(counted), C(ready), C(not_ready), C(excluded), C(ratio), C(min_ratio), C(passed),
        C(blocking_devices) (name -> blocker messages), C(blocking) (V(name (reasons\)) strings), C(blockers_by_check) (check -> number of devices) and
        C(devices_per_blocker) (check -> device names).
      type: dict
    devices:
      description: Per device C(name), C(ready), C(checks) and C(blockers).
      type: list
      elements: dict
    facts:
      description: Device name -> its C(dps_tls_readiness) facts (null when not audited), for the JSON report.
      type: dict
    junit:
      description: JUnit XML, pretty printed, a test suite per inventory group and a test case per device and check.
      type: str
    html:
      description: A self-contained HTML page (inline CSS and SVG, no script, nothing fetched) with the verdict
        counts overall and per inventory group, the top reasons a device is not ready and the linked hubs' TLS floor.
      type: str
    markdown:
      description: A Markdown summary.
      type: str
    message:
      description: The gate's verdict in a few lines, capped to the top reasons with their device counts.
      type: str
    slice_report:
      description: What this run hands to M(iotops.dps_tls.readiness_merge) - its device records and summary, with
        the slice id (V(run) when O(slice_id) is empty).
      type: dict
"""

from ansible.errors import AnsibleFilterError

from ansible_collections.iotops.dps_tls.plugins.module_utils._common.errors import InvalidInputError
from ansible_collections.iotops.dps_tls.plugins.module_utils._readiness.merge import check_slice_id, slice_report
from ansible_collections.iotops.dps_tls.plugins.module_utils._readiness.report import build_report, gate_message


def readiness_report(results, min_ratio=1.0, exclude=None, groups=None, slice_id="", hubs=None):
    if not isinstance(results, dict):
        raise AnsibleFilterError("readiness_report expects a dictionary of device name -> tls_readiness result")
    try:
        slice_id = check_slice_id(slice_id, "readiness_slice") if slice_id else "run"
        report = build_report(dict(results), min_ratio, exclude or [], groups=groups, hubs=hubs)
    except InvalidInputError as exc:
        raise AnsibleFilterError("readiness_report: %s" % exc.message)
    except (ValueError, TypeError) as exc:
        raise AnsibleFilterError("readiness_report: %s" % exc)
    report["message"] = gate_message(report["summary"])
    report["slice_report"] = slice_report(report, slice_id)
    return report


class FilterModule(object):
    def filters(self):
        return {"readiness_report": readiness_report}
