# Copyright: iotops.dps_tls contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The desired-state logic of ca_trust, on a Debian layout in a temporary root with a stand-in update tool
(the real tool runs in the integration tests)."""

from __future__ import annotations

import glob
import os

import pytest

from ansible_collections.iotops.dps_tls.plugins.module_utils._common.errors import DpsTlsError, InvalidInputError
from ansible_collections.iotops.dps_tls.plugins.module_utils._trust.roots import BUILTIN_ROOTS
from ansible_collections.iotops.dps_tls.plugins.module_utils._trust.store import ensure
from ansible_collections.iotops.dps_tls.plugins.module_utils._x509 import certificate as x509_certificate
from ansible_collections.iotops.dps_tls.plugins.module_utils._x509 import openssl

G2 = BUILTIN_ROOTS["digicert_global_root_g2"]
MSRSA = BUILTIN_ROOTS["microsoft_rsa_root_ca_2017"]


class FakeTool(object):
    """Builds the bundle from the distribution's certificates plus every local *.crt, as Debian's tool does, and
    links each local one as <name>.pem with a hash link to it; like Debian's tool without --fresh, it never
    removes a link."""

    def __init__(self, root, distribution):
        self.root = root
        self.distribution = distribution
        self.calls = []
        self.drop = None
        self.rc = 0

    def __call__(self, argv):
        self.calls.append(argv)
        if self.rc:
            return self.rc, "", "boom"
        options = dict(zip(argv[1::2], argv[2::2]))
        certs = options.get("--etccertsdir", os.path.join(self.root, "etc/ssl/certs"))
        local_dir = os.path.join(certs, options.get("--localcertsdir", "../../../usr/local/share/ca-certificates"))
        local = sorted(glob.glob(os.path.join(local_dir, "*.crt")))
        pems = list(self.distribution)
        for path in local:
            with open(path) as handle:
                pems.append(handle.read())
        if self.drop:
            pems = [pem for pem in pems if pem != self.drop]
        if argv[0].endswith("update-ca-certificates"):
            self.link(certs, local)
        with open(os.path.join(certs, "ca-certificates.crt"), "w") as handle:
            handle.write("".join(pems))
        return 0, "%d certificates" % len(pems), ""

    def link(self, certs, local):
        for path in local:
            pem = os.path.basename(path)[:-4] + ".pem"
            if os.path.lexists(os.path.join(certs, pem)):
                continue
            os.symlink(os.path.relpath(path, certs), os.path.join(certs, pem))
            number = 0
            while os.path.lexists(os.path.join(certs, "%s.%d" % (HASH, number))):
                number += 1
            os.symlink(pem, os.path.join(certs, "%s.%d" % (HASH, number)))

    def links(self):
        certs = os.path.join(self.root, "etc/ssl/certs")
        return sorted((name, os.readlink(os.path.join(certs, name))) for name in os.listdir(certs)
                      if os.path.islink(os.path.join(certs, name)))


@pytest.fixture
def device(tmp_path, certs):
    for folder in ("etc/ssl/certs", "usr/local/share/ca-certificates", "usr/share/ca-certificates"):
        (tmp_path / folder).mkdir(parents=True)
    (tmp_path / "etc/os-release").write_text("ID=debian\n")
    tool = FakeTool(str(tmp_path), [certs["other"].pem, MSRSA.pem])
    tool(["initial build"])
    tool.calls = []
    return tool


def run(device, certificates, state="present", check_mode=False):
    return ensure(certificates, state, device.root, "auto", check_mode, device, lambda name: "/usr/sbin/" + name)


def anchors(device):
    return sorted(os.listdir(os.path.join(device.root, "usr/local/share/ca-certificates")))


# every fake hash link in one bucket: dropping one must not leave a gap in the numbers
HASH = "0badc0de"
ROOTS = [{"name": "g2", "builtin": "digicert_global_root_g2"}, {"name": "msrsa", "builtin": "microsoft_rsa_root_ca_2017"}]


def test_installs_only_what_is_missing_then_changes_nothing(device):
    result = run(device, ROOTS)
    assert result["changed"] and result["family"] == "debian"
    assert [(a["name"], a["action"], a["trusted"]) for a in result["anchors"]] == [
        ("g2", "added", True), ("msrsa", "already_trusted", True)]
    assert result["anchors"][1]["path"] is None
    assert anchors(device) == ["iotops-dps_tls-g2.crt"]
    assert oct(os.stat(result["anchors"][0]["path"]).st_mode & 0o777) == "0o644"
    assert result["diff"] == {"before": {"anchors": []}, "after": {"anchors": ["g2"]}}
    assert len(device.calls) == 1

    again = run(device, ROOTS)
    assert not again["changed"]
    assert [a["action"] for a in again["anchors"]] == ["unchanged", "already_trusted"]
    assert len(device.calls) == 1, "the update tool ran although nothing changed"
    assert "update_output" not in again


def test_a_rerun_with_builtin_roots_parses_no_certificate(device, monkeypatch):
    """Every device pays for a parse: cryptography's import, or the openssl commands without it."""
    first = run(device, ROOTS)

    def refuse(*args):
        raise AssertionError("a certificate was parsed")
    monkeypatch.setattr(x509_certificate, "_cryptography", refuse)
    monkeypatch.setattr(x509_certificate, "HAS_CRYPTOGRAPHY", None)
    monkeypatch.setattr(openssl, "inspect", refuse)
    again = run(device, ROOTS)
    assert not again["changed"]
    assert again["anchors"] == [dict(anchor, action="unchanged" if anchor["action"] == "added" else anchor["action"])
                                for anchor in first["anchors"]]


