# Copyright: iotops.dps_tls contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The desired-state step against a recording service API: no write when nothing differs, none in check mode,
the etag on every write, one retry after a 412, refusals before any write."""

from __future__ import annotations

import pytest

from ansible_collections.iotops.dps_tls.plugins.module_utils._common.errors import DpsTlsError, InvalidInputError
from ansible_collections.iotops.dps_tls.plugins.module_utils._enrollment import ensure, model
from ansible_collections.iotops.dps_tls.plugins.module_utils._enrollment.service import EtagConflict


class RecordingApi:
    """The ServiceApi surface ensure uses, holding one enrollment group in memory."""

    def __init__(self, stored=None, conflicts=0, ca=None):
        self.stored = stored
        self.conflicts = conflicts
        self.ca = ca if ca is not None else {'properties': {'isVerified': True}}
        self.linked_hubs = ['hub-a.azure-devices.net']
        self.writes = []

    def ca_certificate(self, name):
        return self.ca or None

    def get(self, kind, item):
        return dict(self.stored) if self.stored else None

    def put(self, kind, item, body, etag=None):
        self.writes.append(('PUT', etag))
        if self.conflicts:
            self.conflicts -= 1
            self.stored = dict(self.stored, etag='"other"')
            raise EtagConflict('writing enrollmentGroup fleet failed: HTTP 412')
        self.stored = dict(body, etag='"%d"' % len(self.writes))
        return dict(self.stored)

    def delete(self, kind, item, etag):
        self.writes.append(('DELETE', etag))
        self.stored = None


def desired(**overrides):
    base = dict(name='fleet', dps_name='dps-fleet', resource_group='rg', state='present', ca_certificate='fleet-ca',
                signing_certificate=None, provisioning_status=None, allocation_policy=None, iot_hubs=None,
                reprovision_policy=None, initial_twin=None, iot_edge=None, timeout=120)
    base.update(overrides)
    return model.DesiredEnrollment(base, individual=False)


def test_check_mode_writes_nothing_and_predicts():
    api = RecordingApi()
    result = ensure.ensure_enrollment(api, desired(), check_mode=True, diff=True)
    assert result['changed'] and api.writes == []
    assert result['enrollment']['ca_certificate'] == 'fleet-ca' and result['diff']['before'] == {}


def test_a_second_run_makes_no_write():
    api = RecordingApi()
    ensure.ensure_enrollment(api, desired())
    result = ensure.ensure_enrollment(api, desired())
    assert not result['changed'] and api.writes == [('PUT', None)]


def test_updates_carry_the_etag_and_a_412_reads_again_once():
    api = RecordingApi()
    ensure.ensure_enrollment(api, desired())
    api.conflicts = 1
    result = ensure.ensure_enrollment(api, desired(provisioning_status='disabled'))
    assert result['changed'] and result['enrollment']['provisioning_status'] == 'disabled'
    assert api.writes == [('PUT', None), ('PUT', '"1"'), ('PUT', '"other"')]


def test_two_412s_fail_and_say_so():
    api = RecordingApi()
    ensure.ensure_enrollment(api, desired())
    api.conflicts = 2
    with pytest.raises(DpsTlsError) as caught:
        ensure.ensure_enrollment(api, desired(provisioning_status='disabled'))
    assert 'keeps changing' in caught.value.message


@pytest.mark.parametrize('ca, says', [({}, 'no certificate named fleet-ca'),
                                      ({'properties': {'isVerified': False}}, 'is not verified')])
def test_a_missing_or_unverified_ca_is_refused_before_any_write(ca, says):
    api = RecordingApi(ca=ca)
    with pytest.raises(InvalidInputError) as caught:
        ensure.ensure_enrollment(api, desired())
    assert caught.value.option == 'ca_certificate' and says in caught.value.reason and api.writes == []


def test_hubs_must_be_linked():
    api = RecordingApi()
    with pytest.raises(InvalidInputError) as caught:
        ensure.ensure_enrollment(api, desired(iot_hubs=['hub-z.azure-devices.net']))
    assert caught.value.option == 'iot_hubs' and api.writes == []


def test_absent_deletes_with_the_etag_once():
    api = RecordingApi()
    ensure.ensure_enrollment(api, desired())
    assert ensure.ensure_enrollment(api, desired(state='absent'))['changed']
    assert not ensure.ensure_enrollment(api, desired(state='absent'))['changed']
    assert api.writes[-1] == ('DELETE', '"1"')


def test_a_write_whose_answer_was_lost_is_a_change():
    from azure.core.exceptions import ServiceResponseError

    class LostAnswer(RecordingApi):
        def put(self, kind, item, body, etag=None):
            try:
                raise ServiceResponseError('connection reset')
            except ServiceResponseError as exc:
                raise DpsTlsError('writing failed') from exc

    with pytest.raises(DpsTlsError) as caught:
        ensure.ensure_enrollment(LostAnswer(), desired())
    assert caught.value.details.get('changed') is True
