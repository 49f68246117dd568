#!/usr/bin/python
# Copyright: iotops.dps_tls contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A test module that ends a task the way a test asks: a result, warnings, deprecations, a failure."""

from __future__ import annotations

DOCUMENTATION = r"""
module: task_outcome
short_description: End a task with a chosen result, warnings, deprecations or failure
description: Test helper for the iotops.dps_tls.azure_devops callback.
author: IoT Ops (@iotops)
options:
  result:
    description: Keys to return.
    type: dict
    default: {}
  warnings:
    description: Warnings to return.
    type: list
    elements: str
    default: []
  deprecations:
    description: Deprecation warnings to return.
    type: list
    elements: str
    default: []
  failure:
    description: Fail with this message.
    type: str
"""

from ansible.module_utils.basic import AnsibleModule


def main():
    module = AnsibleModule(
        argument_spec=dict(
            result=dict(type="dict", default={}),
            warnings=dict(type="list", elements="str", default=[]),
            deprecations=dict(type="list", elements="str", default=[]),
            failure=dict(type="str"),
        ),
        supports_check_mode=True,
    )
    for text in module.params["warnings"]:
        module.warn(text)
    for text in module.params["deprecations"]:
        module.deprecate(text, version="9.0.0", collection_name="iotops.dps_tls")
    if module.params["failure"] is not None:
        module.fail_json(msg=module.params["failure"], **module.params["result"])
    module.exit_json(changed=False, **module.params["result"])


if __name__ == "__main__":
    main()
