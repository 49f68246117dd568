# Copyright: iotops.dps_tls contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The merge of sliced readiness reports fails closed: missing, failed, unreadable and overlapping slices."""

from __future__ import annotations

import json
import os

import pytest

from ansible_collections.iotops.dps_tls.plugins.module_utils._common.errors import InvalidInputError
from ansible_collections.iotops.dps_tls.plugins.module_utils._readiness import merge, report


def audited(ready):
    check = {"name": "roots", "status": "passed" if ready else "failed", "message": "roots"}
    return {"ansible_facts": {"dps_tls_readiness": {
        "ready": ready, "checks": [check], "blockers": [] if ready else [{"check": "roots", "message": "roots"}]}}}


def a_slice(slice_id, devices):
    built = report.build_report({name: audited(ready) for name, ready in devices.items()},
                                groups={name: ["site_" + slice_id] for name in devices})
    return merge.slice_report(built, slice_id)


def merged(slices, expected, **kwargs):
    return merge.merge_slices(reports=slices, paths=kwargs.pop("paths", []), expected_slices=expected, **kwargs)


def test_all_slices_ready_pass():
    result = merged([a_slice("s1", {"d1": True}), a_slice("s2", {"d2": True, "d3": True})], 2)
    summary = result["summary"]
    assert summary["passed"] and summary["counted"] == 3 and summary["problems"] == []
    assert [s["slice"] for s in summary["slices"]] == ["s1", "s2"]
    assert result["devices"][0]["groups"] == ["site_s1"]


def test_the_fleet_decides_not_one_slice():
    # slice s2 alone is 1 of 2 ready (0.5); the fleet is 3 of 4 (0.75)
    slices = [a_slice("s1", {"d1": True, "d2": True}), a_slice("s2", {"d3": True, "d4": False})]
    assert merged(slices, 2, min_ratio=0.75)["summary"]["passed"]
    assert not merged(slices, 2, min_ratio=0.8)["summary"]["passed"]


def test_a_missing_slice_fails():
    summary = merged([a_slice("s1", {"d1": True})], 2)["summary"]
    assert not summary["passed"]
    assert "1 of the 2 expected slices reported" in summary["problems"][0]


def test_a_failed_slice_fails():
    started = {"slice": "s2", "complete": False}
    result = merged([a_slice("s1", {"d1": True}), started], 2)
    assert not result["summary"]["passed"]
    assert "slice s2 did not finish its audit" in result["message"]


def test_overlapping_and_duplicate_slices_fail():
    summary = merged([a_slice("s1", {"d1": True}), a_slice("s2", {"d1": True})], 2)["summary"]
    assert not summary["passed"] and "device d1 is in slices s1 and s2" in summary["problems"][0]
    summary = merged([a_slice("s1", {"d1": True}), a_slice("s1", {"d2": True})], 2)["summary"]
    assert not summary["passed"] and any("given twice" in p for p in summary["problems"])


def test_no_device_fails():
    summary = merged([], 1)["summary"]
    assert not summary["passed"]
    assert any("cover no device" in p for p in summary["problems"])


def test_unreadable_files_fail(tmp_path):
    good = tmp_path / "readiness-slice-s1.json"
    good.write_text(json.dumps(a_slice("s1", {"d1": True})))
    (tmp_path / "readiness-slice-s2.json").write_text('{"format": ')
    os.mkfifo(str(tmp_path / "fifo.json"))
    summary = merged([], 2, paths=[str(tmp_path)])["summary"]
    assert any("readiness-slice-s2.json is not JSON" in p for p in summary["problems"])
    summary = merged([], 2, paths=[str(good), str(tmp_path / "fifo.json")])["summary"]
    assert any("is not a regular file" in p for p in summary["problems"])
    summary = merged([], 2, paths=[str(good), str(tmp_path / "absent.json")])["summary"]
    assert any("cannot read it" in p for p in summary["problems"])
    empty = tmp_path / "empty"
    empty.mkdir()
    assert any("holds no readiness-slice" in p for p in merged([], 1, paths=[str(empty)])["summary"]["problems"])


def test_a_report_of_another_kind_fails():
    summary = merged([{"complete": True, "format": "other/1", "slice": "s1", "records": []}], 1)["summary"]
    assert any("is not a readiness slice report" in p for p in summary["problems"])


def test_bad_numbers_name_the_option():
    with pytest.raises(InvalidInputError, match="expected_slices"):
        merged([], 0)
    with pytest.raises(InvalidInputError, match="min_ratio"):
        merged([], 1, min_ratio=2)
    with pytest.raises(InvalidInputError, match="readiness_slice"):
        merge.check_slice_id("../x")
    with pytest.raises(InvalidInputError, match="readiness_slice"):
        merge.check_slice_id("s1\n")


def test_gate_message_is_capped():
    devices = {"d%03d" % n: False for n in range(40)}
    message = merged([a_slice("s1", devices)], 1)["message"]
    assert "Top reasons: DPS roots trusted: 40 devices" in message
    assert "... and 30 more" in message
    assert len(message.splitlines()) == 3