def test_check_mode_decides_like_a_real_run_and_writes_nothing(device):
    before = anchors(device)
    predicted = run(device, ROOTS, check_mode=True)
    assert anchors(device) == before and device.calls == []
    real = run(device, ROOTS)
    assert [(a["action"], a["trusted"], a["path"]) for a in predicted["anchors"]] == \
        [(a["action"], a["trusted"], a["path"]) for a in real["anchors"]]
    assert predicted["changed"] == real["changed"] and predicted["diff"] == real["diff"]


def test_absent_removes_only_its_own_anchors_and_refreshes(device, certs):
    distribution_anchor = os.path.join(device.root, "usr/local/share/ca-certificates/g2.crt")
    with open(distribution_anchor, "w") as handle:
        handle.write(certs["root"].pem)
    run(device, ROOTS)
    result = run(device, [{"name": "g2"}, {"name": "msrsa", "builtin": "microsoft_rsa_root_ca_2017"}], state="absent")
    assert [(a["name"], a["action"]) for a in result["anchors"]] == [("g2", "removed"), ("msrsa", "unchanged")]
    assert result["anchors"][0]["sha256"] == G2.sha256 and not result["anchors"][0]["trusted"]
    assert result["anchors"][1]["trusted"], "the distribution's copy still makes it trusted"
    assert "--fresh" not in device.calls[-1], "--fresh empties the links folder first: a kill there breaks -CApath"
    # the removed anchor's own links went, the administrator's stayed
    assert device.links() == [(HASH + ".0", "g2.pem"), ("g2.pem", "../../../usr/local/share/ca-certificates/g2.crt")]
    assert anchors(device) == ["g2.crt"]
    assert not run(device, [{"name": "g2"}], state="absent")["changed"]


def test_a_bad_result_restores_the_previous_anchors(device):
    device.drop = G2.pem
    with pytest.raises(DpsTlsError, match="g2 not in .*previous anchors were restored") as failure:
        run(device, ROOTS)
    assert "certificates" in failure.value.details["output"]
    assert anchors(device) == []
    assert len(device.calls) == 2 and "--fresh" not in device.calls[-1], "the store is rebuilt after the restore"
    assert device.links() == [], "the links of the anchors taken back went with them"


def test_a_shrunk_bundle_is_refused(device, certs):
    run(device, [{"name": "g2", "builtin": "digicert_global_root_g2"}])
    device.distribution = []
    with pytest.raises(DpsTlsError, match="shrank from 3 to 2"):
        run(device, [{"name": "root", "content": certs["root"].pem, "sha256": certs["root"].sha256}])
    assert anchors(device) == ["iotops-dps_tls-g2.crt"]


