# Copyright: iotops.dps_tls contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""`make bench`: side-by-side benchmarks, written to docs/performance.md.

    python hack/bench.py [--sections abcd] [--runs 5] [--fleet-runs 3] [--devices 100] [--output FILE]

Run from the collection's copy that `make collection` lays out (ansible_collections/iotops/dps_tls): it uses
that copy's modules and roles. a: dps_instance vs azure_rm_resource vs the SDK; b: root_ca_trust vs a naive
role vs a ping floor; c: tls_probe vs sslyze and nmap, on loopback and through a 40 ms proxy; d: the readiness
audit. The bench virtualenv (ansible with azure.azcollection, sslyze) is built once next to the copy.
"""

import argparse
import json
import os
import signal
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "bench"))

# pylint: disable=wrong-import-position
from common import COLLECTION, BenchError, bench_venv, build_dir, log, machine  # noqa: E402
import report  # noqa: E402

SECTIONS = {"a": "dps", "b": "trust", "c": "tls", "d": "readiness"}


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", maxsplit=1)[0])
    parser.add_argument("--sections", default="abcd", help="which comparisons to run (default abcd)")
    parser.add_argument("--runs", type=int, default=5, help="measured runs per case, after one warm-up (default 5)")
    parser.add_argument("--fleet-runs", type=int, default=3,
                        help="measured runs of the 100-device cases, after one warm-up (default 3)")
    parser.add_argument("--devices", type=int, default=100, help="simulated devices for b and d (default 100)")
    parser.add_argument("--output", default=os.path.join(COLLECTION, "docs", "performance.md"),
                        help="the report to write (default docs/performance.md of this copy)")
    parser.add_argument("--from-results", metavar="JSON",
                        help="only write the report again from the results a run saved (BUILD/bench-results.json)")
    parser.add_argument("--venv", default=os.path.join(build_dir(), "bench-venv"),
                        help="the bench virtualenv (default BUILD/bench-venv)")
    args = parser.parse_args()
    if set(args.sections) - set(SECTIONS) or args.runs < 1 or args.fleet_runs < 1 or args.devices < 1:
        parser.error("--sections takes letters of abcd; --runs, --fleet-runs and --devices are at least 1")

    saved = os.path.join(os.path.dirname(args.venv), "bench-results.json")
    if args.from_results:
        with open(args.from_results, encoding="utf-8") as handle:
            results = json.load(handle)
        return write(results, args.output)

    # SIGTERM unwinds like Ctrl-C: the emulator, the proxy and any running command are stopped on the way out.
    signal.signal(signal.SIGTERM, lambda *_args: sys.exit(143))
    started = time.monotonic()
    venv = bench_venv(args.venv)
    results = {"machine": machine(), "bench_venv": report.venv_versions(venv), "settings": vars(args), "sections": {}}
    for letter in sorted(set(args.sections)):
        module = __import__(SECTIONS[letter])
        log("section %s (%s)" % (letter, SECTIONS[letter]))
        load = os.getloadavg()[0]
        try:
            results["sections"][letter] = module.bench(venv, args)
        except BenchError as exc:
            # a failed section is reported as such; the others still run
            log("section %s failed: %s" % (letter, exc))
            results["sections"][letter] = {"failed": str(exc)}
        results["sections"][letter]["load"] = (load, os.getloadavg()[0])
    results["elapsed"] = time.monotonic() - started
    # kept, so the report can be written again without measuring again
    with open(saved, "w", encoding="utf-8") as handle:
        json.dump(results, handle, indent=1)
    return write(results, args.output)


def write(results, output):
    with open(output, "w", encoding="utf-8") as handle:
        handle.write(report.render(results))
    log("wrote %s (the bench took %.0f s)" % (output, results["elapsed"]))
    return 1 if any("failed" in s for s in results["sections"].values()) else 0


if __name__ == "__main__":
    sys.exit(main())
