# Copyright: iotops.dps_tls contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The modules end to end up to the first request: bad input fails with the option named, and nothing is sent."""

from __future__ import annotations

import json

import pytest
from ansible.module_utils.testing import patch_module_args

from ansible_collections.iotops.dps_tls.plugins.module_utils._azure import client as client_factory
from ansible_collections.iotops.dps_tls.plugins.modules import dps_instance, dps_instance_info

AZURE = dict(subscription_id='00000000-0000-0000-0000-000000000001', tenant='t', client_id='c', secret='s3cret-value')


@pytest.fixture(autouse=True)
def no_client(monkeypatch):
    """Any attempt to build a client (and so to send a request) fails the test."""
    def refuse(*args, **kwargs):
        raise AssertionError('a client was built: input should have been refused first')
    monkeypatch.setattr(client_factory, 'dps_client', refuse)


def run(module, args, capsys):
    with patch_module_args(args):
        with pytest.raises(SystemExit):
            module.main()
    return json.loads(capsys.readouterr().out)


@pytest.mark.parametrize('overrides, option, words', [
    (dict(name='ab'), 'name', '3-64 letters'),
    (dict(name='123456'), 'name', 'not only digits'),
    (dict(capacity=500), 'capacity', 'between 1 and 200'),
    (dict(min_tls_version='1.0'), 'min_tls_version', 'DPS supports only "1.2"'),
    (dict(min_tls_version='TLS1.2'), 'min_tls_version', 'DPS supports only "1.2"'),
    (dict(min_tls_version=1.3), 'min_tls_version', 'DPS supports only "1.2"'),
    (dict(linked_hubs=[dict(connection_string='HostName=h;SharedAccessKey=s3cret-value', location='x')]),
     'linked_hubs[0].connection_string', 'missing: SharedAccessKeyName'),
    (dict(resource_manager_endpoint='http://arm.local'), 'resource_manager_endpoint', 'https://'),
])
def test_bad_input_fails_before_any_request(capsys, overrides, option, words):
    args = dict(AZURE, name='dps-1', resource_group='rg', location='westeurope')
    args.update(overrides)
    result = run(dps_instance, args, capsys)
    assert result['failed'] is True
    assert result['msg'].startswith(option + ':')
    assert words in result['msg']
    assert result['option'] == option
    assert 's3cret-value' not in json.dumps(result)


def test_missing_subscription_fails_before_any_request(capsys, monkeypatch):
    monkeypatch.delenv('AZURE_SUBSCRIPTION_ID', raising=False)
    args = dict(AZURE, name='dps-1', resource_group='rg')
    del args['subscription_id']
    result = run(dps_instance, args, capsys)
    assert result['option'] == 'subscription_id'


def test_info_name_needs_resource_group(capsys):
    result = run(dps_instance_info, dict(AZURE, name='dps-1'), capsys)
    assert result['failed'] is True
    assert result['option'] == 'resource_group'


def _documented_options(module):
    import yaml
    return yaml.safe_load(module.DOCUMENTATION)['options']


def test_documented_choices_are_the_table_s():
    from ansible_collections.iotops.dps_tls.plugins.module_utils._dps import instance_desired as table
    options = _documented_options(dps_instance)
    assert options['sku']['choices'] == list(table.SKUS)
    assert options['allocation_policy']['choices'] == list(table.ALLOCATION_POLICIES)
    assert options['public_network_access']['choices'] == list(table.PUBLIC_NETWORK_ACCESS)
    assert options['state']['choices'] == list(table.STATES)
    rules = options['ip_filter_rules']['suboptions']
    assert rules['action']['choices'] == list(table.IP_FILTER_ACTIONS)
    assert rules['target']['choices'] == list(table.IP_FILTER_TARGETS)


@pytest.mark.parametrize('args, option', [
    (dict(name='..', resource_group='rg'), 'name'),
    (dict(name='dps-ok', resource_group='..'), 'resource_group'),
    (dict(name='dps-ok', resource_group='rg', timeout=0), 'timeout'),
    (dict(name='dps-ok', resource_group='rg', timeout=10 ** 10), 'timeout'),
    (dict(name='dps-ok', resource_group='rg', subscription_id='../x'), 'subscription_id'),
    (dict(name='dps-ok', resource_group='rg', tags=dict(owner=dict(team='x'))), 'tags.owner'),
])
def test_path_names_and_numbers_are_refused_before_any_client(args, option, capsys):
    result = run(dps_instance, dict(AZURE, location='westeurope', **args), capsys)
    assert result['failed'] and result['option'] == option
