# Copyright: iotops.dps_tls contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Concurrent and killed ca_trust runs against the real update-ca-certificates (inside the private store).

Runs the module the way Ansible does on a host (python ca_trust.py ARGS.json), because only processes can
race each other or be killed with SIGKILL at a chosen moment.
"""

from __future__ import annotations

import argparse
import base64
import glob
import hashlib
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import time

BUNDLE = "/etc/ssl/certs/ca-certificates.crt"
PENDING = "/etc/ssl/certs/.iotops-dps_tls-update-pending"
ANCHORS = "/usr/local/share/ca-certificates"
BUILTINS = {
    "digicert_global_root_g2": "CB3CCBB76031E5E0138F8DD39A23F9DE47FFC35E43C1144CEA27D46A5AB1CB5F",
    "microsoft_rsa_root_ca_2017": "C741F70F4B2A8D88BF2E71C14122EF53EF10EBA0CFA5E64CFA20F418853073E0",
    "digicert_global_root_g3": "31AD6648F8104138C738F39EA4320133393E3A18CC02296EF97C2AC9EF6731D0",
    "microsoft_ecc_root_ca_2017": "358DF39D764AF9E1B766E9C972DF352EE15CFAC227AF6AD1D70E8E4A6EDCBA02",
}
DISTRIBUTION_ROOT = "/usr/share/ca-certificates/mozilla/ISRG_Root_X1.crt"


class Runner(object):
    def __init__(self, python, module):
        self.python = python
        self.module = os.path.abspath(module)
        # .../ansible_collections/iotops/dps_tls/plugins/modules/ca_trust.py -> the folder above ansible_collections
        self.pythonpath = os.path.abspath(os.path.join(os.path.dirname(self.module), *[".."] * 5))

    def start(self, names, state="present"):
        certs = [{"name": n, "builtin": n} if state == "present" else {"name": n} for n in names]
        fd, path = tempfile.mkstemp(suffix=".json")
        with os.fdopen(fd, "w") as handle:
            json.dump({"ANSIBLE_MODULE_ARGS": {"certificates": certs, "state": state}}, handle)
        env = dict(os.environ, PYTHONPATH=self.pythonpath)
        return subprocess.Popen([self.python, self.module, path], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                env=env, start_new_session=True)

    def run(self, names, state="present"):
        proc = self.start(names, state)
        out, err = proc.communicate()
        result = json.loads(out.decode())
        if proc.returncode != 0 or result.get("failed"):
            raise AssertionError("module failed: %s %s" % (result, err.decode()))
        return result


def bundle_fingerprints():
    with open(BUNDLE) as handle:
        text = handle.read()
    blocks = re.findall(r"-----BEGIN CERTIFICATE-----(.*?)-----END CERTIFICATE-----", text, re.S)
    return [hashlib.sha256(base64.b64decode("".join(b.split()))).hexdigest().upper() for b in blocks]


def openssl_trusts(cert, capath_only=False):
    argv = ["openssl", "verify"] + (["-no-CAfile", "-CApath", "/etc/ssl/certs"] if capath_only else
                                    ["-no-CApath", "-CAfile", BUNDLE]) + [cert]
    return subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False).returncode == 0


def check(condition, message):
    if not condition:
        raise AssertionError(message)


def assert_intact(baseline, names):
    """The bundle holds the baseline plus exactly these roots, once each, and links agree."""
    prints = bundle_fingerprints()
    check(len(prints) == len(set(prints)), "bundle has duplicates: %d certificates, %d distinct"
          % (len(prints), len(set(prints))))
    check(len(prints) == baseline + len(names), "bundle has %d certificates, expected %d"
          % (len(prints), baseline + len(names)))
    for name in names:
        check(BUILTINS[name] in prints, "%s missing from the bundle" % name)
    check(not os.path.exists(BUNDLE + ".new"), "a half-built bundle was left behind")
    check(not os.path.exists(PENDING), "the pending marker was left behind")
    check(not glob.glob(os.path.join(ANCHORS, ".iotops-dps_tls-*")), "temporary anchor files were left behind")
    dangling = subprocess.run(["find", "/etc/ssl/certs", "-xtype", "l"], stdout=subprocess.PIPE, check=True).stdout
    check(not dangling, "dangling links: %s" % dangling.decode())
    check(openssl_trusts(DISTRIBUTION_ROOT, capath_only=True), "hash links lost a distribution root")


def assert_usable(baseline):
    """What a killed run may leave: an older or newer bundle, never a damaged one."""
    prints = bundle_fingerprints()
    check(len(prints) >= baseline, "bundle shrank to %d certificates (baseline %d)" % (len(prints), baseline))
    check(openssl_trusts(DISTRIBUTION_ROOT), "the bundle no longer verifies a distribution root")


def concurrent(runner, baseline, rounds=2):
    names = sorted(BUILTINS)
    for number in range(rounds):
        runner.run(names, state="absent")
        assert_intact(baseline, [])
        procs = [runner.start([name]) for name in names]
        results = []
        for proc in procs:
            out, err = proc.communicate()
            check(proc.returncode == 0, "a concurrent run failed: %s %s" % (out, err))
            results.append(json.loads(out.decode()))
        check(all(r["anchors"][0]["action"] == "added" and r["anchors"][0]["trusted"] for r in results),
              "a concurrent run did not add its root: %s" % results)
        assert_intact(baseline, names)
        print("concurrent round %d: 4 runs, bundle intact with %d certificates" % (number + 1, baseline + 4))
    runner.run(names, state="absent")


def killed(runner, baseline):
    names = ["digicert_global_root_g2", "microsoft_rsa_root_ca_2017"]
    landed = {}
    delay = 0.05
    while delay < 1.3:
        runner.run(names, state="absent")
        proc = runner.start(names)
        time.sleep(delay)
        anchors_written = len(glob.glob(os.path.join(ANCHORS, "iotops-dps_tls-*.crt")))
        stage = "during update" if os.path.exists(PENDING) else (
            "after anchors" if anchors_written else "before anchors")
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
        if proc.returncode == 0:
            stage = "finished"
        landed[stage] = landed.get(stage, 0) + 1
        assert_usable(baseline)
        result = runner.run(names)
        check(all(a["trusted"] for a in result["anchors"]), "the next run did not repair: %s" % result)
        assert_intact(baseline, names)
        print("killed after %.2fs (%s): store usable, next run repaired it (changed=%s)"
              % (delay, stage, result["changed"]))
        delay += 0.15
    print("kills landed: %s" % landed)
    check(landed.get("during update", 0) > 0, "no kill landed while the update tool ran: %s" % landed)
    runner.run(names, state="absent")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--python", default=sys.executable)
    parser.add_argument("--module", required=True)
    args = parser.parse_args()
    runner = Runner(args.python, args.module)
    runner.run(sorted(BUILTINS), state="absent")
    baseline = len(bundle_fingerprints())
    check(not set(BUILTINS.values()) & set(bundle_fingerprints()), "the DPS roots are not deselected")
    concurrent(runner, baseline)
    killed(runner, baseline)


if __name__ == "__main__":
    main()
