# Copyright: iotops.dps_tls contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The DPS instance desired-state model: validation, normalizing, comparing, immutable rules, bodies, steps."""

from __future__ import annotations

import copy

import pytest

from ansible_collections.iotops.dps_tls.plugins.module_utils._azure import errors
from ansible_collections.iotops.dps_tls.plugins.module_utils._common.errors import DpsTlsError, InvalidInputError
from ansible_collections.iotops.dps_tls.plugins.module_utils._dps import instance, instance_desired

KEY = 'c2VjcmV0LWtleS1vZi10aGUtaHViLTAxMjM0NTY3ODk='
HUB = 'HostName=hub1.azure-devices.net;SharedAccessKeyName=iothubowner;SharedAccessKey=' + KEY
RID = '/subscriptions/s/resourceGroups/rg1/providers/Microsoft.Devices/provisioningServices/dps1'


def params(**overrides):
    base = dict(name='dps1', resource_group='rg1', location='westeurope', sku='S1', capacity=None,
                min_tls_version=None, allocation_policy=None, public_network_access=None, ip_filter_rules=None,
                linked_hubs=None, data_residency=None, tags=None, append_tags=True, state='present', wait=True,
                timeout=600)
    base.update(overrides)
    return base


def desired(**overrides):
    return instance.DesiredInstance(params(**overrides))


def reading(min_tls='1.2', **props):
    raw = dict(id=RID, name='dps1', type='Microsoft.Devices/provisioningServices', location='westeurope',
               etag='e1', tags=dict(team='fleet'), resourcegroup='rg1', subscriptionid='s',
               sku=dict(name='S1', tier='Standard', capacity=1),
               properties=dict(state='Active', provisioningState='Succeeded', idScope='0ne000', allocationPolicy='Hashed',
                               serviceOperationsHostName='dps1.azure-devices-provisioning.net',
                               deviceProvisioningHostName='global.azure-devices-provisioning.net',
                               publicNetworkAccess='Enabled', ipFilterRules=[], enableDataResidency=False,
                               authorizationPolicies=[], privateEndpointConnections=[],
                               iotHubs=[dict(connectionString=HUB.replace(KEY, '****'), location='westeurope',
                                             name='hub1.azure-devices.net')]))
    if min_tls is not None:
        raw['properties']['minTlsVersion'] = min_tls
    raw['properties'].update(props)
    return raw


# ------------------------------------------------------------------------------------------------------- input

@pytest.mark.parametrize('value', ['1.2', 1.2, ' 1.2 '])
def test_min_tls_version_accepts_1_2_string_or_yaml_float(value):
    assert instance.normalize_min_tls_version(value) == '1.2'


@pytest.mark.parametrize('value', ['1.0', '1.1', 'TLS1.2', '1.3', 1.3, 1, True, ['1.2']])
def test_min_tls_version_refuses_what_dps_does_not_support(value):
    with pytest.raises(InvalidInputError) as err:
        instance.normalize_min_tls_version(value)
    assert err.value.option == 'min_tls_version'


def test_min_tls_version_message_says_what_is_supported():
    with pytest.raises(InvalidInputError) as err:
        instance.normalize_min_tls_version('1.3')
    assert 'DPS supports only "1.2"' in err.value.message
    assert "'1.3'" in err.value.message


@pytest.mark.parametrize('name', ['abc', 'fleet-dps-01', 'a' * 64, '1a2', 'A-1'])
def test_valid_names(name):
    instance.validate_name(name)


@pytest.mark.parametrize('name', ['ab', 'a' * 65, '-abc', 'abc-', '12345', 'a_b', 'a.b', 'dps one', ''])
def test_invalid_names(name):
    with pytest.raises(InvalidInputError) as err:
        instance.validate_name(name)
    assert err.value.option == 'name'
    assert '3-64 letters' in err.value.message


@pytest.mark.parametrize('capacity', [0, 201, -1])
def test_capacity_range(capacity):
    with pytest.raises(InvalidInputError) as err:
        desired(capacity=capacity)
    assert 'between 1 and 200' in err.value.message


