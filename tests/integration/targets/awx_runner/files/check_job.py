# Copyright: iotops.dps_tls contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Reads a finished ansible-runner job's artifacts as AWX would: its job events.

    check_job.py ARTIFACTS_DIR DPS_NAME

Fails unless the audit judged every device ready, the DPS instance was created, the roots play ran on every device,
and the readiness report in the artifacts covers those same devices.
"""

import glob
import json
import os
import sys


def events(artifacts):
    for path in sorted(glob.glob(os.path.join(artifacts, "job_events", "*.json"))):
        with open(path) as handle:
            yield json.load(handle)


def main(artifacts, dps_name):
    tasks = {}
    devices = set()
    for event in events(artifacts):
        data = event.get("event_data", {})
        if event.get("event") == "runner_on_ok":
            tasks.setdefault(data.get("task_action"), []).append(data)
            if data.get("host", "").startswith("device-"):
                devices.add(data["host"])
        if event.get("event") in ("runner_on_failed", "runner_on_unreachable") and not data.get("ignore_errors"):
            raise SystemExit("FAIL: %s on %s: %s" % (event["event"], data.get("host"), data.get("task")))
    created = [d for d in tasks.get("iotops.dps_tls.dps_instance", []) if d["res"].get("changed")]
    if not created or created[0]["res"]["dps"]["name"] != dps_name:
        raise SystemExit("FAIL: the job's events show no created DPS instance %s" % dps_name)
    trusted = {d["host"] for d in tasks.get("iotops.dps_tls.ca_trust", [])}
    if len(devices) != 3 or trusted != devices:
        raise SystemExit("FAIL: the roots ran on %s, the job saw devices %s" % (sorted(trusted), sorted(devices)))
    with open(os.path.join(artifacts, "readiness-report", "readiness.json")) as handle:
        report = json.load(handle)
    text = json.dumps(report)
    missing = [device for device in devices if device not in text]
    if missing:
        raise SystemExit("FAIL: the report in the artifacts does not cover %s" % missing)
    print("job events: DPS %s created, roots on %s" % (dps_name, ", ".join(sorted(devices))))


if __name__ == "__main__":
    main(*sys.argv[1:])
