# Copyright: iotops.dps_tls contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Pinned certificates by kind; the fleet report: counts, JUnit XML that parses, Markdown, the gate."""

from __future__ import annotations

import json
from xml.etree import ElementTree

import pytest

from ansible_collections.iotops.dps_tls.plugins.module_utils._readiness import pinning, report
from ansible_collections.iotops.dps_tls.plugins.module_utils._trust.roots import BUILTIN_ROOTS
from ansible_collections.iotops.dps_tls.tests.unit.pki import certificate, pem


def test_pinned_certificates_by_kind(tmp_path):
    root = certificate("Lab Root")
    intermediate = certificate("Lab Intermediate", issuer=root)
    leaf = certificate("device.example", issuer=intermediate, ca=False)
    config = tmp_path / "etc" / "app"
    config.mkdir(parents=True)
    (config / "config.json").write_text(json.dumps({"pins": [pem(leaf[0]), pem(intermediate[0])]}))
    (config / "roots.pem").write_text(pem(root[0]) + BUILTIN_ROOTS["digicert_global_root_g2"].pem)
    (config / "notes.txt").write_text("no certificates here")

    findings = pinning.find_pinned(str(tmp_path), ["/etc/app"])
    kinds = sorted((f["kind"], f["blocking"]) for f in findings)
    assert kinds == [("intermediate", True), ("leaf", True), ("other_root", False)]
    assert all(f["path"].startswith(str(config)) for f in findings)


def result(ready, checks):
    blockers = [{"check": name, "message": message} for name, status, message in checks if status == "failed"]
    return {"ansible_facts": {"dps_tls_readiness": {
        "ready": ready, "blockers": blockers,
        "checks": [{"name": name, "status": status, "message": message} for name, status, message in checks]}}}


FLEET = {
    "dev-a": result(True, [("tls12", "passed", "ok"), ("roots", "passed", "ok")]),
    "dev-b": result(False, [("tls12", "passed", "ok"), ("roots", "failed", "does not trust <G2> & co")]),
    "dev-c": result(False, [("tls12", "passed", "ok"), ("suites", "failed", "offers none")]),
    "dev-d": None,
    "dev-e": {"failed": True, "msg": "root: must be an absolute path"},
}


def test_summary_counts_and_gate():
    built = report.build_report(FLEET)
    summary = built["summary"]
    assert (summary["devices"], summary["ready"], summary["not_ready"]) == (5, 1, 4)
    assert summary["ratio"] == 0.2 and not summary["passed"]
    assert summary["blockers_by_check"] == {"audit": 2, "roots": 1, "suites": 1}
    assert summary["devices_per_blocker"]["audit"] == ["dev-d", "dev-e"]
    assert summary["blocking_devices"]["dev-e"] == ["root: must be an absolute path"]
    assert summary["blocking"][0] == "dev-b (does not trust <G2> & co)"


def test_exclusions_and_ratio():
    summary = report.build_report(FLEET, min_ratio=0.5, exclude=["dev-[de]"])["summary"]
    assert summary["excluded"] == ["dev-d", "dev-e"]
    assert (summary["counted"], summary["ready"], summary["ratio"]) == (3, 1, 0.3333)
    assert not summary["passed"]
    assert report.build_report(FLEET, exclude=["dev-[b-e]"])["summary"]["passed"]
    assert not report.build_report({}, min_ratio=0.0)["summary"]["passed"]


def test_exclude_as_a_single_string_is_one_pattern():
    # extra-vars such as -e readiness_exclude=dev-b arrive as a string, not a list of characters
    summary = report.build_report(FLEET, exclude="dev-b")["summary"]
    assert summary["excluded"] == ["dev-b"] and summary["counted"] == 4
    # a pattern made of characters that also match other names must not exclude them one by one
    summary = report.build_report(FLEET, exclude="dev-[de]")["summary"]
    assert summary["excluded"] == ["dev-d", "dev-e"]
    assert report.build_report(FLEET, exclude="dev-[b-e]")["summary"]["passed"]
    xml = report.build_report(FLEET, exclude="dev-c")["junit"]
    assert xml.count("<skipped ") == 1
    assert report.build_report(FLEET, exclude="")["summary"]["excluded"] == []


