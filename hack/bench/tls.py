# Copyright: iotops.dps_tls contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Bench (c): tls_probe's full policy audit of one endpoint against sslyze and nmap's ssl-enum-ciphers, on
loopback and through a 40 ms round-trip proxy, with the accepted protocols and suites compared.

The endpoint is the emulator's device endpoint: the DPS policy exactly (TLS 1.2 only, the 12 suites), a threaded
server, reached by the DPS host name as SNI.
"""

import json
import os
import shutil
import sys
import tempfile
from xml.etree import ElementTree

from common import BIN, BenchError, Emulator, ansible_env, log, measure, run
from delay_proxy import DelayProxy

SERVER_NAME = "global.azure-devices-provisioning.net"
ALONE = "tls_probe module alone (no ansible)"
ROUND_TRIP = 0.040  # the delay proxy's, 20 ms each way
# The audit itself (module alone): at most this share of sslyze's wall time on loopback, and at most this many
# round trips plus a fixed allowance through the proxy.
ALONE_VS_SSLYZE = 0.2
ALONE_ROUND_TRIPS, ALONE_ALLOWANCE = 5, 0.050
FLOOR = "ansible localhost -m ping (floor)"
MODULE_FLOOR = "ping module alone (no ansible)"
# sslyze's comparable scan: the protocols tls_probe checks and the chain; not its other checks.
SSLYZE_SCANS = ["--tlsv1", "--tlsv1_1", "--tlsv1_2", "--tlsv1_3", "--certinfo"]
PROTOCOL_NAMES = {"tls_1_0": "TLSv1", "tls_1_1": "TLSv1.1", "tls_1_2": "TLSv1.2", "tls_1_3": "TLSv1.3",
                  "ssl_2_0": "SSLv2", "ssl_3_0": "SSLv3"}


def accepted_set(protocols, suites):
    """What a tool found: accepted protocols, and the suites accepted with TLS 1.2 (where the policy lives)."""
    return {"protocols": sorted(set(protocols)), "suites": sorted(set(suites))}


def tls_probe(emulator, port):
    env = ansible_env()
    argv = [os.path.join(BIN, "ansible"), "localhost", "-c", "local", "-o", "-m", "iotops.dps_tls.tls_probe",
            "-a", "host=127.0.0.1 port=%d server_name=%s ca_file=%s" % (port, SERVER_NAME, emulator.ca_file)]

    def once(_index):
        seconds, proc = run(argv, env=env)
        result = json.loads(proc.stdout.split("=>", 1)[1])
        if result.get("compliant") is not True:
            raise BenchError("tls_probe did not find the DPS endpoint compliant: %s" % result.get("findings"))
        found = accepted_set(result["accepted_protocols"],
                             [s["iana_name"] for s in result["cipher_suites"] if s["accepted"]])
        return seconds, found
    return once


def ansible_floor():
    """`ansible localhost -m ping`: what any ad-hoc ansible task costs before its module does anything."""
    argv = [os.path.join(BIN, "ansible"), "localhost", "-c", "local", "-o", "-m", "ansible.builtin.ping"]

    def once(_index):
        seconds, _proc = run(argv, env=ansible_env())
        return seconds, None
    return once


def tls_probe_alone(emulator, port, work):
    """The module's own run, without ansible around it: python -m <module> <args file>."""
    args = os.path.join(work, "tls_probe_args.json")
    with open(args, "w", encoding="utf-8") as handle:
        json.dump({"ANSIBLE_MODULE_ARGS": {"host": "127.0.0.1", "port": port, "server_name": SERVER_NAME,
                                           "ca_file": emulator.ca_file}}, handle)
    env = ansible_env({"PYTHONPATH": ansible_env()["ANSIBLE_COLLECTIONS_PATH"]})
    argv = [sys.executable, "-m", "ansible_collections.iotops.dps_tls.plugins.modules.tls_probe", args]

    def once(_index):
        seconds, proc = run(argv, env=env)
        result = json.loads(proc.stdout)
        return seconds, accepted_set(result["accepted_protocols"],
                                     [s["iana_name"] for s in result["cipher_suites"] if s["accepted"]])
    return once


def module_floor(work):
    """ansible.builtin.ping run as python -m: what any Ansible module in Python costs before it does anything
    (Python's start, Ansible's module runtime, the arguments and the JSON answer). The floor of the module alone."""
    args = os.path.join(work, "ping_args.json")
    with open(args, "w", encoding="utf-8") as handle:
        json.dump({"ANSIBLE_MODULE_ARGS": {}}, handle)
    argv = [sys.executable, "-m", "ansible.modules.ping", args]

    def once(_index):
        seconds, proc = run(argv)
        if json.loads(proc.stdout).get("ping") != "pong":
            raise BenchError("the ping module did not answer: %s" % proc.stdout)
        return seconds, None
    return once


