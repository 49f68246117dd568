# Copyright: iotops.dps_tls contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Enrollments as the user states them: id rules, attestation, hubs, twin, PUT bodies and views."""

from __future__ import annotations

import pytest

from ansible_collections.iotops.dps_tls.plugins.module_utils._common.errors import InvalidInputError
from ansible_collections.iotops.dps_tls.plugins.module_utils._enrollment import model
from ansible_collections.iotops.dps_tls.tests.unit.pki import certificate, pem


def params(**overrides):
    base = dict(name='fleet', dps_name='dps-fleet', resource_group='rg', state='present', ca_certificate='fleet-ca',
                signing_certificate=None, provisioning_status=None, allocation_policy=None, iot_hubs=None,
                reprovision_policy=None, initial_twin=None, iot_edge=None, timeout=120)
    base.update(overrides)
    return base


@pytest.mark.parametrize('value', ['.', '..', 'a/b', 'fleet\n', '', 'x' * 129, 'a b', 'ümlaut'])
def test_ids_are_refused_before_any_request(value):
    with pytest.raises(InvalidInputError) as caught:
        model.DesiredEnrollment(params(name=value), individual=False)
    assert caught.value.option == 'name'


@pytest.mark.parametrize('value', ['fleet', 'line.7', 'a:b_c-d', 'x' * 128])
def test_ids_in_the_service_alphabet_pass(value):
    assert model.DesiredEnrollment(params(name=value), individual=False).name == value


@pytest.mark.parametrize('overrides, option, says', [
    (dict(resource_group='rg/..'), 'resource_group', 'not a valid resource group name'),
    (dict(resource_group='rg.'), 'resource_group', 'not a valid resource group name'),
    (dict(dps_name='d'), 'dps_name', ''),
    (dict(timeout=0), 'timeout', 'between 1 and 86400'),
    (dict(ca_certificate=None), 'ca_certificate', 'needs ca_certificate'),
    (dict(ca_certificate='../x'), 'ca_certificate', 'certificate name'),
    (dict(ca_certificate=None, signing_certificate='garbage'), 'signing_certificate', 'not a PEM certificate'),
    (dict(allocation_policy='static', iot_hubs=['a.azure-devices.net', 'b.azure-devices.net']), 'iot_hubs',
     'exactly one hub'),
    (dict(allocation_policy='static'), 'iot_hubs', 'exactly one hub'),
    (dict(iot_hubs=['not a host']), 'iot_hubs', 'host names'),
    (dict(initial_twin={'properties': {'reported': {}}}), 'initial_twin', 'properties.desired'),
])
def test_bad_input_names_the_option(overrides, option, says):
    with pytest.raises(InvalidInputError) as caught:
        model.DesiredEnrollment(params(**overrides), individual=False)
    assert caught.value.option == option
    assert says in caught.value.reason


def test_an_individual_certificate_must_carry_the_registration_id_as_cn():
    text = pem(certificate('gateway-2', ca=None)[0])
    with pytest.raises(InvalidInputError) as caught:
        model.DesiredEnrollment(params(name='gateway-1', certificate=text, ca_certificate=None), individual=True)
    assert caught.value.option == 'certificate'
    assert 'CN (gateway-2) must be the registration id gateway-1' in caught.value.reason


def test_the_put_body_keeps_what_dps_holds_and_lays_the_users_fields_over_it():
    desired = model.DesiredEnrollment(params(provisioning_status='disabled'), individual=False)
    current = {'enrollmentGroupId': 'fleet', 'etag': '"1"', 'createdDateTimeUtc': 'then', 'iotHubs': ['h.x.net'],
               'provisioningStatus': 'enabled', 'initialTwin': {'tags': {'a': 1}}, 'futureField': True,
               'attestation': {'type': 'x509', 'x509': {'caReferences': {'primary': 'fleet-ca'}}}}
    body = desired.body(current)
    assert body['provisioningStatus'] == 'disabled'
    assert body['iotHubs'] == ['h.x.net'] and body['initialTwin'] == {'tags': {'a': 1}} and body['futureField']
    assert 'etag' not in body and 'createdDateTimeUtc' not in body


def test_a_group_read_back_with_only_the_certificate_info_block_compares_equal():
    text = pem(certificate('line-int', ca=None)[0])
    desired = model.DesiredEnrollment(params(ca_certificate=None, signing_certificate=text), individual=False)
    facts = desired.certificate
    raw = {'enrollmentGroupId': 'fleet', 'etag': '"2"', 'provisioningStatus': 'enabled',
           'attestation': {'type': 'x509', 'x509': {'signingCertificates': {'primary': {'info': {
               'subjectName': 'CN = line-int', 'sha256Thumbprint': facts['sha256'].lower()}}}}}}
    current = model.enrollment_view(raw, individual=False)
    assert model.comparable(current) == model.comparable(model.predicted_view(desired, current))


def test_views_ignore_twin_metadata_and_bookkeeping():
    raw = {'enrollmentGroupId': 'fleet', 'etag': '"3"', 'lastUpdatedDateTimeUtc': 'now',
           'initialTwin': {'tags': {}, 'properties': {'desired': {'x': 1, '$metadata': {}, '$version': 1}}},
           'attestation': {'type': 'x509', 'x509': {'caReferences': {'primary': 'Fleet-CA'}}}}
    view = model.enrollment_view(raw, individual=False)
    assert view['initial_twin'] == {'tags': {}, 'properties': {'desired': {'x': 1}}}
    assert 'etag' not in model.comparable(view) and model.comparable(view)['ca_certificate'] == 'fleet-ca'