def test_choice_lists_come_from_one_table():
    spec = instance.DPS_INSTANCE_ARGUMENT_SPEC
    assert spec['sku']['choices'] == list(instance_desired.SKUS) == ['S1']
    assert spec['allocation_policy']['choices'] == list(instance_desired.ALLOCATION_POLICIES)
    assert spec['public_network_access']['choices'] == list(instance_desired.PUBLIC_NETWORK_ACCESS)
    assert spec['state']['choices'] == list(instance_desired.STATES)


def test_linked_hub_connection_string_incomplete_never_echoed():
    incomplete = 'HostName=hub1.azure-devices.net;SharedAccessKeyName=iothubowner;Key=' + KEY
    with pytest.raises(InvalidInputError) as err:
        desired(linked_hubs=[dict(connection_string=incomplete, location='westeurope')])
    assert err.value.option == 'linked_hubs[0].connection_string'
    assert 'missing: SharedAccessKey' in err.value.message
    assert KEY not in err.value.message and KEY not in repr(err.value.details)


def test_linked_hub_duplicates_refused():
    with pytest.raises(InvalidInputError) as err:
        desired(linked_hubs=[dict(connection_string=HUB, location='x'), dict(connection_string=HUB, location='y')])
    assert 'listed twice' in err.value.message


def test_ip_filter_rules_normalized_with_default_target():
    d = desired(ip_filter_rules=[dict(filter_name='office', action='Accept', ip_mask='10.0.0.0/8', target=None)])
    assert d.ip_filter_rules == [dict(filterName='office', action='Accept', ipMask='10.0.0.0/8', target='all')]


@pytest.mark.parametrize('mask', ['192.168.0.0/24', '10.0.0.1', '0.0.0.0/0', '192.168.100.1/22'])
def test_ip_mask_accepts_ipv4_addresses_and_ranges(mask):
    rules = desired(ip_filter_rules=[dict(filter_name='office', action='Accept', ip_mask=mask)]).ip_filter_rules
    assert rules[0]['ipMask'] == mask


@pytest.mark.parametrize('mask, words', [
    ('not-an-ip', 'must be an IPv4 address or CIDR range'),
    ('192.168.0.0/33', 'must be an IPv4 address or CIDR range'),
    ('300.1.1.1', 'must be an IPv4 address or CIDR range'),
    ('2001:db8::/32', 'IPv4 addresses and ranges only'),
])
def test_ip_mask_is_checked_before_any_request(mask, words):
    rules = [dict(filter_name='office', action='Accept', ip_mask='10.0.0.0/8'),
             dict(filter_name='lab', action='Reject', ip_mask=mask)]
    with pytest.raises(InvalidInputError) as err:
        desired(ip_filter_rules=rules)
    assert err.value.option == 'ip_filter_rules[1].ip_mask'
    assert words in err.value.message


def test_tags_become_strings():
    assert desired(tags=dict(n=1, b=True)).tags == dict(n='1', b='True')


def test_timeout_must_be_positive():
    with pytest.raises(InvalidInputError):
        desired(timeout=0)


# ------------------------------------------------------------------------------------------ views & comparison

def test_view_fields_and_no_secret():
    view = instance.instance_view(reading())
    assert view['resource_group'] == 'rg1'
    assert view['sku'] == 'S1' and view['capacity'] == 1
    assert view['min_tls_version'] == '1.2'
    assert view['id_scope'] == '0ne000'
    assert view['linked_hubs'] == [dict(name='hub1.azure-devices.net', location='westeurope', allocation_weight=None,
                                        apply_allocation_policy=None, shared_access_key_name='iothubowner')]
    assert 'SharedAccessKey' not in repr(view)


def test_view_min_tls_version_null_when_absent():
    assert instance.instance_view(reading(min_tls=None))['min_tls_version'] is None