def test_a_failing_tool_fails_the_task_with_its_output(device):
    device.rc = 3
    with pytest.raises(DpsTlsError, match="failed with exit code 3.*previous anchors were restored") as failure:
        run(device, ROOTS)
    assert failure.value.details["output"] == "boom"
    assert anchors(device) == [] and len(device.calls) == 2, "restored, then the update was rerun"


def test_a_run_that_died_is_repaired(device):
    # died after writing the anchor, before the update: the anchor is right but the bundle lacks it
    run(device, ROOTS)
    bundle = os.path.join(device.root, "etc/ssl/certs/ca-certificates.crt")
    with open(bundle, "w") as handle:
        handle.write(MSRSA.pem)
    with open(bundle + ".new", "w") as handle:
        handle.write("half a bundle")
    leftover = os.path.join(device.root, "usr/local/share/ca-certificates/.iotops-dps_tls-abc123.tmp")
    with open(leftover, "w") as handle:
        handle.write("-----BEGIN CERT")
    result = run(device, ROOTS)
    assert result["changed"] and result["anchors"][0]["trusted"]
    assert not os.path.exists(bundle + ".new") and not os.path.exists(leftover)

    # died while the tool ran after an anchor was removed: the pending marker makes the next run drop the links
    # left dangling, run the tool and rebuild the hash links (Debian's tool rehashes only when it links anew)
    open(os.path.join(device.root, "etc/ssl/certs/.iotops-dps_tls-update-pending"), "w").close()
    os.unlink(os.path.join(device.root, "usr/local/share/ca-certificates/iotops-dps_tls-g2.crt"))
    calls = len(device.calls)
    result = run(device, ROOTS[1:])
    assert result["changed"] and len(device.calls) == calls + 2 and "--fresh" not in device.calls[-2]
    assert device.calls[-1] == ["/usr/sbin/openssl", "rehash", os.path.join(device.root, "etc/ssl/certs")]
    assert [name for name, target in device.links() if "g2" in target] == []
    assert not run(device, ROOTS[1:])["changed"]


@pytest.mark.parametrize("certificates, state, root, option, words", [
    ([], "present", "/", "certificates", "at least one"),
    ([{"name": "a/b", "builtin": "digicert_global_root_g2"}], "present", "/", "certificates[0].name", "letters"),
    # the name goes into a file name: a trailing newline, which a pattern ending in $ lets through, is refused
    ([{"name": "a\n", "builtin": "digicert_global_root_g2"}], "present", "/", "certificates[0].name", "letters"),
    ([{"name": "..", "builtin": "digicert_global_root_g2"}], "present", "/", "certificates[0].name", "letters"),
    ([{"name": "a", "builtin": "digicert_global_root_g2"}] * 2, "present", "/", "certificates[1].name", "twice"),
    ([{"name": "a"}], "present", "/", "certificates[0]", "one of builtin, content or src"),
    ([{"name": "a", "builtin": "digicert_global_root_g2", "src": "/x"}], "present", "/", "certificates[0]", "only one"),
    ([{"name": "a", "builtin": "baltimore"}], "present", "/", "certificates[0].builtin", "unknown builtin"),
    ([{"name": "a", "src": "/x"}], "present", "/", "certificates[0].sha256", "is required"),
    ([{"name": "a", "src": "/x", "sha256": "12"}], "present", "/", "certificates[0].sha256", "32 hex bytes"),
    ([{"name": "a", "builtin": "digicert_global_root_g2", "sha256": MSRSA.sha256}], "present", "/",
     "certificates[0].sha256", "does not match"),
    ([{"name": "a", "builtin": "digicert_global_root_g2"}], "present", "relative/root", "root", "absolute"),
])
def test_bad_input_is_refused_before_anything_is_read(monkeypatch, certificates, state, root, option, words):
    def refuse(*args):
        raise AssertionError("the system was read before the input was checked")
    monkeypatch.setattr(os.path, "isdir", refuse)
    with pytest.raises(InvalidInputError, match=words) as failure:
        ensure(certificates, state, root, "auto", False, refuse, refuse)
    assert failure.value.option == option


def test_a_bad_certificate_leaves_the_store_untouched(device, certs):
    with pytest.raises(InvalidInputError) as failure:
        run(device, ROOTS + [{"name": "bad", "content": certs["not_ca"].pem, "sha256": certs["not_ca"].sha256}])
    assert failure.value.option == "certificates[2].content"
    assert anchors(device) == [] and device.calls == []


