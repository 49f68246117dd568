# Copyright: iotops.dps_tls contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Gate a pipeline on the readiness report: fail when its JUnit XML has more failed test cases than allowed.

Usage: python readiness_gate.py [--max-failed N] REPORT_DIR

Every *.xml file under REPORT_DIR is read. A test case with a <failure> or <error> counts as failed. A report
without any test case fails the gate too: an audit that checked nothing proves nothing. Failed test cases are
logged as Azure Pipelines errors so they show on the run's summary page.
"""

from __future__ import annotations

import argparse
import pathlib
import sys
from xml.etree import ElementTree

SHOWN = 20  # failed test cases named one by one; a large fleet would flood the summary page


def escape_data(text):
    """The message part of a logging command, escaped as the agent decodes it."""
    return str(text).replace("%", "%AZP25").replace("\r", "%0D").replace("\n", "%0A")


def read_report(report_dir):
    """(number of test cases, names of the failed ones) over every JUnit file under report_dir."""
    total, failed = 0, []
    for path in sorted(pathlib.Path(report_dir).rglob("*.xml")):
        try:
            root = ElementTree.parse(path).getroot()
        except ElementTree.ParseError as exc:
            raise ValueError(f"{path} is not valid XML: {exc}") from exc
        for case in root.iter("testcase"):
            total += 1
            if case.find("failure") is not None or case.find("error") is not None:
                name = case.get("name", "unnamed")
                suite = case.get("classname")
                failed.append(f"{suite}: {name}" if suite else name)
    return total, failed


def main(argv=None):
    parser = argparse.ArgumentParser(description="Gate a pipeline on the readiness report (JUnit XML).")
    parser.add_argument("report_dir", help="directory with the readiness report's JUnit XML files")
    parser.add_argument("--max-failed", type=int, default=0,
                        help="failed test cases that still pass the gate (default 0)")
    args = parser.parse_args(argv)

    if not pathlib.Path(args.report_dir).is_dir():
        print(f"##vso[task.logissue type=error]{escape_data(f'No readiness report in {args.report_dir}')}")
        return 1
    try:
        total, failed = read_report(args.report_dir)
    except ValueError as exc:
        print(f"##vso[task.logissue type=error]{escape_data(exc)}")
        return 1
    if total == 0:
        print(f"##vso[task.logissue type=error]{escape_data(f'The readiness report in {args.report_dir} has no test cases')}")
        return 1

    print(f"Readiness: {total - len(failed)} of {total} test cases passed, {len(failed)} failed "
          f"({args.max_failed} allowed).")
    if len(failed) <= args.max_failed:
        for name in failed:
            print(f"##vso[task.logissue type=warning]{escape_data(f'Not ready: {name}')}")
        return 0
    for name in failed[:SHOWN]:
        print(f"##vso[task.logissue type=error]{escape_data(f'Not ready: {name}')}")
    if len(failed) > SHOWN:
        print(f"##vso[task.logissue type=error]{escape_data(f'... and {len(failed) - SHOWN} more not ready')}")
    return 1


if __name__ == "__main__":
    sys.exit(main())