def test_same_input_means_no_change():
    d = desired(min_tls_version='1.2', capacity=1, allocation_policy='Hashed', public_network_access='Enabled',
                ip_filter_rules=[], linked_hubs=[dict(connection_string=HUB, location='West Europe')],
                tags=dict(team='fleet'), data_residency=False, location='West Europe')
    assert instance.immutable_conflicts(reading(), d) == []
    assert instance.changed_properties(reading(), d) == []


def test_omitted_options_are_not_managed():
    assert instance.changed_properties(reading(min_tls=None), desired(location=None)) == []
    assert instance.immutable_conflicts(reading(min_tls=None), desired(location=None)) == []


def test_mutable_changes_are_named():
    d = desired(capacity=3, allocation_policy='GeoLatency', public_network_access='Disabled',
                ip_filter_rules=[dict(filter_name='f', action='Reject', ip_mask='1.2.3.4', target='all')],
                tags=dict(cost='1'))
    assert instance.changed_properties(reading(), d) == ['capacity', 'allocation_policy', 'public_network_access',
                                                         'ip_filter_rules', 'tags']


def test_tags_append_versus_replace():
    assert instance.changed_properties(reading(), desired(tags=dict(team='fleet'))) == []
    assert instance.changed_properties(reading(), desired(tags=dict(team='fleet'), append_tags=False)) == []
    assert instance.changed_properties(reading(), desired(tags={}, append_tags=False)) == ['tags']
    assert instance.changed_properties(reading(), desired(tags={})) == []


def test_linked_hubs_added_removed_and_changed():
    other = HUB.replace('hub1', 'hub2')
    changed, secrets = instance.linked_hub_changes(
        reading()['properties']['iotHubs'], desired(linked_hubs=[dict(connection_string=other, location='x')]).linked_hubs)
    assert changed == ['hub2.azure-devices.net', 'hub1.azure-devices.net']
    assert secrets == ['hub2.azure-devices.net']
    d = desired(linked_hubs=[dict(connection_string=HUB, location='westeurope', allocation_weight=5)])
    assert instance.changed_properties(reading(), d) == ['linked_hubs']
    assert instance.changed_properties(reading(), desired(linked_hubs=[])) == ['linked_hubs']


def test_linked_hub_key_compared_only_when_readable():
    masked = reading()
    rotated = HUB.replace(KEY, 'bmV3LWtleQ==')
    d = desired(linked_hubs=[dict(connection_string=rotated, location='westeurope')])
    assert instance.changed_properties(masked, d) == []  # DPS masks keys: a rotation cannot be seen
    readable = reading()
    readable['properties']['iotHubs'][0]['connectionString'] = HUB
    assert instance.changed_properties(readable, d) == ['linked_hubs']
    renamed = desired(linked_hubs=[dict(connection_string=HUB.replace('iothubowner', 'provisioning'),
                                        location='westeurope')])
    assert instance.linked_hub_changes(masked['properties']['iotHubs'], renamed.linked_hubs) == (
        ['hub1.azure-devices.net'], ['hub1.azure-devices.net'])


# ---------------------------------------------------------------------------------------------- immutable rules

def test_min_tls_version_conflict_on_instance_created_without_it():
    conflicts = instance.immutable_conflicts(reading(min_tls=None), desired(min_tls_version='1.2'))
    assert conflicts == [('min_tls_version', None, '1.2')]
    with pytest.raises(DpsTlsError) as err:
        instance.refuse_immutable_change('dps1', conflicts)
    message = err.value.message
    assert 'min_tls_version is none (it was created without minTlsVersion)' in message
    assert "asks for '1.2'" in message
    assert 'create a new DPS instance' in message and 'link the same IoT hubs' in message
    assert 'move the enrollments' in message and 'Nothing was changed' in message


def test_data_residency_and_location_are_immutable():
    conflicts = instance.immutable_conflicts(reading(), desired(data_residency=True, location='northeurope'))
    assert [c[0] for c in conflicts] == ['data_residency', 'location']


# ------------------------------------------------------------------------------------------------------- bodies

def test_create_body_sends_min_tls_version_default():
    body = instance.create_body(desired())
    assert body['properties']['minTlsVersion'] == '1.2'
    assert body['sku'] == dict(name='S1', capacity=1)
    assert body['location'] == 'westeurope'
    assert isinstance(body, dict)


