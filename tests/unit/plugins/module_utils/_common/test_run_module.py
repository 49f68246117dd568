# Copyright: iotops.dps_tls contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""run_module: private keys never reach the result, not even in the echoed arguments."""

from __future__ import annotations

import json

import pytest
from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.testing import patch_module_args

from ansible_collections.iotops.dps_tls.plugins.module_utils._common.errors import InvalidInputError
from ansible_collections.iotops.dps_tls.plugins.module_utils._common.module import run_module
from ansible_collections.iotops.dps_tls.plugins.module_utils._x509.pem import refuse_private_keys


def run(capsys, args, action):
    with patch_module_args(args):
        module = AnsibleModule(argument_spec=dict(certificate=dict(type="str"), items=dict(type="list")))
        with pytest.raises(SystemExit):
            run_module(module, lambda: action(module))
    return capsys.readouterr().out


def test_a_key_in_an_argument_is_masked_in_the_echoed_arguments(capsys, certs):
    secret_line = certs["key_pem"].splitlines()[2]
    out = run(capsys, dict(certificate=certs["root"].pem + certs["key_pem"], items=[{"content": certs["key_pem"]}]),
              lambda module: refuse_private_keys("certificate", module.params["certificate"]))
    result = json.loads(out)
    assert secret_line not in out
    assert result["failed"] and result["msg"].startswith("certificate: holds a private key")
    assert result["invocation"]["module_args"]["certificate"].startswith(certs["root"].pem)
    assert "********" in result["invocation"]["module_args"]["items"][0]["content"]


def test_a_key_read_from_a_file_is_masked_wherever_an_error_repeats_it(capsys, certs):
    def action(module):
        try:
            refuse_private_keys("src", certs["key_pem"])
        except InvalidInputError as exc:
            raise InvalidInputError("certificates[0].src", "the certificate %s" % exc.reason,
                                    seen=certs["key_pem"]) from exc
    out = run(capsys, dict(certificate=None), action)
    assert certs["key_pem"].splitlines()[2] not in out
    assert json.loads(out)["msg"].startswith("certificates[0].src: the certificate holds a private key")


def test_without_keys_nothing_is_masked(capsys, certs):
    out = run(capsys, dict(certificate=certs["root"].pem), lambda module: dict(changed=False))
    assert json.loads(out)["invocation"]["module_args"]["certificate"] == certs["root"].pem
