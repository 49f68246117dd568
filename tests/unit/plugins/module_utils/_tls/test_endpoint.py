# Copyright: iotops.dps_tls contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The one check of an endpoint: every refusal names its option and says why, never an IDNA traceback."""

from __future__ import annotations

import pytest

from ansible_collections.iotops.dps_tls.plugins.module_utils._common.errors import InvalidInputError
from ansible_collections.iotops.dps_tls.plugins.module_utils._tls import endpoint


@pytest.mark.parametrize("host", [
    "global.azure-devices-provisioning.net", "global.azure-devices-provisioning.net.", "localhost", "127.0.0.1",
    "::1", "fe80::1", "dps_test.local", "bücher.example", "x" * 63 + ".example",
])
def test_good_hosts(host):
    assert endpoint.check_host("host", host) == host


@pytest.mark.parametrize("host, words", [
    ("a..b", "without empty labels"),
    (".dps.example", "without empty labels"),
    ("dps.example..", "without empty labels"),
    (".", "without empty labels"),
    ("dps example", "without spaces"),
    (" dps.example", "without spaces"),
    ("dps.example\n", "without spaces"),
    ("https://dps.example", "without scheme, port or path"),
    ("dps.example:8883", "without scheme, port or path"),
    ("dps.example/x", "without scheme, port or path"),
    ("-dps.example", "without scheme, port or path"),
    ("x" * 64 + ".example", "labels of at most 63"),
    ("a." * 127 + "bc", "at most 253"),
    ("ü" * 70 + ".example", "that IDNA can encode"),
    ("", "must be a host name or IP address, got ''"),
    (None, "must be a host name or IP address, got None"),
])
def test_bad_hosts_are_refused_by_the_option_s_name(host, words):
    with pytest.raises(InvalidInputError) as caught:
        endpoint.check_host("endpoint", host)
    assert caught.value.option == "endpoint"
    assert caught.value.reason.startswith("must be a host name or IP address")
    assert words in caught.value.reason


def test_a_server_name_is_a_dns_name():
    with pytest.raises(InvalidInputError) as caught:
        endpoint.check_endpoint(host="dps.example", port=8883, timeout=10, server_name="bad name!")
    assert str(caught.value) == "server_name: must be a DNS name or IP address without spaces, got 'bad name!'"


@pytest.mark.parametrize("port, ok", [
    (endpoint.MIN_PORT, True), (endpoint.MAX_PORT, True), (endpoint.MIN_PORT - 1, False),
    (endpoint.MAX_PORT + 1, False),
])
def test_port_range(port, ok):
    if ok:
        endpoint.check_port("port", port)
    else:
        with pytest.raises(InvalidInputError, match="port: must be between 1 and 65535, got %d" % port):
            endpoint.check_port("port", port)


@pytest.mark.parametrize("timeout, ok", [(0.001, True), (endpoint.MAX_TIMEOUT, True), (0, False), (-1, False),
                                         (endpoint.MAX_TIMEOUT + 0.5, False)])
def test_timeout_range(timeout, ok):
    if ok:
        endpoint.check_timeout("timeout", timeout)
    else:
        with pytest.raises(InvalidInputError, match="timeout: must be more than 0 and at most 300 seconds"):
            endpoint.check_timeout("timeout", timeout)
