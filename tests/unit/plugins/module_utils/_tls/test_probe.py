# Copyright: iotops.dps_tls contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""probe_endpoint: options checked before any packet, then the whole probe against servers in this process."""

from __future__ import annotations

import ssl
import time

import pytest

from ansible_collections.iotops.dps_tls.plugins.module_utils._common.errors import DpsTlsError, InvalidInputError
from ansible_collections.iotops.dps_tls.plugins.module_utils._tls import handshake as hs, probe


@pytest.mark.parametrize("options, option, words", [
    (dict(host="https://dps.test"), "host", "must be a host name"),
    (dict(port=0), "port", "between 1 and 65535"),
    (dict(server_name="dps.test:8883"), "server_name", "must be a DNS name"),
    (dict(host="a..b"), "host", "without empty labels"),
    (dict(host=".dps.test"), "host", "without empty labels"),
    (dict(host="dps test"), "host", "without spaces"),
    (dict(timeout=301), "timeout", "at most 300 seconds"),
    (dict(timeout=0), "timeout", "more than 0"),
    (dict(concurrency=65), "concurrency", "between 1 and 64"),
    (dict(ca_file="/nonexistent.pem"), "ca_file", "is not a file"),
    (dict(client_key="/nonexistent.key"), "client_key", "needs client_cert"),
    (dict(expected_roots=["baltimore_cybertrust_root"]), "expected_roots", "neither a builtin root"),
])
def test_bad_input_is_refused_before_the_network(silent_server, options, option, words):
    arguments = dict(host="127.0.0.1", port=silent_server[1], timeout=30)
    arguments.update(options)
    with pytest.raises(InvalidInputError) as caught:
        probe.probe_endpoint(**arguments)
    assert caught.value.option == option and words in caught.value.reason


def test_a_file_that_is_no_ca_bundle(tmp_path, silent_server):
    junk = tmp_path / "junk.pem"
    junk.write_text("not a certificate")
    with pytest.raises(InvalidInputError) as caught:
        probe.probe_endpoint("127.0.0.1", silent_server[1], ca_file=str(junk), timeout=30)
    assert caught.value.option == "ca_file"


def test_a_ca_file_or_expected_root_holding_a_private_key_is_refused(tmp_path, pki, silent_server):
    key = pki["rsa_key"].read_text()
    bundle = tmp_path / "with-key.pem"
    bundle.write_text(pki["root"].read_text() + key)
    for options, option in ((dict(ca_file=str(bundle)), "ca_file"), (dict(expected_roots=[key]), "expected_roots")):
        with pytest.raises(InvalidInputError) as caught:
            probe.probe_endpoint("127.0.0.1", silent_server[1], timeout=30, **options)
        assert caught.value.option == option and "holds a private key" in caught.value.reason
        assert key.splitlines()[2] not in caught.value.message


def test_a_key_that_does_not_match(pki, silent_server):
    with pytest.raises(InvalidInputError) as caught:
        probe.probe_endpoint("127.0.0.1", silent_server[1], client_cert=str(pki["rsa"]),
                             client_key=str(pki["ecdsa_key"]), client_key_passphrase="secret", timeout=30)
    assert caught.value.option == "client_cert" and "secret" not in caught.value.message


def test_a_policy_server(tls_server, pki):
    server = tls_server(ciphers="ECDHE-RSA-AES256-GCM-SHA384:ECDHE-RSA-AES128-GCM-SHA256:AES128-SHA")
    result = probe.probe_endpoint("127.0.0.1", server.address[1], server_name="dps.test", ca_file=str(pki["root"]),
                                  expected_roots=[probe.sha256_of(pki["root_der"])], timeout=5)
    assert result["accepted_protocols"] == ["TLSv1.2"]
    assert result["rejected_protocols"] == ["TLSv1", "TLSv1.1", "TLSv1.3"]
    accepted = [s["code"] for s in result["cipher_suites"] if s["accepted"]]
    assert accepted == ["0xC030", "0xC02F", "0x002F"]
    assert [g["accepted"] for g in result["groups"]] == [True, True]
    assert result["chain_verified"] and result["hostname_verified"]
    assert result["trusted_root"] == "CN=unit test root"
    assert result["not_offered_locally"] == ["TLS_RSA_WITH_3DES_EDE_CBC_SHA"]
    assert result["findings"] == [] and result["compliant"]


