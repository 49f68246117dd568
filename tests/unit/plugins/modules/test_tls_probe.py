# Copyright: iotops.dps_tls contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""tls_probe as Ansible runs it: bad input fails naming the option, before any connection; secrets stay out."""

from __future__ import annotations

import json
import socket

import pytest
from ansible.module_utils.testing import patch_module_args

from ansible_collections.iotops.dps_tls.plugins.module_utils._tls import probe
from ansible_collections.iotops.dps_tls.plugins.modules import tls_probe


@pytest.fixture(autouse=True)
def no_network(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("the network was used before the input was refused")
    monkeypatch.setattr(probe, "_resolve", refuse)


def run(args, capsys):
    with patch_module_args(args):
        with pytest.raises(SystemExit):
            tls_probe.main()
    return json.loads(capsys.readouterr().out)


@pytest.mark.parametrize("args, words", [
    (dict(), "missing required arguments: host"),
    (dict(host="dps.test", port="mqtt"), "port"),
    (dict(host="dps.test", policy="tls13"), "policy must be one of: dps"),
    (dict(host="dps.test", port=0), "port: must be between 1 and 65535, got 0"),
    (dict(host="a..b"), "host: must be a host name or IP address without empty labels"),
    (dict(host="dps test"), "host: must be a host name or IP address without spaces"),
    (dict(host="dps.test", timeout=-1), "timeout: must be more than 0"),
    (dict(host="dps.test", concurrency=100), "concurrency: must be between 1 and 64"),
    (dict(host="dps.test", ca_file="/nonexistent/root.pem"), "ca_file: /nonexistent/root.pem is not a file"),
    (dict(host="dps.test", client_key="/k.pem"), "missing parameter(s) required by 'client_key': client_cert"),
    (dict(host="dps.test", expected_roots=["baltimore"]), "expected_roots: 'baltimore' is neither"),
])
def test_bad_input_fails_naming_the_option(capsys, args, words):
    result = run(args, capsys)
    assert result["failed"]
    assert words in result["msg"]


def test_the_passphrase_never_comes_back(capsys, tmp_path):
    cert = tmp_path / "device.pem"
    cert.write_text("not a certificate")
    result = run(dict(host="dps.test", client_cert=str(cert), client_key_passphrase="s3cret-passphrase"), capsys)
    assert result["failed"] and result["option"] == "client_cert"
    assert "s3cret-passphrase" not in json.dumps(result)


def test_a_silent_endpoint_fails_the_task(capsys, monkeypatch):
    monkeypatch.undo()  # this one may use the network: a loopback listener that never answers
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    try:
        result = run(dict(host="127.0.0.1", port=listener.getsockname()[1], timeout=0.5), capsys)
    finally:
        listener.close()
    assert result["failed"]
    assert result["msg"] == "127.0.0.1:%d accepted the connection but did not answer the TLS handshake within " \
        "0.5 seconds" % result["port"]


def test_the_policy_choices_in_the_docs_are_the_policy_table():
    import yaml
    from ansible_collections.iotops.dps_tls.plugins.module_utils._tls.policy import POLICIES
    documented = yaml.safe_load(tls_probe.DOCUMENTATION)["options"]["policy"]["choices"]
    assert documented == sorted(POLICIES)


def test_the_documented_limits_are_the_checked_ones():
    import yaml
    from ansible_collections.iotops.dps_tls.plugins.module_utils._tls.endpoint import MAX_TIMEOUT
    options = yaml.safe_load(tls_probe.DOCUMENTATION)["options"]
    assert "at most %d" % MAX_TIMEOUT in options["timeout"]["description"][0]
    assert "(1 to %d)" % probe.MAX_CONCURRENCY in options["concurrency"]["description"][0]
