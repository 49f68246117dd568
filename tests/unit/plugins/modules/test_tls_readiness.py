# Copyright: iotops.dps_tls contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""tls_readiness as Ansible runs it: facts out, never a change, bad input refused before anything is read."""

from __future__ import annotations

import json

import pytest
from ansible.module_utils.testing import patch_module_args

from ansible_collections.iotops.dps_tls.plugins.module_utils._readiness import stack
from ansible_collections.iotops.dps_tls.plugins.modules import tls_readiness


def run(args, capsys):
    with patch_module_args(args):
        with pytest.raises(SystemExit):
            tls_readiness.main()
    return json.loads(capsys.readouterr().out)


@pytest.mark.parametrize("args, words", [
    ({"root": "relative/image"}, "root: must be an absolute path"),
    ({"endpoint": "dps.example:8883"}, "endpoint: must be a host name"),
    ({"required_roots": ["baltimore_cybertrust_root"]}, "required_roots"),
])
def test_bad_input_fails_before_reading(monkeypatch, capsys, args, words):
    def refuse(*dummy, **kwargs):
        raise AssertionError("the device was read before the input was refused")
    monkeypatch.setattr(stack, "find_openssl_config", refuse)
    result = run(args, capsys)
    assert result["failed"]
    assert words in result["msg"]


@pytest.mark.parametrize("case", ["unknown_family", "ca_file_not_pem"])
def test_bad_input_found_in_the_files_fails_the_task(tmp_path, capsys, case):
    notes = tmp_path / "notes.txt"
    notes.write_text("not a certificate\n")
    args, words = {
        "unknown_family": ({"root": str(tmp_path)}, "family: auto cannot tell the OS family of root %s" % tmp_path),
        "ca_file_not_pem": ({"root": str(tmp_path), "family": "debian", "endpoint": "localhost", "ca_file": str(notes)},
                            "ca_file: %s holds no readable PEM certificate" % notes),
    }[case]
    result = run(args, capsys)
    assert result["failed"]
    assert result["msg"].startswith(words)
    assert "ansible_facts" not in result


def test_facts_and_no_change(tmp_path, capsys):
    result = run({"root": str(tmp_path), "family": "debian", "_ansible_check_mode": True}, capsys)
    facts = result["ansible_facts"]["dps_tls_readiness"]
    assert result["changed"] is False
    assert set(facts) >= {"ready", "blockers", "tls_stack", "tls12_capable", "offerable_suites",
                          "recommended_suite_available", "roots", "sdks", "pinning_findings", "checks"}
    # an empty tree of a known family has no trust store: a device condition, the roots block it
    assert [b["check"] for b in facts["blockers"]] == ["roots"]
