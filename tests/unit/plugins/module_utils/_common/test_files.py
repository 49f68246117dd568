# Copyright: iotops.dps_tls contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Files are files: a FIFO, a folder or a huge file named as a certificate input is refused at once, by name."""

from __future__ import annotations

import os
import signal

import pytest

from ansible_collections.iotops.dps_tls.plugins.module_utils._common.errors import InvalidInputError
from ansible_collections.iotops.dps_tls.plugins.module_utils._common.files import (
    BUNDLE_MAX_BYTES, CERTIFICATE_MAX_BYTES, read_regular_file)


@pytest.fixture(autouse=True)
def never_hang():
    """A read that blocks fails the test after 5 s instead of hanging the run."""
    def stop(signum, frame):
        raise AssertionError("the read blocked")
    previous = signal.signal(signal.SIGALRM, stop)
    signal.alarm(5)
    yield
    signal.alarm(0)
    signal.signal(signal.SIGALRM, previous)


def test_a_regular_file_is_read(tmp_path):
    (tmp_path / "a.pem").write_bytes(b"pem")
    assert read_regular_file("src", str(tmp_path / "a.pem")) == b"pem"


def test_a_fifo_is_refused_without_waiting_for_a_writer(tmp_path):
    os.mkfifo(str(tmp_path / "pipe"))
    with pytest.raises(InvalidInputError, match="is a FIFO .*not a regular file") as failure:
        read_regular_file("certificates[0].src", str(tmp_path / "pipe"))
    assert failure.value.option == "certificates[0].src"


def test_a_folder_is_refused(tmp_path):
    with pytest.raises(InvalidInputError, match="is a directory"):
        read_regular_file("ca_file", str(tmp_path))


def test_a_huge_sparse_file_is_refused_without_being_read(tmp_path):
    huge = tmp_path / "huge.pem"
    with open(str(huge), "wb") as handle:
        handle.truncate(1024 ** 3)
    with pytest.raises(InvalidInputError, match="1073741824 bytes, more than the %d" % CERTIFICATE_MAX_BYTES):
        read_regular_file("certificate_path", str(huge))
    with pytest.raises(InvalidInputError, match="more than the %d" % BUNDLE_MAX_BYTES):
        read_regular_file("ca_bundle", str(huge), max_bytes=BUNDLE_MAX_BYTES)


def test_missing_files(tmp_path):
    with pytest.raises(InvalidInputError, match="cannot read .*No such file"):
        read_regular_file("src", str(tmp_path / "none"))
    assert read_regular_file("src", str(tmp_path / "none"), missing_ok=True) is None


def test_a_link_is_refused_where_links_are_not_followed(tmp_path):
    (tmp_path / "real").write_bytes(b"x")
    (tmp_path / "link").symlink_to(str(tmp_path / "real"))
    assert read_regular_file("src", str(tmp_path / "link")) == b"x"
    fd = os.open(str(tmp_path), os.O_RDONLY)
    try:
        with pytest.raises(InvalidInputError, match="is a symbolic link"):
            read_regular_file("root", "link", dir_fd=fd, follow=False)
        assert read_regular_file("root", "real", dir_fd=fd, follow=False) == b"x"
    finally:
        os.close(fd)


@pytest.fixture
def special(tmp_path):
    fifo = tmp_path / "pipe"
    os.mkfifo(str(fifo))
    huge = tmp_path / "huge.pem"
    with open(str(huge), "wb") as handle:
        handle.truncate(1024 ** 3)
    return {"fifo": str(fifo), "huge": str(huge)}


def _dps_certificate(**paths):
    from ansible_collections.iotops.dps_tls.plugins.module_utils._dps.certificate import DesiredCertificate
    params = dict(name="fleet-ca", dps_name="dps1", resource_group="rg1", certificate=None, certificate_path=None,
                  verified=False, private_key=None, private_key_path=None, private_key_passphrase=None,
                  verification_certificate=None, state="present")
    params.update(paths)
    DesiredCertificate(params)


def _azure(**paths):
    from ansible_collections.iotops.dps_tls.plugins.module_utils._azure.auth import AzureSettings
    AzureSettings(dict(paths), environ={})


def _probe(**paths):
    from ansible_collections.iotops.dps_tls.plugins.module_utils._tls.probe import validate
    options = dict(ca_file=None, client_cert=None, client_key=None)
    options.update(paths)
    validate("dps.test", 8883, timeout=5, concurrency=1, server_name=None, client_key_passphrase=None,
             expected_roots=None, **options)


@pytest.mark.parametrize("kind", ["fifo", "huge"])
@pytest.mark.parametrize("reader, option", [
    (_dps_certificate, "certificate_path"), (_azure, "ca_bundle"), (_probe, "ca_file"), (_probe, "client_cert"),
])
def test_every_certificate_input_refuses_special_and_huge_files(special, kind, reader, option):
    """The inputs of dps_certificate, the Azure modules and tls_probe, each with a FIFO and a 1 GiB file."""
    with pytest.raises(InvalidInputError) as failure:
        reader(**{option: special[kind]})
    assert failure.value.option == option
    assert ("1073741824 bytes" if kind == "huge" else "not a") in failure.value.reason


def test_a_private_key_path_that_is_a_fifo_is_refused(special, tmp_path):
    from ansible_collections.iotops.dps_tls.plugins.module_utils._trust.roots import BUILTIN_ROOTS
    (tmp_path / "ca.pem").write_text(BUILTIN_ROOTS["digicert_global_root_g2"].pem)
    with pytest.raises(InvalidInputError) as failure:
        _dps_certificate(certificate_path=str(tmp_path / "ca.pem"), private_key_path=special["fifo"], verified=True)
    assert failure.value.option == "private_key_path" and "FIFO" in failure.value.reason