def sslyze(emulator, port, work, venv):
    out = os.path.join(work, "sslyze.json")
    argv = [venv["python"], "-m", "sslyze"] + SSLYZE_SCANS + [
        "--certinfo_ca_file", emulator.ca_file, "--json_out", out, "%s:%d{127.0.0.1}" % (SERVER_NAME, port)]

    def once(_index):
        seconds, _proc = run(argv)
        with open(out, encoding="utf-8") as handle:
            scan = json.load(handle)["server_scan_results"][0]
        if scan.get("scan_status") != "COMPLETED":
            raise BenchError("sslyze could not scan: %s" % scan.get("connectivity_error_trace"))
        protocols, suites = [], []
        for key, entry in scan["scan_result"].items():
            if not key.endswith("_cipher_suites") or not (entry or {}).get("result"):
                continue
            accepted = [c["cipher_suite"]["name"] for c in entry["result"]["accepted_cipher_suites"]]
            if accepted:
                protocols.append(PROTOCOL_NAMES[key[:-len("_cipher_suites")]])
            if key == "tls_1_2_cipher_suites":
                suites = accepted
        return seconds, accepted_set(protocols, suites)
    return once


def nmap(port, work):
    out = os.path.join(work, "nmap.xml")
    argv = ["nmap", "-Pn", "-n", "-p", str(port), "--script", "ssl-enum-ciphers",
            "--script-args", "tls.servername=%s" % SERVER_NAME, "-oX", out, "127.0.0.1"]

    def once(_index):
        seconds, _proc = run(argv)
        protocols, suites = [], []
        for table in ElementTree.parse(out).getroot().iter("table"):
            key = table.get("key") or ""
            if not key.startswith(("TLSv", "SSLv")):
                continue
            names = [e.text for t in table.findall("table[@key='ciphers']/table") for e in t.findall("elem[@key='name']")]
            if names:
                protocols.append(key)
            if key == "TLSv1.2":
                suites = names
        if not protocols:
            raise BenchError("nmap found no TLS on port %d" % port)
        return seconds, accepted_set(protocols, suites)
    return once


def bench(venv, args):
    emulator = Emulator(provisioning_delay=0, retry_after=0)
    work = tempfile.mkdtemp(prefix="bench-tls.")
    proxy = None
    try:
        direct = int(emulator.endpoints["device_port"])
        proxy = DelayProxy("127.0.0.1", direct).start()
        results = {"runs": args.runs, "paths": {}}
        for path, port in (("loopback", direct), ("40 ms round trip", proxy.port)):
            tools = {"tls_probe": tls_probe(emulator, port),
                     ALONE: tls_probe_alone(emulator, port, work),
                     MODULE_FLOOR: module_floor(work),
                     "nmap ssl-enum-ciphers": nmap(port, work),
                     FLOOR: ansible_floor()}
            if venv["sslyze_missing"]:
                tools["sslyze"] = None
            else:
                tools["sslyze"] = sslyze(emulator, port, work, venv)
            entries = {}
            for label, once in tools.items():
                if once is None:
                    entries[label] = {"not_available": venv["sslyze_missing"]}
                    continue
                log("(c) %s, %s" % (label, path))
                measured = measure("%s (%s)" % (label, path), args.runs, once)
                found = measured.pop("extra")
                if any(f != found[0] for f in found):
                    raise BenchError("%s found different sets from run to run: %s" % (label, found))
                measured["found"] = found[0]
                entries[label] = measured
            results["paths"][path] = entries
        return results
    finally:
        if proxy:
            proxy.stop()
        emulator.stop()
        shutil.rmtree(work, ignore_errors=True)


def report(results):
    lines = ["## c. TLS: a full policy audit of one endpoint", ""]
    lines.append(
        "One endpoint: the emulator's device endpoint (the DPS policy: TLS 1.2 only, the 12 suites), reached as "
        "`%s`. `tls_probe` runs as `ansible localhost -m iotops.dps_tls.tls_probe` (one first handshake and, "
        "once it is connected, every protocol, suite and group in its own handshake and the chain, all at once, "
        "each stopped once it has what it is about); `tls_probe module alone` is the same "
        "module run as `python -m` without ansible: the audit itself, like for like with sslyze's Python "
        "process, and `ping module alone` is `ansible.builtin.ping` run the same way: the floor of any Ansible "
        "module in Python. `ansible localhost -m ping` is the floor of any ad-hoc ansible task: ansible's start, the "
        "inventory, the module's packaging and a Python on the host, before the module does anything. sslyze "
        "runs as `python -m sslyze %s` (its other checks left out); nmap as `nmap -Pn -p PORT --script "
        "ssl-enum-ciphers`. The 40 ms round trip comes from `hack/bench/delay_proxy.py` (20 ms each way per "
        "chunk; the TCP connect itself is not delayed). Median of %d runs after one warm-up; the accepted set is "
        "the accepted protocols plus the suites accepted with TLS 1.2." % (
            SERVER_NAME, " ".join(SSLYZE_SCANS), results["runs"]))
    results["targets"] = []
    for path, entries in results["paths"].items():
        lines += ["", "### %s" % path, "", "| tool | wall (s) | CPU (s) | vs sslyze | accepted protocols "
                  "| TLS 1.2 suites accepted | same set as tls_probe |", "|---|---:|---:|---:|---|---:|---|"]
        ours = entries["tls_probe"]
        theirs = entries.get("sslyze", {})
        for label, entry in entries.items():
            if "not_available" in entry:
                lines.append("| %s | not available: %s | | | | | |" % (label, entry["not_available"]))
                continue
            ratio = "%.2fx" % (entry["median"] / theirs["median"]) if "median" in theirs else "-"
            if entry.get("found") is None:
                lines.append("| %s | %.2f | %.2f | %s | - | - | - |" % (label, entry["median"], entry["cpu"], ratio))
                continue
            same = "yes" if entry["found"] == ours["found"] else "no: %s" % entry["found"]
            lines.append("| %s | %.2f | %.2f | %s | %s | %d | %s |" % (
                label, entry["median"], entry["cpu"], ratio, ", ".join(entry["found"]["protocols"]),
                len(entry["found"]["suites"]), same))
        if "median" in theirs:
            lines += [""] + _judge(path, entries, theirs, results["targets"])
        else:
            lines += ["", "Target against sslyze: **not measured** (sslyze not available)."]
            results["targets"].append(("c. tls_probe vs sslyze, %s" % path, "sslyze not available",
                                       "not measured"))
        lines += ["", "Samples (s): " + "; ".join(
            "%s %s" % (label, ", ".join("%.2f" % s for s in entry["samples"]))
            for label, entry in entries.items() if "samples" in entry)]
    return lines


