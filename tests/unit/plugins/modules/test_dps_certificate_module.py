# Copyright: iotops.dps_tls contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""dps_certificate as a module: how its results and failures reach Ansible."""

from __future__ import annotations

import json

import pytest
from ansible.module_utils.testing import patch_module_args

from ansible_collections.iotops.dps_tls.plugins.module_utils._common.errors import DpsTlsError
from ansible_collections.iotops.dps_tls.plugins.modules import dps_certificate

ARGS = dict(subscription_id='00000000-0000-0000-0000-000000000001', tenant='t', client_id='c', secret='s',
            name='fleet-ca', dps_name='dps-1', resource_group='rg', certificate='unused')


def run(capsys):
    with patch_module_args(ARGS):
        with pytest.raises(SystemExit):
            dps_certificate.main()
    return json.loads(capsys.readouterr().out)


def test_expiry_warning_is_a_warning_not_a_deprecated_exit_argument(capsys, monkeypatch):
    text = 'The CA certificate expires in 10 days (2026-12-09T00:00:00+00:00): devices chaining to it will stop.'
    monkeypatch.setattr(dps_certificate, 'manage_certificate',
                        lambda azure: dict(changed=False, certificate={}, steps=[], warnings=[text]))
    result = run(capsys)
    assert len(result['warnings']) == 1 and text in json.dumps(result['warnings'])
    assert 'deprecated' not in json.dumps(result)


def test_a_failure_after_a_write_is_a_changed_failure(capsys, monkeypatch):
    def fail(azure):
        raise DpsTlsError('verifying certificate fleet-ca failed: HTTP 400', changed=True)
    monkeypatch.setattr(dps_certificate, 'manage_certificate', fail)
    result = run(capsys)
    assert result['failed'] is True and result['changed'] is True
