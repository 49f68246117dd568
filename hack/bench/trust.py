# Copyright: iotops.dps_tls contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Bench (b): the root_ca_trust role on simulated devices (one root filesystem each, local connection), first
run and rerun, against a naive role (a copy per certificate, then the update command) and a floor (one ping)."""

import os
import shutil
import sys
import tempfile

from common import BENCH_DIR, BIN, COLLECTION, BenchError, ansible_env, log, measure, median, recap_changed, run

FORKS = 5
ROOTS_DIR = os.path.join(COLLECTION, "roles", "root_ca_trust", "files", "roots")
# What must be in every device's bundle afterwards: the base64 of both roots' first lines.
CHECKED_ROOTS = ("digicert_global_root_g2", "microsoft_rsa_root_ca_2017")


def make_devices(out, count):
    """Fresh simulated devices, every one without the DPS roots (the worst case: all need both)."""
    run([sys.executable, os.path.join(COLLECTION, "hack", "simulated_devices.py"), "--count", str(count),
         "--missing-roots", str(count), "--out", out])
    return os.path.join(out, "inventory.yml")


def _marker(name):
    with open(os.path.join(ROOTS_DIR, name + ".pem"), encoding="ascii") as handle:
        return handle.read().splitlines()[1]


def check_trusted(devices, count):
    """The first and the last device's bundles hold both roots."""
    for number in (1, count):
        bundle = os.path.join(devices, "device-%03d" % number, "etc", "ssl", "certs", "ca-certificates.crt")
        with open(bundle, encoding="ascii") as handle:
            text = handle.read()
        missing = [name for name in CHECKED_ROOTS if _marker(name) not in text]
        if missing:
            raise BenchError("device-%03d does not trust %s after the run" % (number, ", ".join(missing)))


def bench(_venv, args):
    work = tempfile.mkdtemp(prefix="bench-trust.")
    try:
        return _bench(work, args.devices, args.fleet_runs)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _bench(work, count, runs):
    devices = os.path.join(work, "devices")
    env = ansible_env({"ANSIBLE_FORKS": str(FORKS)})
    playbook = os.path.join(BIN, "ansible-playbook")
    results = {"devices": count, "runs": runs, "forks": FORKS, "contenders": {}}

    inventory = make_devices(devices, count)

    def ping(_index):
        seconds, proc = run([playbook, "-i", inventory, os.path.join(BENCH_DIR, "ping.yml")], env=env)
        if recap_changed(proc.stdout) != (0, 0):
            raise BenchError("the ping floor changed or failed something")
        return seconds

    # The floor's warm-up warms ansible and the devices' files for the whole section: 100-device runs are
    # too slow for a warm-up each.
    log("(b) floor: ping on %d devices" % count)
    results["contenders"]["ping (floor)"] = {"rerun": measure("ping", runs, ping)}

    task_alone = [playbook, "-i", inventory, os.path.join(BENCH_DIR, "ca_trust_task.yml")]
    for label, book, extra in (
            ("root_ca_trust", "trust_role.yml", []),
            ("naive role", "naive_trust.yml", ["-e", "naive_root_trust_roots_dir=%s" % ROOTS_DIR])):
        argv = [playbook, "-i", inventory, os.path.join(BENCH_DIR, book)] + extra
        reruns, alone = [], []
        first = _first_run(label, argv, env, devices, count, reruns,
                           alone if label == "root_ca_trust" else None, task_alone)
        log("(b) %s on %d devices" % (label, count))
        results["contenders"][label] = {"first": measure("%s first run" % label, runs, first, warmup=False),
                                        "rerun": _summary("%s rerun" % label, reruns)}
        if alone:
            results["contenders"]["ca_trust task alone (rerun only)"] = {
                "rerun": _summary("ca_trust task alone rerun", alone)}
    return results


def _first_run(label, argv, env, devices, count, reruns, alone, task_alone):
    """A first run on fresh devices, checked; then the rerun(s) on the same devices, kept in reruns (and alone)."""
    def once(_index):
        make_devices(devices, count)
        seconds, proc = run(argv, env=env)
        changed, failed = recap_changed(proc.stdout)
        if failed or changed < count:
            raise BenchError("%s first run: %d changed, %d failed on %d devices" % (label, changed, failed, count))
        check_trusted(devices, count)
        reruns.append(_rerun(label, argv, env))
        if alone is not None:
            alone.append(_rerun("the ca_trust task alone", task_alone, env))
        return seconds
    return once