def test_exclude_of_other_types_is_refused():
    with pytest.raises(TypeError, match="readiness_exclude"):
        report.build_report(FLEET, exclude=[1])


def test_bad_ratio():
    with pytest.raises(ValueError):
        report.build_report(FLEET, min_ratio=1.5)


GROUPS = {"dev-a": ["site_a"], "dev-b": ["site_a", "canary"], "dev-c": ["site_b"], "dev-d": ["site_b"]}


def test_junit_parses_with_a_suite_per_group_and_a_case_per_device_and_check():
    xml = report.build_report(FLEET, exclude=["dev-c"], groups=GROUPS)["junit"]
    assert len(xml.splitlines()) > 20  # pretty printed, not one long line
    root = ElementTree.fromstring(xml.split("\n", 1)[1])
    # a device in several groups is reported once, under its first group by name
    assert [s.get("name") for s in root.findall("testsuite")] == ["canary", "site_a", "site_b", "ungrouped"]
    assert (root.get("tests"), root.get("failures"), root.get("skipped")) == ("8", "3", "1")
    failure = root.find("testsuite[@name='canary']/testcase[@classname='dev-b'][@name='DPS roots trusted']/failure")
    assert failure.get("message") == "does not trust <G2> & co"
    skipped = root.find("testsuite[@name='site_b']/testcase[@classname='dev-c']/skipped")
    assert skipped.get("message").startswith("excluded from the gate")
    assert root.find("testsuite[@name='site_b']").get("tests") == "3"


def test_html_is_self_contained_with_counts_groups_reasons_and_hubs():
    page = report.build_report(FLEET, groups=GROUPS, hubs=[{"name": "hub-weu", "min_tls_version": "1.2"}])["html"]
    assert "1 ready, 4 not ready, 0 excluded of 5 devices" in page
    assert '<tr data-group="site_b"><td>site_b</td><td class="n">0</td><td class="n">2</td>' in page
    assert "<svg" in page and "<script" not in page and "http" not in page.replace('http-equiv', '')
    assert "<td>hub-weu</td><td>1.2</td>" in page
    assert "Not known to this audit." in report.build_report(FLEET)["html"]


def test_markdown():
    text = report.build_report(FLEET)["markdown"]
    assert "| 5 | 1 | 4 | 0 | 0.20 | 1.00 | FAILED |" in text
    assert "- **DPS roots trusted**: dev-b" in text
    assert "| dev-a | yes | - |" in text
    assert "| ungrouped | 5 | 1 | 4 |" in text


def test_pinning_files_stay_in_the_image_and_special_files_never_block(tmp_path):
    import os
    host = tmp_path / "host.pem"
    host.write_text(pem(certificate("host leaf", issuer=certificate("host CA"), ca=False)[0]))
    app = tmp_path / "image/opt/app"
    app.mkdir(parents=True)
    os.mkfifo(str(app / "fifo.pem"))
    (app / "host.pem").symlink_to(str(host))
    with open(str(app / "huge.pem"), "wb") as handle:
        handle.truncate(1024 ** 3)
    root = str(tmp_path / "image")
    # in a folder: the FIFO and the huge file are passed over, the absolute link means the image's own (missing) file
    assert pinning.find_pinned(root, ["/opt/app"]) == []
    with pytest.raises(Exception) as caught:
        pinning.find_pinned(root, ["/opt/app/fifo.pem"])
    assert caught.value.option == "pinning_paths" and "is a FIFO" in caught.value.message
    with pytest.raises(Exception) as caught:
        pinning.find_pinned(root, ["/opt/app/huge.pem"])
    assert caught.value.option == "pinning_paths" and "1073741824 bytes" in caught.value.message
