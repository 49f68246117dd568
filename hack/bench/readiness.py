# Copyright: iotops.dps_tls contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Bench (d): the readiness audit (playbooks/audit_readiness.yml) on simulated devices: wall time and time per
device, with the report's counts checked against what the devices were made to be."""

import json
import os
import shutil
import sys
import tempfile

from common import BIN, COLLECTION, BenchError, ansible_env, log, measure, run
from trust import FORKS

PLAYBOOK = os.path.join(COLLECTION, "playbooks", "audit_readiness.yml")


def bench(_venv, args):
    if not (os.path.exists(PLAYBOOK) and os.path.isdir(os.path.join(COLLECTION, "roles", "tls_readiness"))):
        return {"not_available": "playbooks/audit_readiness.yml or roles/tls_readiness is not in this copy"}
    work = tempfile.mkdtemp(prefix="bench-readiness.")
    try:
        return _bench(work, args.devices, args.fleet_runs)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _bench(work, count, runs):
    # About half without the DPS roots, a tenth offering no DPS suite (the last ones): the rest are ready.
    missing, weak = count // 2, count // 10
    devices = os.path.join(work, "devices")
    run([sys.executable, os.path.join(COLLECTION, "hack", "simulated_devices.py"), "--count", str(count),
         "--missing-roots", str(missing), "--weak-tls", str(weak), "--out", devices])
    report_dir = os.path.join(work, "report")
    argv = [os.path.join(BIN, "ansible-playbook"), "-i", os.path.join(devices, "inventory.yml"), PLAYBOOK,
            "-e", "readiness_report_dir=%s" % report_dir, "-e", "readiness_min_ratio=0"]
    env = ansible_env({"ANSIBLE_FORKS": str(FORKS)})
    expected_ready = count - missing - weak

    def once(_index):
        shutil.rmtree(report_dir, ignore_errors=True)
        seconds, _proc = run(argv, env=env)
        with open(os.path.join(report_dir, "readiness.json"), encoding="utf-8") as handle:
            summary = json.load(handle)["summary"]
        if summary.get("counted") != count or summary.get("ready") != expected_ready:
            raise BenchError("the readiness report counts %s of %s devices ready, expected %d of %d"
                             % (summary.get("ready"), summary.get("counted"), expected_ready, count))
        return seconds

    log("(d) readiness audit on %d devices" % count)
    measured = measure("readiness audit", runs, once, warmup=False)
    return {"devices": count, "missing": missing, "weak": weak, "ready": expected_ready, "runs": runs,
            "forks": FORKS, "audit": measured}


def report(results):
    lines = ["## d. The readiness audit on a fleet", ""]
    if "not_available" in results:
        results["targets"] = []
        return lines + ["Not available: %s." % results["not_available"]]
    count = results["devices"]
    audit = results["audit"]
    lines.append(
        "`ansible-playbook -i <devices> playbooks/audit_readiness.yml` on %d simulated devices (%d without the DPS "
        "roots, %d whose OpenSSL configuration offers no DPS suite), local connection, forks = %d, median of %d runs "
        "(no warm-up: 100-device runs are slow); every run's readiness.json must count %d ready of %d. No target: this is the time to "
        "expect." % (count, results["missing"], results["weak"], results["forks"], results["runs"],
                     results["ready"], count))
    lines += ["", "| devices | wall (s) | per device (ms) | CPU (s) |", "|---:|---:|---:|---:|",
              "| %d | %.2f | %.0f | %.2f |" % (count, audit["median"], audit["median"] / count * 1000, audit["cpu"]),
              "", "Samples (s): %s" % ", ".join("%.2f" % s for s in audit["samples"])]
    results["targets"] = [("d. readiness audit, %d devices (no target)" % count,
                           "%.2f s, %.0f ms per device" % (audit["median"], audit["median"] / count * 1000), "-")]
    return lines