def test_update_body_keeps_unmanaged_and_drops_read_only():
    current = reading(someFutureProperty=dict(a=1))
    body = instance.update_body(current, desired(capacity=4, tags=dict(x='y')))
    assert body['properties']['minTlsVersion'] == '1.2'
    assert body['properties']['someFutureProperty'] == dict(a=1)
    assert body['properties']['allocationPolicy'] == 'Hashed'
    assert body['sku'] == dict(name='S1', tier='Standard', capacity=4)
    assert body['tags'] == dict(team='fleet', x='y')
    for key in instance.READ_ONLY_FIELDS:
        assert key not in body
    for key in instance.READ_ONLY_PROPERTIES:
        assert key not in body['properties']
    assert 'name' not in body['properties']['iotHubs'][0]
    assert current == reading(someFutureProperty=dict(a=1))  # the reading itself is untouched


def test_update_body_sends_the_users_connection_strings():
    body = instance.update_body(reading(), desired(linked_hubs=[dict(connection_string=HUB, location='westeurope')]))
    assert body['properties']['iotHubs'] == [dict(connectionString=HUB, location='westeurope')]


# -------------------------------------------------------------------------------------------------------- steps

class FakeApi:
    """Stands in for DpsInstances: records the writes the steps ask for."""

    def __init__(self, current=None):
        self.current = copy.deepcopy(current)
        self.calls = []
        self.writes = errors.Writes(errors.azure_errors)

    def get(self, resource_group, name):
        self.calls.append('get')
        return copy.deepcopy(self.current)

    def put(self, resource_group, name, body, wait, operation):
        self.calls.append('put')
        self.body = body
        return dict(body, id=RID, name=name)

    def update_tags(self, resource_group, name, tags, wait):
        self.calls.append('patch')
        return dict(self.current, tags=tags)

    def delete(self, resource_group, name, wait):
        self.calls.append('delete')

    def wait_until_settled(self, resource_group, name):
        self.calls.append('wait')
        self.current['properties']['provisioningState'] = 'Succeeded'
        return copy.deepcopy(self.current)


def test_update_body_keeps_the_hub_settings_the_task_leaves_out():
    hubs = [dict(connectionString=HUB.replace(KEY, '****'), location='westeurope', name='hub1.azure-devices.net',
                 allocationWeight=3, applyAllocationPolicy=True)]
    task = desired(capacity=5, linked_hubs=[dict(connection_string=HUB, location='westeurope'),
                                            dict(connection_string=HUB.replace('hub1', 'hub2'), location='westeurope')])
    body = instance.update_body(reading(iotHubs=hubs), task)
    assert body['properties']['iotHubs'] == [
        dict(connectionString=HUB, location='westeurope', allocationWeight=3, applyAllocationPolicy=True),
        dict(connectionString=HUB.replace('hub1', 'hub2'), location='westeurope')]
    # A value the task gives still wins.
    task = desired(linked_hubs=[dict(connection_string=HUB, location='westeurope', allocation_weight=7,
                                     apply_allocation_policy=False)])
    body = instance.update_body(reading(iotHubs=hubs), task)
    assert body['properties']['iotHubs'] == [
        dict(connectionString=HUB, location='westeurope', allocationWeight=7, applyAllocationPolicy=False)]


def test_update_diff_after_keeps_the_read_only_values():
    api = FakeApi(reading())
    result = instance.ensure_instance(api, desired(tags=dict(env='prod')), diff=True)
    before, after = result['diff']['before'], result['diff']['after']
    for key in ('id', 'id_scope', 'device_provisioning_host_name', 'service_operations_host_name', 'name'):
        assert after[key] is not None and after[key] == before[key]
    assert dict(before, tags=after['tags']) == after


def test_create_requires_location_before_any_write():
    api = FakeApi()
    with pytest.raises(InvalidInputError) as err:
        instance.ensure_instance(api, desired(location=None))
    assert err.value.option == 'location'
    assert api.calls == ['get']