def _judge(path, entries, theirs, targets):
    """The targets: at most 0.5x sslyze's wall time with identical sets for the ansible task; for the audit itself
    (module alone) at most 0.2x on loopback and 5 round trips + 50 ms through the proxy. And, when ansible's own
    floor is already over the budget, that no ansible task can meet it here."""
    budget = 0.5 * theirs["median"]
    lines = []
    entry = entries.get("tls_probe")
    if entry and "median" in entry:
        lines.append(_target_line(targets, path, "tls_probe as an ansible task", entry, theirs, budget,
                                  "0.5x sslyze's wall time (%.2f s)" % budget))
    entry = entries.get(ALONE)
    if entry and "median" in entry:
        if path == "loopback":
            limit, words = ALONE_VS_SSLYZE * theirs["median"], "%.1fx sslyze's wall time" % ALONE_VS_SSLYZE
        else:
            limit, words = ALONE_ROUND_TRIPS * ROUND_TRIP + ALONE_ALLOWANCE, "%d round trips + %d ms" % (
                ALONE_ROUND_TRIPS, ALONE_ALLOWANCE * 1000)
        lines.append(_target_line(targets, path, "the audit itself (module alone)", entry, theirs, limit,
                                  "%s (%.2f s)" % (words, limit)))
    bare = entries.get(MODULE_FLOOR)
    if entry and "median" in entry and bare and "median" in bare:
        lines.append("- Where the module's own time goes: a module that does nothing (`ping`, run the same way) "
                     "takes %.2f s (%.2fx sslyze): Python's start and Ansible's module runtime; the audit's "
                     "handshakes and checks add %.2f s to it." % (
                         bare["median"], bare["median"] / theirs["median"], entry["median"] - bare["median"]))
        if bare["median"] > limit:
            lines.append("- That floor alone is over the budget of %.2f s, so no Ansible module in Python can meet "
                         "the target for the module alone on this path, whatever its audit does." % limit)
        elif path != "loopback":
            lines.append("- The audit's part is %.1f round trips of %d ms; the budget's fixed allowance of %d ms is "
                         "%s the module floor of %.2f s on this machine." % (
                             (entry["median"] - bare["median"]) / ROUND_TRIP, ROUND_TRIP * 1000,
                             ALONE_ALLOWANCE * 1000,
                             "less than" if bare["median"] > ALONE_ALLOWANCE else "enough for", bare["median"]))
    floor = entries.get(FLOOR)
    if floor and "median" in floor:
        over = entries["tls_probe"]["median"] - floor["median"]
        lines.append("- Where the ansible task's time goes: `ansible localhost -m ping` alone takes %.2f s "
                     "(%.2fx sslyze); tls_probe adds %.2f s to it." % (
                         floor["median"], floor["median"] / theirs["median"], over))
        if floor["median"] > budget:
            lines.append("- On this path ansible's floor alone is over the budget of %.2f s, so no ansible task "
                         "can meet the target here, whatever its module does; the audit itself is compared like "
                         "for like in the second line." % budget)
    return lines


def _target_line(targets, path, what, entry, theirs, limit, words):
    ratio = entry["median"] / theirs["median"]
    identical = entry["found"] == theirs["found"]
    met = "yes" if entry["median"] <= limit and identical else "no"
    targets.append(("c. %s, %s (<= %s, same set as sslyze)" % (what, path, words),
                    "%.2f s = %.2fx sslyze, sets %s" % (entry["median"], ratio, "identical" if identical else "differ"),
                    met))
    return ("- Target for %s: at most %s with the accepted set identical to sslyze's: %.2f s = %.2fx sslyze, "
            "sets %s, **target met: %s**." % (what, words, entry["median"], ratio,
                                              "identical" if identical else "differ", met))