def test_an_endpoint_with_the_whole_policy_takes_one_wave_after_the_first(tls_server, pki, monkeypatch):
    made = []
    real = probe.handshake

    def counted(spec, context, wanted=None, until=probe.UNTIL_SERVER_HELLO, connected=None):
        made.append(until)
        return real(spec, context, wanted, until=until, connected=connected)
    monkeypatch.setattr(probe, "handshake", counted)
    server = tls_server(ciphers=":".join(s.openssl_name for s in probe.policy_suites(probe.POLICIES["dps"])),
                        client_certificate=ssl.CERT_OPTIONAL)
    result = probe.probe_endpoint("127.0.0.1", server.address[1], server_name="dps.test", ca_file=str(pki["root"]),
                                  timeout=5)
    assert len([s for s in result["cipher_suites"] if s["accepted"]]) == 12
    # the first, 4 protocols, 18 suites (3DES is never offered), 2 groups, 3 for the chain: none twice
    assert len(made) == 28 and made.count(probe.UNTIL_CLIENT_CERTIFICATE) == 1
    assert [g["accepted"] for g in result["groups"]] == [True, True]
    assert result["client_certificate_requested"] is True and result["chain_verified"]
    assert result["findings"] == [] and result["compliant"]


def test_a_server_that_requires_a_client_certificate(tls_server, pki):
    server = tls_server(client_certificate=ssl.CERT_REQUIRED)
    result = probe.probe_endpoint("127.0.0.1", server.address[1], server_name="dps.test", ca_file=str(pki["root"]),
                                  timeout=5)
    assert result["client_certificate_requested"] is True and result["chain_verified"]
    assert "client_certificate_required" in [f["code"] for f in result["findings"]]


def test_a_tls13_server_with_an_ecdsa_certificate_and_only_p384(tls_server, pki):
    server = tls_server(ciphers="ECDHE-ECDSA-AES128-GCM-SHA256", group="secp384r1", leaf="ecdsa", tls13=True)
    result = probe.probe_endpoint("127.0.0.1", server.address[1], ca_file=str(pki["root"]), timeout=5)
    assert result["accepted_protocols"] == ["TLSv1.2", "TLSv1.3"]
    assert [s["iana_name"] for s in result["cipher_suites"] if s["accepted"]] == [
        "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256"]
    assert result["negotiated"]["group"] == "secp384r1"
    assert result["certificate_chain"][0]["key_type"] == "EC"
    assert sorted(f["code"] for f in result["findings"]) == [
        "no_policy_suite_accepted", "protocol_not_in_policy", "rsa_certificate_required", "suite_not_in_policy"]


# At 1 the others wait for the first; at 8 they start beside it once it is connected, and end with it.
@pytest.mark.parametrize("concurrency", [1, 8])
def test_a_silent_server_fails_after_one_timeout(silent_server, concurrency):
    started = time.monotonic()
    with pytest.raises(DpsTlsError) as caught:
        probe.probe_endpoint("127.0.0.1", silent_server[1], timeout=0.5, concurrency=concurrency)
    assert "did not answer the TLS handshake within 0.5 seconds" in caught.value.message
    # Only the hang guard: one 0.5 s timeout plus a generous margin, not one per handshake.
    assert time.monotonic() - started < 10


def test_with_concurrency_1_a_silent_server_gets_one_handshake(silent_server, monkeypatch):
    made = []

    def counted(*args, **kwargs):
        made.append(args)
        return hs.handshake(*args, **kwargs)
    monkeypatch.setattr(probe, "handshake", counted)
    with pytest.raises(DpsTlsError):
        probe.probe_endpoint("127.0.0.1", silent_server[1], timeout=0.5, concurrency=1)
    assert len(made) == 1


def test_nothing_listening(closed_port):
    with pytest.raises(DpsTlsError) as caught:
        probe.probe_endpoint("127.0.0.1", closed_port, timeout=5)
    assert caught.value.message.startswith("Cannot connect to 127.0.0.1:%d" % closed_port)


def test_a_name_that_does_not_resolve():
    with pytest.raises(DpsTlsError) as caught:
        probe.probe_endpoint("no-such-host.invalid", 8883, timeout=5)
    assert "Cannot resolve no-such-host.invalid" in caught.value.message
