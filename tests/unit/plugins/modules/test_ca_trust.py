# Copyright: iotops.dps_tls contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""ca_trust as Ansible runs it: options reach module_utils, errors become one failure naming the option."""

from __future__ import annotations

import json

import pytest
from ansible.module_utils.testing import patch_module_args

from ansible_collections.iotops.dps_tls.plugins.module_utils._trust import families
from ansible_collections.iotops.dps_tls.plugins.modules import ca_trust


@pytest.fixture(autouse=True)
def nothing_is_read(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("the system was read before the input was refused")
    monkeypatch.setattr(families, "read_os_release", refuse)


def run(args, capsys):
    with patch_module_args(args):
        with pytest.raises(SystemExit):
            ca_trust.main()
    return json.loads(capsys.readouterr().out)


@pytest.mark.parametrize("args, words", [
    (dict(certificates=[dict(name="x", builtin="baltimore_cybertrust_root")]), "builtin must be one of"),
    (dict(certificates=[dict(name="x", builtin="digicert_global_root_g2", content="pem")]),
     "mutually exclusive: builtin|content|src"),
    (dict(certificates=[dict(name="x", content="pem")]), "certificates[0].sha256: is required"),
    (dict(certificates=[dict(name="x y", builtin="digicert_global_root_g2")]), "certificates[0].name: must be"),
    (dict(certificates=[dict(name="x", builtin="digicert_global_root_g2")], family="windows"), "family must be one of"),
    (dict(certificates=[dict(name="x", builtin="digicert_global_root_g2")], root="relative"), "root: must be an absolute"),
])
def test_bad_input_fails_naming_the_option(capsys, args, words):
    result = run(args, capsys)
    assert result["failed"]
    assert words in result["msg"]


def test_a_bad_certificate_fails_with_details_and_no_secret_data(capsys, tmp_path):
    der = tmp_path / "root.der"
    der.write_bytes(b"\x30\x82\x01\x00" + b"\x00" * 10)
    (tmp_path / "etc").mkdir()
    result = run(dict(certificates=[dict(name="x", src=str(der), sha256="ab" * 32)], root=str(tmp_path),
                      family="debian"), capsys)
    assert result["failed"]
    assert result["msg"].startswith("certificates[0].src: the certificate is not a PEM certificate")
    assert result["option"] == "certificates[0].src" and result["name"] == "x"
