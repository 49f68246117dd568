# Copyright: iotops.dps_tls contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The one place where a module turns the collection's errors into a task failure."""

from __future__ import annotations

from ansible_collections.iotops.dps_tls.plugins.module_utils._common.errors import DpsTlsError


def run_module(module, action):
    """Run action() -> result dict; exit with it, or fail with the collection error it raised.

    A result's 'warnings' (a list of texts) go through module.warn: passing them to exit_json is deprecated.
    An error whose details say changed=True (a write went through before it) is reported as a changed failure.
    """
    try:
        result = action()
    except DpsTlsError as exc:
        module.fail_json(msg=exc.message, **exc.details)
    for text in result.pop('warnings', None) or []:
        module.warn(text)
    module.exit_json(**result)
