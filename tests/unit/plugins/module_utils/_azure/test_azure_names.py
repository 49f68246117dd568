# Copyright: iotops.dps_tls contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The naming rules of every value that goes into a request path, and the option ranges."""

from __future__ import annotations

import pytest

from ansible_collections.iotops.dps_tls.plugins.module_utils._azure import names
from ansible_collections.iotops.dps_tls.plugins.module_utils._common.errors import InvalidInputError

# What no rule may ever let through: dot segments, separators, escapes, queries, fragments, controls, newlines.
HOSTILE = ['.', '..', 'a/b', 'a\\b', 'a%2e', '%2e%2e', 'a?b', 'a#b', 'a\x00b', 'a\tb', 'ok\n', 'ok\r\n', '', ' ',
           '../x', 'x/..']

RULES = {
    'SUBSCRIPTION_ID': (names.SUBSCRIPTION_ID, ['00000000-0000-0000-0000-00000000dead',
                                                '6B1F2A5C-0D3E-4B8E-9C1A-2F3D4E5F6A7B'],
                        ['00000000-0000-0000-0000-00000000dea', 'not-a-guid', '{00000000-0000-0000-0000-000000000000}']),
    'RESOURCE_GROUP': (names.RESOURCE_GROUP, ['rg', 'rg-fleet', 'rg_1', 'rg.prod', '(rg)', 'a' * 90, 'Ressourcengrüppe'],
                       ['a' * 91, 'rg.', 'rg..', 'rg fleet']),
    'DPS_NAME': (names.DPS_NAME, ['abc', 'fleet-dps-01', 'a' * 64, '1a2'],
                 ['ab', 'a' * 65, '-abc', 'abc-', '12345', 'a_b', 'a.b']),
    'CERTIFICATE_NAME': (names.CERTIFICATE_NAME, ['c', 'fleet-ca', 'fleet.ca.2026', 'ca_1', '-x', 'a' * 256],
                         ['.hidden', 'ca.', '...', 'a' * 257, 'fleet ca']),
    'HOST_NAME': (names.HOST_NAME, ['hub.azure-devices.net', 'h1.example.com'],
                  ['hub', 'hub..net', '-hub.net', 'hub.net.', 'hub.azure-devices.net/x']),
}


@pytest.mark.parametrize('rule, good, bad', RULES.values(), ids=list(RULES))
def test_rule_accepts_valid_and_refuses_invalid(rule, good, bad):
    for value in good:
        assert rule.accepts(value), value
    for value in bad:
        assert not rule.accepts(value), value


@pytest.mark.parametrize('value', HOSTILE)
@pytest.mark.parametrize('rule', [r[0] for r in RULES.values()], ids=list(RULES))
def test_no_rule_lets_a_path_trick_through(rule, value):
    assert not rule.accepts(value)


def test_a_trailing_newline_is_refused_and_shown():
    with pytest.raises(InvalidInputError) as err:
        names.CERTIFICATE_NAME.require('name', 'fleet-ca\n')
    assert err.value.option == 'name'
    assert "'fleet-ca\\n'" in err.value.message


@pytest.mark.parametrize('value', [None, 3, ['rg']])
def test_a_value_that_is_no_string_is_refused(value):
    with pytest.raises(InvalidInputError):
        names.RESOURCE_GROUP.require('resource_group', value)


@pytest.mark.parametrize('value', [0, -1, 86401, 10 ** 10, float('nan'), float('inf'), True, '5'])
def test_timeout_out_of_range_names_the_range(value):
    with pytest.raises(InvalidInputError) as err:
        names.require_in_range('timeout', value, names.TIMEOUT_RANGE, ' seconds')
    assert err.value.option == 'timeout'
    assert 'between 1 and 86400 seconds' in err.value.message


@pytest.mark.parametrize('value', [1, 600, 86400])
def test_timeout_in_range(value):
    assert names.require_in_range('timeout', value, names.TIMEOUT_RANGE) == value


def test_tags_are_strings_and_nested_values_are_refused():
    assert names.normalize_tags({'team': 'fleet', 'n': 3, 'empty': None}) == {'team': 'fleet', 'n': '3', 'empty': ''}
    for nested in ({'a': 1}, ['a'], ('a',)):
        with pytest.raises(InvalidInputError) as err:
            names.normalize_tags({'owner': nested})
        assert err.value.option == 'tags.owner'
        assert 'nested' in err.value.message


@pytest.mark.parametrize('tags, option', [
    ({'k' * 513: 'v'}, 'tags.' + 'k' * 513),
    ({'a/b': 'v'}, 'tags.a/b'),
    ({'a%b': 'v'}, 'tags.a%b'),
    ({'': 'v'}, 'tags.'),
    ({'k': 'v' * 257}, 'tags.k'),
    (dict(('t%d' % i, 'v') for i in range(51)), 'tags'),
])
def test_tags_over_arm_limits_are_refused(tags, option):
    with pytest.raises(InvalidInputError) as err:
        names.normalize_tags(tags)
    assert err.value.option == option
