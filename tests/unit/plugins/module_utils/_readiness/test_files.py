# Copyright: iotops.dps_tls contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

import json
import os

import pytest

from ansible_collections.iotops.dps_tls.plugins.module_utils._common.errors import DpsTlsError, InvalidInputError
from ansible_collections.iotops.dps_tls.plugins.module_utils._readiness import files
from ansible_collections.iotops.dps_tls.plugins.module_utils._readiness.merge import slice_report
from ansible_collections.iotops.dps_tls.plugins.module_utils._readiness.report import build_report

READY = {"ansible_facts": {"dps_tls_readiness": {"ready": True, "blockers": [], "checks": []}}}
NAMES = ["readiness-junit.xml", "readiness.md", "readiness.html", "readiness.json"]


def run_report():
    """What the readiness_report filter returns for one ready device."""
    report = build_report({"device-001": READY})
    return dict(report, slice_report=slice_report(report, "run"))


def params(dest, report=None, name="readiness"):
    return {"report": report or run_report(), "dest": str(dest), "name": name}


def test_writes_every_file_then_nothing_on_a_rerun(tmp_path):
    dest = tmp_path / "reports"
    first = files.write_report_files(params(dest))
    assert first["changed"] is True
    assert first["paths"] == [str(dest / name) for name in NAMES]
    data = json.loads((dest / "readiness.json").read_text())
    assert data["complete"] is True and data["devices"]["device-001"]["ready"] is True
    assert oct(os.stat(dest / "readiness.md").st_mode & 0o777) == "0o644"
    assert files.write_report_files(params(dest))["changed"] is False


def test_the_json_report_is_written_last(tmp_path, monkeypatch):
    written = []
    real = files._replace
    monkeypatch.setattr(files, "_replace", lambda dest, name, data: (written.append(name), real(dest, name, data)))
    files.write_report_files(params(tmp_path))
    assert written == NAMES


def test_only_a_file_that_differs_is_replaced(tmp_path):
    files.write_report_files(params(tmp_path))
    (tmp_path / "readiness.md").write_text("edited by hand\n")
    before = os.stat(tmp_path / "readiness.json").st_ino
    result = files.write_report_files(params(tmp_path), diff=True)
    assert result["changed"] is True
    assert result["diff"]["before"]["readiness.md"] != result["diff"]["after"]["readiness.md"]
    assert result["diff"]["before"]["readiness.json"] == result["diff"]["after"]["readiness.json"]
    assert os.stat(tmp_path / "readiness.json").st_ino == before


def test_check_mode_writes_nothing(tmp_path):
    dest = tmp_path / "reports"
    result = files.write_report_files(params(dest), check_mode=True, diff=True)
    assert result["changed"] is True
    assert result["diff"]["before"]["readiness.json"] == "absent"
    assert not dest.exists()


@pytest.mark.parametrize("name", ["", "..", "a/b", "../readiness", ".hidden", "a..b", "readiness\n"])
def test_a_name_that_is_not_a_base_name_is_refused(tmp_path, name):
    with pytest.raises(InvalidInputError) as error:
        files.write_report_files(params(tmp_path, name=name))
    assert error.value.option == "name"
    assert list(tmp_path.iterdir()) == []


def test_a_relative_folder_is_refused(tmp_path):
    with pytest.raises(InvalidInputError) as error:
        files.write_report_files(params("reports"))
    assert error.value.option == "dest"


def test_something_that_is_not_a_report_is_refused(tmp_path):
    with pytest.raises(InvalidInputError) as error:
        files.write_report_files(params(tmp_path, report={"summary": {}}))
    assert error.value.option == "report"
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("kind", ["fifo", "link", "folder"])
def test_a_report_name_that_is_no_regular_file_is_refused_before_any_write(tmp_path, kind):
    elsewhere = tmp_path / "elsewhere.md"
    elsewhere.write_text("not ours\n")
    dest = tmp_path / "reports"
    dest.mkdir()
    target = dest / "readiness.md"
    if kind == "fifo":
        os.mkfifo(target)  # a read would block: it must be refused at once
    elif kind == "link":
        target.symlink_to(elsewhere)
    else:
        target.mkdir()
    with pytest.raises(InvalidInputError) as error:
        files.write_report_files(params(dest))
    assert error.value.option == "dest"
    assert "readiness.md" in error.value.message
    assert sorted(path.name for path in dest.iterdir()) == ["readiness.md"]
    assert elsewhere.read_text() == "not ours\n"


def test_a_folder_that_cannot_be_made_is_a_clear_error(tmp_path):
    dest = tmp_path / "a-file"
    dest.write_text("")
    with pytest.raises(DpsTlsError) as error:
        files.write_report_files(params(dest))
    assert error.value.message.startswith("dest: cannot write the reports in %s" % dest)
    assert error.value.details["changed"] is False
