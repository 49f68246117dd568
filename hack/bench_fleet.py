# Copyright: iotops.dps_tls contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""`make bench-fleet`: the roles on a fleet reached over real SSH, written to docs/performance-fleet.md with a
plot of wall time against fleet size (docs/images/fleet.svg).

    python hack/bench_fleet.py [--sizes 10,100,1000] [--output docs/performance-fleet.md]

Run from the collection's copy that `make collection` lays out. Needs root (one sshd per device, each on its own
loopback address) and openssh-server. Every sshd and SSH master is stopped on the way out, SIGTERM included.
"""

import argparse
import json
import os
import signal
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "bench"))

# pylint: disable=wrong-import-position
from common import COLLECTION, BenchError, build_dir, log, machine  # noqa: E402
import fleet  # noqa: E402
import fleet_report  # noqa: E402


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", maxsplit=1)[0])
    parser.add_argument("--sizes", default="10,100,1000", help="fleet sizes, comma-separated (default 10,100,1000)")
    parser.add_argument("--output", default=os.path.join(COLLECTION, "docs", "performance-fleet.md"),
                        help="the report to write; the plot goes to images/fleet.svg beside it")
    parser.add_argument("--from-results", metavar="JSON", nargs="+",
                        help="only write the report again from saved results (several: their sizes together)")
    parser.add_argument("--naive-up-to", type=int, default=None, metavar="N",
                        help="run the naive role only on fleets of at most N devices (it takes longest)")
    parser.add_argument("--mitogen", action="store_true",
                        help="also measure the floor, the trust rerun and the audit with Mitogen's linear strategy")
    parser.add_argument("--mitogen-up-to", type=int, default=None, metavar="N",
                        help="with --mitogen, measure Mitogen only on fleets of at most N devices")
    args = parser.parse_args()
    try:
        args.fleet_sizes = sorted({int(size) for size in args.sizes.split(",")})
    except ValueError:
        parser.error("--sizes takes whole numbers separated by commas")
    if not args.fleet_sizes or args.fleet_sizes[0] < 1 or args.fleet_sizes[-1] > 60000:
        parser.error("--sizes: each size from 1 to 60000")
    saved = os.path.join(build_dir(), "bench-fleet-results.json")
    if args.from_results:
        return write(combined(args.from_results), args.output)
    if os.geteuid() != 0:
        parser.error("needs root: every simulated device is an sshd on port 22 of its own address")
    signal.signal(signal.SIGTERM, lambda *_args: sys.exit(143))
    started = time.monotonic()
    results = {"machine": machine(), "sizes": args.fleet_sizes}
    load = os.getloadavg()[0]
    try:
        results["fleet"] = fleet.bench(None, args)
    except BenchError as exc:
        log("the fleet bench failed: %s" % exc)
        results["fleet"] = {"failed": str(exc)}
    results["load"] = (load, os.getloadavg()[0])
    results["elapsed"] = time.monotonic() - started
    with open(saved, "w", encoding="utf-8") as handle:
        json.dump(results, handle, indent=1)
    return write(results, args.output)


def combined(paths):
    """The results of several runs as one: every size, the machine and load of the first, the times added."""
    runs = []
    for path in paths:
        with open(path, encoding="utf-8") as handle:
            runs.append(json.load(handle))
    results = dict(runs[0], fleet=dict(runs[0]["fleet"], sizes={}), elapsed=0)
    for run in runs:
        results["fleet"]["sizes"].update(run["fleet"].get("sizes", {}))
        results["elapsed"] += run["elapsed"]
    results["runs"] = len(runs)
    return results


def write(results, output):
    images = os.path.join(os.path.dirname(os.path.abspath(output)), "images")
    os.makedirs(images, exist_ok=True)
    text, svg = fleet_report.render(results)
    if svg:
        with open(os.path.join(images, "fleet.svg"), "w", encoding="utf-8") as handle:
            handle.write(svg)
    with open(output, "w", encoding="utf-8") as handle:
        handle.write(text)
    log("wrote %s (the bench took %.0f s)" % (output, results["elapsed"]))
    return 1 if "failed" in results["fleet"] else 0


if __name__ == "__main__":
    sys.exit(main())