def _rerun(label, argv, env):
    """A rerun on the devices as the run before left them: it must change nothing."""
    seconds, proc = run(argv, env=env)
    if recap_changed(proc.stdout) != (0, 0):
        raise BenchError("%s rerun changed or failed something: %s" % (label, proc.stdout[-2000:]))
    return seconds


def _summary(label, samples):
    result = {"samples": [float(s) for s in samples], "median": median(samples),
              "cpu": median([s.cpu for s in samples])}
    log("%s: median %.2fs (cpu %.2fs)" % (label, result["median"], result["cpu"]))
    return result


def report(results):
    count = results["devices"]
    contenders = results["contenders"]
    lines = ["## b. Trust: root_ca_trust on a fleet", ""]
    lines.append(
        "%d simulated devices (`hack/simulated_devices.py`, one Debian-style root filesystem each, all of them "
        "without the DPS roots before a first run), local connection, forks = %d, median of %d runs (one warm-up "
        "of the floor for the whole section: 100-device runs are slow). A first run starts from fresh devices; "
        "the rerun follows it on the same devices and must change nothing. The naive role (`hack/bench/roles/naive_root_trust`) copies each root to "
        "`usr/local/share/ca-certificates` and runs `update-ca-certificates` from a handler. The floor is one "
        "`ansible.builtin.ping` per device. `ca_trust task alone` is the role's one Linux task in a playbook "
        "of its own, rerun after the role: the difference to the role is the role's own cost (its include and "
        "skipped tasks). Wall time of `ansible-playbook`; CPU = user + system seconds of it "
        "and its workers." % (count, results["forks"], results["runs"]))
    lines += ["", "| playbook | first run (s) | per device (ms) | rerun (s) | per device (ms) | rerun CPU (s) "
              "| rerun / floor |", "|---|---:|---:|---:|---:|---:|---:|"]
    floor = contenders["ping (floor)"]["rerun"]["median"]
    for label, entry in contenders.items():
        first = entry.get("first")
        rerun = entry["rerun"]
        lines.append("| %s | %s | %s | %.2f | %.0f | %.2f | %.2fx |" % (
            label, "%.2f" % first["median"] if first else "-",
            "%.0f" % (first["median"] / count * 1000) if first else "-", rerun["median"],
            rerun["median"] / count * 1000, rerun["cpu"], rerun["median"] / floor))
    ratio = contenders["root_ca_trust"]["rerun"]["median"] / floor
    met = "yes" if ratio <= 1.5 else "no"
    lines += ["", "- Target: root_ca_trust's rerun at most 1.5x the floor: %.2fx, **target met: %s**." % (ratio, met)]
    alone = contenders.get("ca_trust task alone (rerun only)")
    if alone:
        lines.append("- Where the rerun's time goes: the ca_trust task alone takes %.2fx the floor (the module: it "
                     "reads the bundle and checks each root by fingerprint); the role around it adds %.2f s "
                     "(%.0f ms per device) for its include and skipped tasks." % (
                         alone["rerun"]["median"] / floor,
                         contenders["root_ca_trust"]["rerun"]["median"] - alone["rerun"]["median"],
                         (contenders["root_ca_trust"]["rerun"]["median"] - alone["rerun"]["median"]) / count * 1000))
    naive = contenders["naive role"]
    lines.append("- root_ca_trust vs the naive role: first run %.2fx, rerun %.2fx." % (
        contenders["root_ca_trust"]["first"]["median"] / naive["first"]["median"],
        contenders["root_ca_trust"]["rerun"]["median"] / naive["rerun"]["median"]))
    results["targets"] = [("b. root_ca_trust rerun vs ping floor, %d devices (<= 1.5x)" % count,
                           "%.2fx" % ratio, met)]
    lines += ["", "Samples (s):", ""]
    for label, entry in contenders.items():
        first = entry.get("first")
        first_text = "first run %s; " % _samples(first) if first else ""
        lines.append("- %s: %srerun %s" % (label, first_text, _samples(entry["rerun"])))
    return lines


def _samples(measured):
    return ", ".join("%.2f" % s for s in measured["samples"])
