# Copyright: iotops.dps_tls contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""One fleet verdict from the readiness reports of several slices of the fleet (AWX/AAP job slices, or
ansible-playbook runs with --limit).

The merge fails closed: a slice that is missing, did not finish its audit, is unreadable or overlaps another
makes the verdict fail, whatever the devices it does hold say. A smaller fleet is never taken for the whole one.
"""

from __future__ import annotations

import json
import os
import re
import stat

from ansible_collections.iotops.dps_tls.plugins.module_utils._common.errors import InvalidInputError
from ansible_collections.iotops.dps_tls.plugins.module_utils._readiness.report import fleet_report, gate_message

SLICE_FORMAT = "iotops.dps_tls.readiness_slice/1"
SLICE_FILE = re.compile(r"readiness-slice-[A-Za-z0-9][A-Za-z0-9_-]{0,63}\.json")
SLICE_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,63}")
# Far above what 100,000 devices write; a bigger file is not a readiness report.
MAX_REPORT_BYTES = 512 * 1024 * 1024

# The options of readiness_merge, shared by the module and the action plugin that runs it on the controller.
MERGE_OPTIONS = dict(
    reports=dict(type="list", elements="raw", default=[]),
    paths=dict(type="list", elements="path", default=[]),
    expected_slices=dict(type="int", default=1),
    min_ratio=dict(type="float", default=1.0),
    exclude=dict(type="list", elements="str", default=[]),
)


def check_slice_id(value, option="readiness_slice"):
    """A slice id names files and set_stats keys: letters, digits, - and _ only."""
    text = "" if value is None else str(value)
    if not SLICE_ID.fullmatch(text):
        raise InvalidInputError(option, "must be 1-64 letters, digits, '-' or '_', starting with a letter or digit, "
                                        "got %r" % (text,))
    return text


def slice_report(report, slice_id):
    """What one slice hands to the merge: its device records and its own summary, not the raw facts."""
    return {"format": SLICE_FORMAT, "slice": str(slice_id), "complete": True,
            "records": report["devices"], "summary": report["summary"]}


def read_report(path):
    """(data, None) for a readable JSON report, (None, reason) otherwise. Refuses what is not a regular file
    (a FIFO would hang the read) and anything larger than a report can be."""
    try:
        # O_NONBLOCK: opening a FIFO must not wait for a writer before fstat can refuse it
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    except OSError as exc:
        return None, "cannot read it (%s)" % (exc.strerror or exc)
    with os.fdopen(fd, "rb") as handle:
        info = os.fstat(handle.fileno())
        if not stat.S_ISREG(info.st_mode):
            return None, "is not a regular file"
        if info.st_size > MAX_REPORT_BYTES:
            return None, "is %d bytes, more than a readiness report can be" % info.st_size
        try:
            return json.loads(handle.read().decode("utf-8")), None
        except (ValueError, UnicodeDecodeError) as exc:
            return None, "is not JSON (%s)" % exc


def read_paths(paths):
    """(source, data, error) for each report file, and for each readiness-slice-*.json in a directory."""
    found = []
    for path in paths:
        if not os.path.isdir(path):
            found.append((path,) + read_report(path))
            continue
        names = sorted(name for name in os.listdir(path) if SLICE_FILE.fullmatch(name))
        if not names:
            found.append((path, None, "holds no readiness-slice-*.json report"))
        found.extend((os.path.join(path, name),) + read_report(os.path.join(path, name)) for name in names)
    return found


def _shape_error(data):
    """Why data is not a slice report, or None."""
    if not isinstance(data, dict):
        return "is not a readiness slice report (not a JSON object)"
    if data.get("complete") is not True:
        return None  # a slice that started and did not finish: reported as failed, not as malformed
    if data.get("format") != SLICE_FORMAT:
        return "is not a readiness slice report (format %r, expected %r)" % (data.get("format"), SLICE_FORMAT)
    if not isinstance(data.get("slice"), str) or not SLICE_ID.fullmatch(data["slice"]):
        return "has no valid slice id"
    devices = data.get("records")
    if not isinstance(devices, list) or not all(
            isinstance(d, dict) and isinstance(d.get("name"), str) and isinstance(d.get("ready"), bool)
            and isinstance(d.get("blockers"), list) and isinstance(d.get("checks"), list) for d in devices):
        return "has no valid device records"
    return None


class _Merge(object):
    """The slices seen so far, their devices, and every problem found on the way."""

    def __init__(self):
        self.slices = {}
        self.devices = {}
        self.problems = []

    def add(self, source, data, error):
        error = error or _shape_error(data)
        if error:
            self.problems.append("readiness report %s %s" % (source, error))
            return
        slice_id = str(data.get("slice"))
        if slice_id in self.slices:
            self.problems.append("slice %s is given twice (%s)" % (slice_id, source))
            return
        if data.get("complete") is not True:
            self.slices[slice_id] = {"slice": slice_id, "source": source, "state": "failed", "devices": 0, "ready": 0}
            self.problems.append("slice %s did not finish its audit (%s): it failed or is still running" % (
                slice_id, source))
            return
        for device in data["records"]:
            other = self.devices.get(device["name"])
            if other:
                self.problems.append("device %s is in slices %s and %s: slices must not overlap" % (
                    device["name"], other["slice"], slice_id))
                continue
            self.devices[device["name"]] = dict(device, slice=slice_id)
        self.slices[slice_id] = {"slice": slice_id, "source": source, "state": "complete",
                                 "devices": len(data["records"]),
                                 "ready": len([d for d in data["records"] if d["ready"]])}


def merge_reports(reports, expected_slices, min_ratio=1.0, exclude=()):
    """reports: (source, data, error) per slice report. Returns the fleet report (as fleet_report does) whose
    summary also says which slices were merged and what kept the verdict from passing."""
    if isinstance(expected_slices, bool) or not isinstance(expected_slices, int) or expected_slices < 1:
        raise InvalidInputError("expected_slices", "must be a whole number of 1 or more, got %r" % (
            expected_slices,))
    merge = _Merge()
    for source, data, error in reports:
        merge.add(source, data, error)
    found = len(merge.slices)
    if found < expected_slices:
        merge.problems.append("%d of the %d expected slices reported (readiness_expected_slices): %d missing" % (
            found, expected_slices, expected_slices - found))
    elif found > expected_slices:
        merge.problems.append("%d slices reported, more than the %d expected (readiness_expected_slices)" % (
            found, expected_slices))
    if not merge.devices:
        merge.problems.append("the reports cover no device: an audit that checked nothing proves nothing")
    report = fleet_report([merge.devices[name] for name in sorted(merge.devices)], min_ratio, exclude,
                          problems=merge.problems)
    report["summary"]["slices"] = [merge.slices[key] for key in sorted(merge.slices)]
    report["summary"]["expected_slices"] = expected_slices
    return report


def merge_slices(reports, paths, expected_slices, min_ratio=1.0, exclude=()):
    """The module's one call: slice reports given as data and as files merged into the fleet report, with the
    gate's message."""
    if not 0.0 <= float(min_ratio) <= 1.0:
        raise InvalidInputError("min_ratio", "must be between 0.0 and 1.0, got %r" % (min_ratio,))
    given = [("reports[%d]" % index, data, None) for index, data in enumerate(reports or [])]
    report = merge_reports(given + read_paths(paths or []), expected_slices, min_ratio, exclude)
    report["message"] = gate_message(report["summary"])
    return report