def test_another_root_is_only_for_debian(tmp_path):
    (tmp_path / "etc").mkdir()
    (tmp_path / "etc/os-release").write_text("ID=fedora\n")
    with pytest.raises(InvalidInputError, match="only for the debian family"):
        ensure(ROOTS, "present", str(tmp_path), "auto", False, None, None)


def test_links_of_the_image_lead_into_the_image_never_to_this_host(tmp_path, certs):
    """An image whose store folders are absolute links: they mean the image's own folders. Before, the anchor was
    written through the link into the host's folder and the host's bundle was rebuilt."""
    host = tmp_path / "host"
    image = tmp_path / "image"
    for folder in ("certs", "anchors"):
        (host / folder).mkdir(parents=True)
        (image / str(host / folder).lstrip("/")).mkdir(parents=True)
    (host / "certs/ca-certificates.crt").write_text(MSRSA.pem)
    (image / "etc/ssl").mkdir(parents=True)
    (image / "usr/local/share").mkdir(parents=True)
    (image / "usr/share/ca-certificates").mkdir(parents=True)
    (image / "etc/os-release").write_text("ID=debian\n")
    (image / "etc/ssl/certs").symlink_to(str(host / "certs"))
    (image / "usr/local/share/ca-certificates").symlink_to(str(host / "anchors"))
    tool = FakeTool(str(image), [certs["other"].pem])
    result = run(tool, ROOTS[:1])
    assert result["changed"] and result["anchors"][0]["action"] == "added"
    assert os.listdir(str(host / "anchors")) == [] and os.listdir(str(host / "certs")) == ["ca-certificates.crt"]
    assert (host / "certs/ca-certificates.crt").read_text() == MSRSA.pem, "the host's bundle was rebuilt"
    inside = image / str(host).lstrip("/")
    assert os.listdir(str(inside / "anchors")) == ["iotops-dps_tls-g2.crt"]
    options = dict(zip(tool.calls[0][1::2], tool.calls[0][2::2]))
    assert options["--etccertsdir"] == str(inside / "certs")
    assert os.path.realpath(os.path.join(options["--etccertsdir"], options["--localcertsdir"])) == str(inside / "anchors")
    assert G2.pem in (inside / "certs/ca-certificates.crt").read_text()


def test_a_link_at_an_anchor_is_never_read_or_written_through(device, tmp_path):
    outside = tmp_path / "outside.crt"
    outside.write_text("the host's file")
    os.symlink(str(outside), os.path.join(device.root, "usr/local/share/ca-certificates/iotops-dps_tls-g2.crt"))
    with pytest.raises(InvalidInputError, match="is a symbolic link, not a regular file"):
        run(device, ROOTS[:1])
    assert outside.read_text() == "the host's file" and device.calls == []


@pytest.mark.parametrize("layout, family, words", [
    (["etc/os-release"], "auto", "holds no debian trust store"),
    ([], "auto", "holds no system this module knows"),
    ([], "debian", "holds no debian trust store"),
])
def test_a_root_without_a_trust_store_is_refused_and_left_empty(tmp_path, layout, family, words):
    for path in layout:
        (tmp_path / path).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / path).write_text("ID=debian\n")
    before = sorted(os.walk(str(tmp_path)))
    with pytest.raises(InvalidInputError, match=words) as failure:
        ensure(ROOTS, "present", str(tmp_path), family, False, None, lambda name: "/usr/sbin/" + name)
    assert failure.value.option == "root"
    assert sorted(os.walk(str(tmp_path))) == before, "a new store was made"


def test_a_fifo_or_a_huge_file_as_src_is_refused_by_name(device, tmp_path, certs):
    os.mkfifo(str(tmp_path / "pipe"))
    with open(str(tmp_path / "huge.pem"), "wb") as handle:
        handle.truncate(1024 ** 3)
    for path, words in ((tmp_path / "pipe", "is a FIFO"), (tmp_path / "huge.pem", "1073741824 bytes")):
        with pytest.raises(InvalidInputError, match=words) as failure:
            run(device, [{"name": "r", "src": str(path), "sha256": certs["root"].sha256}])
        assert failure.value.option == "certificates[0].src"
    assert anchors(device) == [] and device.calls == []
