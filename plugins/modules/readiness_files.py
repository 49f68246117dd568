#!/usr/bin/python
# Copyright: iotops.dps_tls contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: readiness_files
short_description: Write a fleet readiness report's files (JUnit XML, Markdown, HTML, JSON) on the controller
version_added: 0.2.0
author: IoT Ops (@iotops)
description:
  - Writes the reports of a readiness run (the P(iotops.dps_tls.readiness_report#filter) filter's result) or of
    merged slices (the result of M(iotops.dps_tls.readiness_merge)) in one step, on the controller, as
    C(<name>-junit.xml) for Azure DevOps C(PublishTestResults), C(<name>.md), a self-contained C(<name>.html) and
    C(<name>.json).
  - The JSON report is written last, so a JSON report marked complete means every other file was written before it.
    Each file is replaced whole (a temporary file renamed over it), and only when its content differs.
  - A report's name that is a symbolic link, a FIFO or a folder in O(dest) is refused before anything is written.
  - The role P(iotops.dps_tls.tls_readiness#role) and the playbook C(iotops.dps_tls.readiness_gate) use it.
options:
  report:
    description: The report, as the C(readiness_report) filter or M(iotops.dps_tls.readiness_merge) returns it.
    type: dict
    required: true
  dest:
    description: The folder to write to, an absolute path; created when missing.
    type: path
    required: true
  name:
    description:
      - The base name of the files; V(readiness) writes C(readiness.json), C(readiness-junit.xml), C(readiness.md)
        and C(readiness.html).
      - 1-100 letters, digits, C(.), C(-) and C(_), starting with a letter or digit, without C(..).
    type: str
    default: readiness
seealso:
  - module: iotops.dps_tls.readiness_merge
  - module: iotops.dps_tls.tls_readiness
attributes:
  check_mode:
    details:
      - Check mode tells which files would change and writes none.
  diff_mode:
    details:
      - The reports are too long to show; the diff gives each file's SHA-256 before and after.
extends_documentation_fragment:
  - iotops.dps_tls.attributes
  - iotops.dps_tls.attributes.controller
"""

EXAMPLES = r"""
- name: Build the fleet report from every device's result
  ansible.builtin.set_fact:
    report: >-
      {{ dict(ansible_play_hosts_all | zip(ansible_play_hosts_all | map('extract', hostvars)
              | map(attribute='readiness', default=None)))
         | iotops.dps_tls.readiness_report(min_ratio=0.95) }}
  run_once: true

- name: Write its files
  iotops.dps_tls.readiness_files:
    report: "{{ report }}"
    dest: /srv/readiness
  run_once: true
"""

RETURN = r"""
paths:
  description: The files of the report, in the order they are written (the JSON report last).
  returned: always
  type: list
  elements: str
  sample: [/srv/readiness/readiness-junit.xml, /srv/readiness/readiness.md, /srv/readiness/readiness.html,
           /srv/readiness/readiness.json]
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.iotops.dps_tls.plugins.module_utils._common.module import run_module
from ansible_collections.iotops.dps_tls.plugins.module_utils._readiness.files import FILES_OPTIONS, write_report_files


def main():
    module = AnsibleModule(argument_spec=FILES_OPTIONS, supports_check_mode=True)
    run_module(module, lambda: write_report_files(module.params, check_mode=module.check_mode, diff=module._diff))


if __name__ == "__main__":
    main()
