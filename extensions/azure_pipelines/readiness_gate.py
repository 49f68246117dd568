# Copyright: iotops.dps_tls contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Gate a pipeline on the readiness audit: fail when the audit's verdict is that the fleet is not ready.

Usage: python readiness_gate.py REPORT_DIR

iotops.dps_tls.audit_readiness writes readiness.json to REPORT_DIR with the verdict (ready devices against
readiness_min_ratio, excluded devices left out). Run with tls_readiness_gate=false, the audit only reports, so
the pipeline can publish its JUnit report first and gate here. The devices that block are logged as Azure
Pipelines errors (warnings when the ratio still passes) so they show on the run's summary page.
"""

from __future__ import annotations

import argparse
import json
import math
import pathlib
import sys

SHOWN = 20  # blocking devices named one by one; a large fleet would flood the summary page


def escape_data(text):
    """The message part of a logging command, escaped as the agent decodes it."""
    return str(text).replace("%", "%AZP25").replace("\r", "%0D").replace("\n", "%0A")


def issue(kind, message):
    print(f"##vso[task.logissue type={kind}]{escape_data(message)}")


def read_summary(report_dir):
    """The audit's summary, or an error message."""
    path = pathlib.Path(report_dir) / "readiness.json"
    try:
        with open(path) as handle:
            summary = json.load(handle).get("summary")
    except OSError as exc:
        return None, f"No readiness report: cannot read {path} ({exc.strerror}); did the audit run?"
    except (ValueError, AttributeError) as exc:
        return None, f"{path} is not a readiness report: {exc}"
    missing = [key for key in ("passed", "counted", "blocking_devices") if key not in (summary or {})]
    if missing:
        return None, f"{path} is not a readiness report: its summary lacks {', '.join(missing)}"
    return summary, None


def shown_ratio(summary):
    """The ratio to two decimals, rounded down where rounding would make a failing ratio look like the required
    one (0.9996 against 1.00)."""
    ratio, required = float(summary.get("ratio", 0)), float(summary.get("min_ratio", 1))
    shown = round(ratio, 2)
    return math.floor(ratio * 100) / 100 if ratio < required <= shown else shown


def main(argv=None):
    parser = argparse.ArgumentParser(description="Gate a pipeline on the readiness audit's verdict.")
    parser.add_argument("report_dir", help="the audit's readiness_report_dir")
    args = parser.parse_args(argv)

    summary, error = read_summary(args.report_dir)
    if error:
        issue("error", error)
        return 1
    print("Readiness: {ready} of {counted} counted devices ready ({ratio:.2f}, required {min_ratio:.2f}), "
          "{excluded} excluded.".format(ready=summary.get("ready", 0), counted=summary["counted"],
                                        ratio=shown_ratio(summary),
                                        min_ratio=float(summary.get("min_ratio", 1)),
                                        excluded=len(summary.get("excluded") or [])))
    if not summary["counted"]:
        issue("error", "The readiness report counts no device: an audit that checked nothing proves nothing.")
        return 1
    kind = "warning" if summary["passed"] else "error"
    blocking = sorted(summary["blocking_devices"].items())
    for name, blockers in blocking[:SHOWN]:
        issue(kind, f"Not ready: {name}: {'; '.join(blockers)}")
    if len(blocking) > SHOWN:
        issue(kind, f"... and {len(blocking) - SHOWN} more devices not ready")
    return 0 if summary["passed"] else 1


if __name__ == "__main__":
    sys.exit(main())
