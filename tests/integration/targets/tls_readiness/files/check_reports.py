# Copyright: iotops.dps_tls contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Checks the three readiness reports of one run against what the test expects.

    python check_reports.py DIR --devices N --ready N [--failures CHECK=DEVICE ...] [--excluded DEVICE ...]
                                [--skipped N] [--not-audited DEVICE ...]

The JUnit XML must parse and be pretty printed, have a test suite per inventory group (--groups) and a test case
per device and check, carry exactly
the expected failures (each with its blocker as message) and counts that add up; the JSON and Markdown must
agree with it. A device that was not audited (unreachable) has a single failed "audit ran" case instead of the checks.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from xml.etree import ElementTree

TITLES = {"tls12": "TLS 1.2", "suites": "DPS cipher suites", "roots": "DPS roots trusted",
          "sdks": "Azure IoT SDK versions", "pinning": "certificate pinning", "handshake": "live handshake",
          "audit": "audit ran"}


def fail(message):
    print("report check failed: " + message, file=sys.stderr)
    sys.exit(1)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("dir")
    parser.add_argument("--devices", type=int, required=True)
    parser.add_argument("--ready", type=int, required=True)
    parser.add_argument("--failures", nargs="*", default=[])
    parser.add_argument("--excluded", nargs="*", default=[])
    parser.add_argument("--skipped", type=int, default=0)
    parser.add_argument("--not-audited", nargs="*", default=[])
    parser.add_argument("--groups", nargs="*", default=[])
    args = parser.parse_args()

    root = ElementTree.parse(os.path.join(args.dir, "readiness-junit.xml")).getroot()
    with open(os.path.join(args.dir, "readiness-junit.xml")) as handle:
        if len(handle.read().splitlines()) < 10:
            fail("the JUnit XML is not pretty printed")
    suites = root.findall("testsuite")
    # a test suite per inventory group, test cases named by device (classname) and check
    by_device = {}
    for suite in suites:
        if int(suite.get("tests")) != len(suite.findall("testcase")):
            fail("%s counts %s tests for %d cases" % (suite.get("name"), suite.get("tests"), len(suite.findall("testcase"))))
        if int(suite.get("failures")) != len([c for c in suite.findall("testcase") if c.find("failure") is not None]):
            fail("%s failure count is wrong" % suite.get("name"))
        for case in suite.findall("testcase"):
            by_device.setdefault(case.get("classname"), []).append(case)
    if len(by_device) != args.devices:
        fail("%d devices in the JUnit XML, expected %d" % (len(by_device), args.devices))
    expected_groups = sorted(set(args.groups)) if args.groups else None
    if expected_groups and sorted(s.get("name") for s in suites) != expected_groups:
        fail("test suites %s, expected one per group %s" % ([s.get("name") for s in suites], expected_groups))
    failures, skipped, cases = set(), 0, 0
    for device, device_cases in by_device.items():
        names = [case.get("name") for case in device_cases]
        checks = ("audit",) if device in args.not_audited else ("tls12", "suites", "roots", "sdks", "pinning")
        if sorted(names) != sorted(TITLES[c] for c in checks):
            fail("%s has test cases %s" % (device, names))
        cases += len(names)
        for case in device_cases:
            failure = case.find("failure")
            if failure is not None:
                if not failure.get("message") or failure.text != failure.get("message"):
                    fail("a failure without its blocker: %s" % ElementTree.tostring(case))
                failures.add("%s=%s" % (failure.get("type"), case.get("classname")))
            if case.find("skipped") is not None:
                skipped += 1
    if failures != set(args.failures):
        fail("failures %s, expected %s" % (sorted(failures), sorted(args.failures)))
    if skipped != args.skipped or int(root.get("skipped")) != skipped:
        fail("%d skipped (%s counted), expected %d" % (skipped, root.get("skipped"), args.skipped))
    if int(root.get("tests")) != cases or int(root.get("failures")) != len(failures):
        fail("totals tests=%s failures=%s for %d cases, %d failures" % (root.get("tests"), root.get("failures"),
                                                                        cases, len(failures)))

    with open(os.path.join(args.dir, "readiness.json")) as handle:
        report = json.load(handle)
    summary = report["summary"]
    if (summary["devices"], summary["ready"]) != (args.devices, args.ready):
        fail("JSON says %d devices, %d ready" % (summary["devices"], summary["ready"]))
    if sorted(summary["excluded"]) != sorted(args.excluded):
        fail("JSON excluded %s" % summary["excluded"])
    expected_kinds = {}
    for item in args.failures:
        kind = item.split("=")[0]
        expected_kinds[kind] = expected_kinds.get(kind, 0) + 1
    if not args.excluded and summary["blockers_by_check"] != expected_kinds:
        fail("JSON blockers by kind %s, expected %s" % (summary["blockers_by_check"], expected_kinds))
    if sorted(report["devices"]) != ["device-%03d" % n for n in range(1, args.devices + 1)]:
        fail("JSON devices %s" % sorted(report["devices"]))

    with open(os.path.join(args.dir, "readiness.md")) as handle:
        text = handle.read()
    not_ready = args.devices - len(args.excluded) - args.ready
    row = "| %d | %d | %d | %d |" % (args.devices, args.ready, not_ready, len(args.excluded))
    if row not in text:
        fail("Markdown lacks the counts row %s:\n%s" % (row, text))
    for item in args.failures:
        kind, device = item.split("=")
        if "**%s**:" % TITLES[kind] not in text or device not in text:
            fail("Markdown lacks %s for %s" % (kind, device))
    with open(os.path.join(args.dir, "readiness.html")) as handle:
        page = handle.read()
    counts = "%d ready, %d not ready, %d excluded of %d devices" % (args.ready, not_ready, len(args.excluded),
                                                                    args.devices)
    if counts not in page:
        fail("the HTML report lacks the counts")
    if "<script" in page or "http://" in page or "https://" in page:
        fail("the HTML report is not self-contained")
    print("reports in %s: %d test cases, failures %s, %d skipped" % (args.dir, cases, sorted(failures), skipped))
    return 0


if __name__ == "__main__":
    sys.exit(main())
