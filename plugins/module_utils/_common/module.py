# Copyright: iotops.dps_tls contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The one place where a module turns the collection's errors into a task failure."""

from __future__ import annotations

from ansible_collections.iotops.dps_tls.plugins.module_utils._common.errors import DpsTlsError
from ansible_collections.iotops.dps_tls.plugins.module_utils._x509.pem import private_key_blocks


def run_module(module, action):
    """Run action() -> result dict; exit with it, or fail with the collection error it raised.

    A result's 'warnings' (a list of texts) go through module.warn: passing them to exit_json is deprecated.
    An error whose details say changed=True (a write went through before it) is reported as a changed failure.
    Private keys never show: see hide_private_keys.
    """
    hide_private_keys(module)
    try:
        result = action()
    except DpsTlsError as exc:
        module.no_log_values.update(_secret_values(exc))
        module.fail_json(msg=exc.message, **exc.details)
    for text in result.pop('warnings', None) or []:
        module.warn(text)
    module.exit_json(**result)


def hide_private_keys(module):
    """Mask every private-key block found in any argument, wherever the module's output would show it.

    A key pasted into a certificate option is refused, but AnsibleModule echoes the arguments in its result
    (invocation.module_args, shown at -vvvv); the values in no_log_values are masked there and everywhere else.
    """
    for text in _strings(module.params):
        module.no_log_values.update(private_key_blocks(text)[0])


def _strings(value):
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, (list, tuple)):
        for item in value:
            yield from _strings(item)


def _secret_values(exc):
    """Texts an error (or an error it was raised from) found to be secret, such as a key read from a file."""
    values = set()
    while exc is not None:
        values.update(getattr(exc, 'secret_values', None) or ())
        exc = exc.__cause__ or exc.__context__
    return values
