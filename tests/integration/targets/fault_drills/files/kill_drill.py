# Copyright: iotops.dps_tls contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Kill ca_trust runs with SIGKILL at random moments and check that the trust store stays usable.

Runs inside setup_trust_store's private store (never the host's). Each round picks a random change (add or remove
a random set of the four builtin roots and a test root) and a random moment within the time a run takes, kills the
run there, checks the store a killed run leaves (the bundle parses, holds the certificates of before or of after the
change and nothing else, and verifies a distribution root with openssl; the hash-link folder, what -CApath and
curl --capath read, verifies that root and every root trusted both before and after the change), then runs the same
task again and checks that it repairs the store exactly and that a further run changes nothing.

A kill stops every process of the run, not one process group: Ansible's worker calls setsid(), so killing the
group of ansible-playbook leaves the module and its update tool running. The drill freezes the whole tree of
descendants (SIGSTOP, until no new process appears), then kills each process.

Usage: python kill_drill.py --module ca_trust.py [--rounds 20] [--seed N]
"""

from __future__ import annotations

import argparse
import datetime
import glob
import json
import os
import random
import re
import signal
import subprocess
import sys
import tempfile
import time
import warnings

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

CERTS_DIR = "/etc/ssl/certs"
BUNDLE = CERTS_DIR + "/ca-certificates.crt"
PENDING = CERTS_DIR + "/.iotops-dps_tls-update-pending"
ANCHORS = "/usr/local/share/ca-certificates"
DISTRIBUTION_ROOT = "/usr/share/ca-certificates/mozilla/ISRG_Root_X1.crt"
BUILTINS = {
    "digicert_global_root_g2": "CB3CCBB76031E5E0138F8DD39A23F9DE47FFC35E43C1144CEA27D46A5AB1CB5F",
    "microsoft_rsa_root_ca_2017": "C741F70F4B2A8D88BF2E71C14122EF53EF10EBA0CFA5E64CFA20F418853073E0",
    "digicert_global_root_g3": "31AD6648F8104138C738F39EA4320133393E3A18CC02296EF97C2AC9EF6731D0",
    "microsoft_ecc_root_ca_2017": "358DF39D764AF9E1B766E9C972DF352EE15CFAC227AF6AD1D70E8E4A6EDCBA02",
}
TEST_ROOT = "drill_test_root"
# One distribution root has a negative serial number; cryptography parses it with a warning we need not see.
warnings.filterwarnings("ignore", message="Parsed a serial number which wasn't positive")
PEM_BLOCK = re.compile(r"-----BEGIN CERTIFICATE-----.*?-----END CERTIFICATE-----", re.S)


def builtin_pems(module):
    """The PEMs of the builtin roots, from the collection's own roots module next to the module."""
    path = os.path.join(os.path.dirname(os.path.abspath(module)), "..", "module_utils", "_trust", "roots.py")
    with open(path) as handle:
        text = handle.read()
    by_print = {}
    for block in PEM_BLOCK.findall(text):
        cert = x509.load_pem_x509_certificate(block.encode())
        by_print[cert.fingerprint(hashes.SHA256()).hex().upper()] = block + "\n"
    return {name: by_print[sha] for name, sha in BUILTINS.items()}


