# Copyright: iotops.dps_tls contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.iotops.dps_tls.plugins.filter.readiness_report import readiness_report

NOT_READY = {"ansible_facts": {"dps_tls_readiness": {
    "ready": False, "blockers": [{"check": "roots", "message": "missing"}],
    "checks": [{"name": "roots", "status": "failed", "message": "missing"}]}}}
FLEET = {"lab-1": NOT_READY, "lab-2": NOT_READY, "device-003": NOT_READY}


def test_exclude_given_as_a_string():
    # what -e readiness_exclude=lab-* passes: one pattern, not the characters l, a, b, -, *
    summary = readiness_report(FLEET, exclude="lab-*")["summary"]
    assert summary["excluded"] == ["lab-1", "lab-2"]
    assert summary["counted"] == 1
    summary = readiness_report(FLEET, exclude="device-003")["summary"]
    assert summary["excluded"] == ["device-003"]


def test_exclude_given_as_a_list():
    assert readiness_report(FLEET, exclude=["lab-1", "device-*"])["summary"]["excluded"] == ["device-003", "lab-1"]


def test_bad_exclude_names_the_option():
    with pytest.raises(AnsibleFilterError, match="readiness_exclude"):
        readiness_report(FLEET, exclude=[{"name": "lab-1"}])
