# Copyright: iotops.dps_tls contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The Azure naming rules for every value that goes into a request path, and the number ranges of the options.

Each rule is matched in full (re.fullmatch: `$` would accept a trailing newline). No rule lets through `.` or `..`
(the HTTP stack resolves dot segments, so `certificates/..` addresses the instance itself), `/`, `\\`, `%`, `?`,
`#`, whitespace or control characters.
"""

from __future__ import annotations

import math
import re

from ansible_collections.iotops.dps_tls.plugins.module_utils._common.errors import InvalidInputError


class NameRule:
    """A compiled full-match pattern and the sentence that explains it to the user."""

    def __init__(self, what, pattern, explanation, check=None):
        self.what = what
        self.pattern = re.compile(pattern)
        self.explanation = explanation
        self.check = check

    def accepts(self, value):
        if not isinstance(value, str) or not self.pattern.fullmatch(value):
            return False
        return self.check is None or self.check(value)

    def require(self, option, value):
        """value, or InvalidInputError naming the option; the value is quoted with repr (newlines stay visible)."""
        if not self.accepts(value):
            raise InvalidInputError(option, '%r is not a valid %s: %s' % (value, self.what, self.explanation))
        return value


SUBSCRIPTION_ID = NameRule(
    'subscription id',
    r'[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}',
    'a subscription id is a GUID such as 00000000-0000-0000-0000-000000000000')
# ARM: 1-90 letters, digits, '_', '-', '.', '(' and ')'; it cannot end with '.' (so '.' and '..' are out).
RESOURCE_GROUP = NameRule(
    'resource group name',
    r'[\w().-]{0,89}[\w()-]',
    'a resource group name has 1-90 letters, digits, underscores, hyphens, periods and parentheses, and does not '
    'end with a period')
# DPS instance names: 3-64 letters, digits, hyphens; starts and ends with a letter or digit; not all digits.
DPS_NAME = NameRule(
    'DPS instance name',
    r'[A-Za-z0-9][A-Za-z0-9-]{1,62}[A-Za-z0-9]',
    'use 3-64 letters, digits and hyphens, start and end with a letter or digit, and not only digits',
    check=lambda value: not value.isdigit())
# A certificate name is the last segment of its ARM id: no leading or trailing period (some front ends drop a
# trailing one, and '.' or '..' is a dot segment).
CERTIFICATE_NAME = NameRule(
    'certificate name',
    r'[A-Za-z0-9_-](?:[A-Za-z0-9._-]{0,254}[A-Za-z0-9_-])?',
    'use 1-256 letters, digits, ".", "-" or "_", not starting or ending with "."')
# DPS enrollment group and registration ids: letters, digits, '-', '.', '_', ':', at most 128 (case-insensitive);
# an id goes into the service API's path, so one made of periods only is a dot segment.
ENROLLMENT_ID = NameRule(
    'enrollment id',
    r'[A-Za-z0-9._:-]{1,128}',
    'use 1-128 letters, digits, "-", ".", "_" or ":", not only periods',
    check=lambda value: value.strip('.') != '')
# An IoT hub's host name, as it appears in its connection string.
HOST_NAME = NameRule(
    'IoT hub host name',
    r'(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63}',
    'HostName must be a DNS host name such as my-hub.azure-devices.net')

# ARM tags: string keys and values; keys up to 512 characters without < > % & \ ? /, values up to 256; 50 tags.
TAG_KEY_LIMIT = 512
TAG_VALUE_LIMIT = 256
TAG_COUNT_LIMIT = 50
TAG_KEY_FORBIDDEN = re.compile(r'[<>%&\\?/\x00-\x1f\x7f]')

# The option ranges, one place: (smallest, largest).
TIMEOUT_RANGE = (1, 86400)
CAPACITY_RANGE = (1, 200)
ALLOCATION_WEIGHT_RANGE = (1, 1000)


def require_in_range(option, value, bounds, unit=''):
    """value when it is a finite number within bounds (inclusive); InvalidInputError naming the range otherwise."""
    low, high = bounds
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or \
            not low <= value <= high:
        raise InvalidInputError(option, 'must be between %s and %s%s, got %r' % (low, high, unit, value))
    return value


def _scalar_tag_value(option, value):
    if isinstance(value, (dict, list, tuple, set)):
        raise InvalidInputError(option, 'ARM tag values are strings: a nested %s is not accepted'
                                % type(value).__name__)
    return '' if value is None else str(value)


def normalize_tags(tags, option='tags'):
    """Tags as ARM takes them (string to string), or InvalidInputError naming the tag at fault."""
    if tags is None:
        return None
    if len(tags) > TAG_COUNT_LIMIT:
        raise InvalidInputError(option, 'ARM takes at most %d tags, got %d' % (TAG_COUNT_LIMIT, len(tags)))
    result = {}
    for key, value in tags.items():
        key = str(key)
        if not key or len(key) > TAG_KEY_LIMIT or TAG_KEY_FORBIDDEN.search(key):
            raise InvalidInputError('%s.%s' % (option, key), 'a tag name has 1-%d characters and none of '
                                    '< > %% & \\ ? / or control characters' % TAG_KEY_LIMIT)
        text = _scalar_tag_value('%s.%s' % (option, key), value)
        if len(text) > TAG_VALUE_LIMIT:
            raise InvalidInputError('%s.%s' % (option, key), 'a tag value has at most %d characters, got %d' % (
                TAG_VALUE_LIMIT, len(text)))
        result[key] = text
    return result