def test_create_and_check_mode_decide_alike():
    api = FakeApi()
    checked = instance.ensure_instance(api, desired(), check_mode=True, diff=True)
    assert checked['changed'] and api.calls == ['get']
    real = instance.ensure_instance(api, desired(), diff=True)
    assert real['changed'] and api.calls == ['get', 'get', 'put']
    assert api.body['properties']['minTlsVersion'] == '1.2'
    assert checked['diff'] == real['diff']
    assert real['dps']['min_tls_version'] == '1.2'


def test_rerun_is_one_get_and_no_write():
    api = FakeApi(reading())
    result = instance.ensure_instance(api, desired(min_tls_version=1.2))
    assert result['changed'] is False
    assert api.calls == ['get']


def test_tags_only_change_is_a_patch():
    api = FakeApi(reading())
    result = instance.ensure_instance(api, desired(tags=dict(env='prod')))
    assert api.calls == ['get', 'patch']
    assert result['dps']['tags'] == dict(team='fleet', env='prod')
    assert result['changed_properties'] == ['tags']


def test_other_change_is_one_put_keeping_min_tls_version():
    api = FakeApi(reading())
    result = instance.ensure_instance(api, desired(capacity=2), diff=True)
    assert api.calls == ['get', 'put']
    assert api.body['properties']['minTlsVersion'] == '1.2'
    assert result['diff']['before']['capacity'] == 1 and result['diff']['after']['capacity'] == 2


def test_check_mode_update_writes_nothing():
    api = FakeApi(reading())
    result = instance.ensure_instance(api, desired(capacity=2), check_mode=True)
    assert result['changed'] and api.calls == ['get']
    assert result['dps']['capacity'] == 2


def test_immutable_refusal_writes_nothing_even_with_other_changes():
    api = FakeApi(reading(min_tls=None))
    with pytest.raises(DpsTlsError):
        instance.ensure_instance(api, desired(min_tls_version='1.2', capacity=5))
    assert api.calls == ['get']


def test_diff_masks_connection_strings_and_marks_new_ones():
    api = FakeApi(reading())
    result = instance.ensure_instance(api, desired(linked_hubs=[
        dict(connection_string=HUB, location='westeurope'),
        dict(connection_string=HUB.replace('hub1', 'hub2'), location='westeurope')]), diff=True)
    assert KEY not in repr(result)
    hubs = result['diff']['after']['linked_hubs']
    assert [h['connection_string'] for h in hubs] == [instance.SECRET_MARK, instance.SECRET_CHANGED_MARK]
    assert result['diff']['before']['linked_hubs'][0]['connection_string'] == instance.SECRET_MARK


def test_absent():
    api = FakeApi(None)
    assert instance.ensure_instance(api, desired(state='absent'))['changed'] is False
    assert api.calls == ['get']
    api = FakeApi(reading())
    assert instance.ensure_instance(api, desired(state='absent'), check_mode=True)['changed'] is True
    assert api.calls == ['get']
    result = instance.ensure_instance(api, desired(state='absent', min_tls_version='1.2'), diff=True)
    assert api.calls == ['get', 'get', 'delete']
    assert result['diff']['after'] == {} and result['dps'] == {}


def test_info_needs_resource_group_with_name():
    with pytest.raises(InvalidInputError) as err:
        instance.instance_info(FakeApi(), name='dps1')
    assert err.value.option == 'resource_group'


def test_info_missing_instance_is_an_empty_list():
    assert instance.instance_info(FakeApi(None), resource_group='rg1', name='dps1')['dps_instances'] == []


def test_a_running_operation_is_waited_for_before_comparing():
    busy = reading()
    busy['properties']['provisioningState'] = 'Updating'
    busy['sku']['capacity'] = 2
    api = FakeApi(busy)
    result = instance.ensure_instance(api, desired(capacity=2))
    assert api.calls == ['get', 'wait']
    assert result['changed'] is False
    assert result['dps']['provisioning_state'] == 'Succeeded'
    api = FakeApi(busy)
    instance.ensure_instance(api, desired(capacity=2, wait=False))
    assert api.calls == ['get']