def make_test_root():
    """A self-signed EC root of our own, so the drill also covers content entries with a pin."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Fault Drill Test Root")])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(days=1))
            .not_valid_after(now + datetime.timedelta(days=30))
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    return cert.public_bytes(serialization.Encoding.PEM).decode(), cert.fingerprint(hashes.SHA256()).hex().upper()


class Runner:
    """Runs the module as Ansible does on a host: python ca_trust.py ARGS.json, in its own process group."""

    def __init__(self, python, module, test_root_pem, test_root_sha256):
        self.python = python
        self.module = os.path.abspath(module)
        # .../ansible_collections/iotops/dps_tls/plugins/modules/ca_trust.py -> the folder above ansible_collections
        self.pythonpath = os.path.abspath(os.path.join(os.path.dirname(self.module), *[".."] * 5))
        self.test_root = dict(name=TEST_ROOT, content=test_root_pem, sha256=test_root_sha256)

    def entry(self, name, state):
        if state == "absent":
            return dict(name=name)
        return dict(self.test_root) if name == TEST_ROOT else dict(name=name, builtin=name)

    def start(self, names, state):
        fd, path = tempfile.mkstemp(suffix=".json")
        with os.fdopen(fd, "w") as handle:
            json.dump({"ANSIBLE_MODULE_ARGS": {"certificates": [self.entry(n, state) for n in names],
                                               "state": state}}, handle)
        env = dict(os.environ, PYTHONPATH=self.pythonpath)
        return subprocess.Popen([self.python, self.module, path], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                env=env, start_new_session=True)

    def run(self, names, state):
        proc = self.start(names, state)
        out, err = proc.communicate()
        try:
            result = json.loads(out.decode())
        except ValueError:
            result = {"failed": True, "msg": out.decode()}
        check(proc.returncode == 0 and not result.get("failed"),
              "ca_trust %s %s failed: %s %s" % (state, names, result, err.decode()))
        return result


def descendants(pid):
    """Every living process below pid, found by walking /proc (any session or process group)."""
    children = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % entry) as handle:
                fields = handle.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        children.setdefault(int(fields[1]), []).append(int(entry))
    found, queue = [], [pid]
    while queue:
        for child in children.get(queue.pop(), []):
            found.append(child)
            queue.append(child)
    return found


def kill_run(pid):
    """SIGKILL pid and all its descendants, wherever they moved: frozen first, so none forks away meanwhile."""
    frozen = set()
    while True:
        tree = set([pid] + descendants(pid)) - frozen
        if not tree:
            break
        for member in tree:
            try:
                os.kill(member, signal.SIGSTOP)
            except ProcessLookupError:
                pass
        frozen |= tree
    for member in frozen:
        try:
            os.kill(member, signal.SIGKILL)
        except ProcessLookupError:
            pass
    return len(frozen)


def check(condition, message):
    if not condition:
        raise AssertionError(message)


def bundle_fingerprints():
    """SHA-256 of every certificate in the bundle; each block must parse as X.509."""
    with open(BUNDLE) as handle:
        text = handle.read()
    prints = []
    for block in PEM_BLOCK.findall(text):
        cert = x509.load_pem_x509_certificate(block.encode())
        prints.append(cert.fingerprint(hashes.SHA256()).hex().upper())
    return prints


def openssl_verifies(cert, capath=False):
    """cert is a path, or PEM text given on stdin."""
    argv = ["openssl", "verify", "-no-CAstore"] + (["-no-CAfile", "-CApath", CERTS_DIR] if capath else
                                                   ["-no-CApath", "-CAfile", BUNDLE])
    text = cert if cert.startswith("-----BEGIN") else None
    argv += [] if text else [cert]
    return subprocess.run(argv, input=text, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False,
                          universal_newlines=True).returncode == 0


def links_verify(names, pems):
    """The hash links verify a distribution root and each named root (self-signed: a root verifies itself)."""
    check(openssl_verifies(DISTRIBUTION_ROOT, capath=True), "the hash links no longer verify a distribution root")
    lost = [name for name in names if not openssl_verifies(pems[name], capath=True)]
    check(not lost, "the hash links no longer verify %s" % ", ".join(lost))


def expected_prints(base, present, pins):
    return sorted(base + [pins[name] for name in present])


def assert_usable(base, pins, pems, before, after):
    """What a killed run may leave: the store of before or of after the change, whole, and usable, by the bundle
    and by the hash links alike."""
    prints = bundle_fingerprints()
    check(sorted(prints) in (expected_prints(base, before, pins), expected_prints(base, after, pins)),
          "the bundle holds %d certificates, neither the %d of before nor the %d of after the change"
          % (len(prints), len(base) + len(before), len(base) + len(after)))
    check(openssl_verifies(DISTRIBUTION_ROOT), "the bundle no longer verifies a distribution root")
    links_verify(sorted(set(before) & set(after)), pems)
    return "after" if sorted(prints) == expected_prints(base, after, pins) and before != after else "before"


def assert_exact(base, pins, pems, present):
    """The store after a complete run: exactly these roots, every link good, nothing left over."""
    prints = bundle_fingerprints()
    check(sorted(prints) == expected_prints(base, present, pins),
          "the bundle holds %d certificates, expected %d" % (len(prints), len(base) + len(present)))
    links_verify(present, pems)
    check(not os.path.exists(BUNDLE + ".new"), "a half-built bundle was left behind")
    check(not os.path.exists(PENDING), "the pending marker was left behind")
    check(not glob.glob(os.path.join(ANCHORS, ".iotops-dps_tls-*")), "temporary anchor files were left behind")
    dangling = subprocess.run(["find", CERTS_DIR, "-xtype", "l"], stdout=subprocess.PIPE, check=True).stdout
    check(not dangling, "dangling links: %s" % dangling.decode())


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--python", default=sys.executable)
    parser.add_argument("--module", required=True)
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--seed", type=int, default=int(os.environ.get("DRILL_SEED") or time.time()))
    args = parser.parse_args()
    rng = random.Random(args.seed)
    print("seed %d (DRILL_SEED=%d reproduces this drill)" % (args.seed, args.seed))
    pem, sha256 = make_test_root()
    pins = dict(BUILTINS, **{TEST_ROOT: sha256})
    pems = dict(builtin_pems(args.module), **{TEST_ROOT: pem})
    names = sorted(pins)
    runner = Runner(args.python, args.module, pem, sha256)

    runner.run(names, "absent")
    base = bundle_fingerprints()
    check(not set(pins.values()) & set(base), "the DPS roots are not deselected in the private store")
    assert_exact(base, pins, pems, [])

    # How long a run takes here: the kills are spread over that span (one random moment in each slice of it).
    started = time.monotonic()
    runner.run(names, "present")
    span = (time.monotonic() - started) * 1.1
    print("a run that adds %d roots takes %.2fs; kills land within %.2fs" % (len(names), span / 1.1, span))
    present = set(names)
    moments = [(i + rng.random()) * span / args.rounds for i in range(args.rounds)]
    rng.shuffle(moments)

    landed = {}
    for number, moment in enumerate(moments, 1):
        state = rng.choice(["present", "absent"])
        pool = [n for n in names if (n not in present) == (state == "present")]
        if not pool:
            state = "absent" if state == "present" else "present"
            pool = [n for n in names if (n not in present) == (state == "present")]
        chosen = sorted(rng.sample(pool, rng.randint(1, len(pool))))
        after = present | set(chosen) if state == "present" else present - set(chosen)

        proc = runner.start(chosen, state)
        time.sleep(moment)
        stage = ("during the update tool" if os.path.exists(PENDING) else
                 "while writing anchors" if glob.glob(os.path.join(ANCHORS, ".iotops-dps_tls-*")) else "elsewhere")
        kill_run(proc.pid)
        proc.wait()
        if proc.returncode == 0:
            stage = "after it finished"
        landed[stage] = landed.get(stage, 0) + 1
        left = assert_usable(base, pins, pems, sorted(present), sorted(after))

        repaired = runner.run(chosen, state)
        assert_exact(base, pins, pems, sorted(after))
        if state == "present":
            check(all(a["trusted"] for a in repaired["anchors"]), "the rerun did not trust every root: %s" % repaired)
        if number % 5 == 0:
            # Now and then a third run, to see that the repaired store has converged (every run costs seconds).
            again = runner.run(chosen, state)
            check(not again["changed"], "a third run still changed something: %s" % again)
            assert_exact(base, pins, pems, sorted(after))
        print("%2d: %-7s %-60s killed at %.2fs %-22s left the store of %-6s rerun changed=%s and repaired it"
              % (number, state, ",".join(chosen), moment, "(" + stage + ")", left, repaired["changed"]))
        present = after

    print("kills landed: %s" % json.dumps(landed, sort_keys=True))
    check(landed.get("during the update tool", 0) >= 3,
          "fewer than 3 kills landed while the update tool ran (%s): the drill did not test what it should" % landed)
    runner.run(names, "absent")
    assert_exact(base, pins, pems, [])


if __name__ == "__main__":
    main()