def test_absent_while_a_delete_runs_sends_no_second_delete():
    deleting = reading(state='Deleting', provisioningState='Deleting')
    for check_mode in (True, False):
        api = FakeApi(deleting)
        result = instance.ensure_instance(api, desired(state='absent', wait=False), check_mode=check_mode, diff=True)
        assert result['changed'] is False and api.calls == ['get']
        assert result['diff'] == dict(before={}, after={})
    # With wait: true the run waits for the delete to finish, then finds nothing to do.
    api = FakeApi(deleting)
    api.wait_until_settled = lambda resource_group, name: api.calls.append('wait')
    result = instance.ensure_instance(api, desired(state='absent'))
    assert result['changed'] is False and api.calls == ['get', 'wait']


class NotFoundResponse:
    """Just what ResourceNotFoundError reads from ARM's 404 answer."""

    def __init__(self, code):
        from azure.core.rest import HttpRequest
        self.status_code = 404
        self.reason = 'Not Found'
        self.headers = {'content-type': 'application/json'}
        self.request = HttpRequest('GET', 'https://arm.local/x')
        self.content_type = 'application/json'
        self._text = '{"error": {"code": "%s", "message": "not found"}}' % code

    def text(self, encoding=None):
        return self._text

    def body(self):
        return self._text.encode()


class NotFoundOps:
    """An SDK operation group whose get answers 404 with the given ARM error code."""

    def __init__(self, code):
        self.code = code

    def get(self, **kwargs):
        from azure.core.exceptions import ResourceNotFoundError
        from azure.mgmt.core.exceptions import ARMErrorFormat
        raise ResourceNotFoundError(response=NotFoundResponse(self.code), error_format=ARMErrorFormat)


def test_a_wrong_subscription_fails_instead_of_reading_as_absent():
    from ansible_collections.iotops.dps_tls.plugins.module_utils._azure import errors

    class Client:
        iot_dps_resource = NotFoundOps('SubscriptionNotFound')
    api = instance.DpsInstances(Client(), waiter=None, azure_errors=errors.azure_errors)
    with pytest.raises(errors.AzureApiError) as err:
        instance.ensure_instance(api, desired(state='absent'))
    assert err.value.details['option'] == 'subscription_id'
    with pytest.raises(errors.AzureApiError):
        instance.instance_info(api, resource_group='rg1', name='dps1')
    Client.iot_dps_resource = NotFoundOps('ResourceNotFound')
    api = instance.DpsInstances(Client(), waiter=None, azure_errors=errors.azure_errors)
    assert instance.ensure_instance(api, desired(state='absent'))['changed'] is False
    assert instance.instance_info(api, resource_group='rg1', name='dps1')['dps_instances'] == []


def test_a_failure_after_azure_accepted_the_write_reports_changed():
    class Ops:
        def get(self, **kwargs):
            return NotFoundOps('ResourceNotFound').get(**kwargs)

        def begin_create_or_update(self, **kwargs):
            return 'poller'

        def begin_delete(self, **kwargs):
            raise errors.AzureApiError('deleting DPS instance dps1 failed: HTTP 409 Conflict')

    class Waiter:
        def result(self, poller, operation):
            raise errors.AzureTimeoutError('%s did not finish within timeout=2s' % operation)

    class Client:
        iot_dps_resource = Ops()
    api = instance.DpsInstances(client=Client(), waiter=Waiter(), azure_errors=errors.azure_errors)
    with pytest.raises(errors.AzureTimeoutError) as err:
        instance.ensure_instance(api, desired())
    assert err.value.details['changed'] is True
    # Refused outright: nothing changed.
    api = instance.DpsInstances(client=Client(), waiter=Waiter(), azure_errors=errors.azure_errors)
    with pytest.raises(errors.AzureApiError) as err:
        with api.writes.changed_on_failure():
            api.delete('rg1', 'dps1', True)
    assert 'changed' not in err.value.details
