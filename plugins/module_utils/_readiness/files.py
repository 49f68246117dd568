# Copyright: iotops.dps_tls contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The report files of a readiness run or of merged slices: JUnit XML, Markdown, HTML, then the JSON last, so that
a JSON report marked complete means every other file was written before it."""

from __future__ import annotations

import hashlib
import json
import os
import re
import tempfile

from ansible_collections.iotops.dps_tls.plugins.module_utils._common.errors import DpsTlsError, InvalidInputError
from ansible_collections.iotops.dps_tls.plugins.module_utils._common.files import read_regular_file
from ansible_collections.iotops.dps_tls.plugins.module_utils._readiness.merge import MAX_REPORT_BYTES

# A base name only: it is joined to dest, so no separator, and never "." or "..".
NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,99}")
REPORT_KEYS = ("summary", "devices", "junit", "markdown", "html")

# The options of readiness_files, shared by the module and the action plugin that runs it on the controller.
FILES_OPTIONS = dict(
    report=dict(type="dict", required=True),
    dest=dict(type="path", required=True),
    name=dict(type="str", default="readiness"),
)


def report_files(report, name):
    """(file name, bytes) of each report file, in the order they are written."""
    if not isinstance(report, dict) or any(key not in report for key in REPORT_KEYS):
        raise InvalidInputError("report", "must be what the readiness_report filter or readiness_merge returns "
                                          "(with %s)" % ", ".join(REPORT_KEYS))
    if not NAME.fullmatch(name or "") or ".." in name:
        raise InvalidInputError("name", "must be 1-100 letters, digits, '.', '-' or '_', starting with a letter or "
                                        "digit, and without '..'; got %r" % (name,))
    data = report.get("slice_report") or {"summary": report["summary"], "records": report["devices"]}
    data = dict(data, devices=report.get("facts") or {})
    return [
        (name + "-junit.xml", _text(report["junit"])),
        (name + ".md", _text(report["markdown"])),
        (name + ".html", _text(report["html"])),
        (name + ".json", (json.dumps(data, indent=4, sort_keys=True, ensure_ascii=False) + "\n").encode("utf-8")),
    ]


def write_report_files(params, check_mode=False, diff=False):
    """The task's work: writes the files that differ, each replaced whole (never half-written), and returns the
    result. The diff names each file with the SHA-256 of its content (the reports are too long to show)."""
    dest = params["dest"]
    if not isinstance(dest, str) or not os.path.isabs(dest):
        raise InvalidInputError("dest", "must be an absolute path, got %r" % (dest,))
    files = report_files(params["report"], params["name"])
    # A report's name that is a link, a FIFO or a folder is refused before anything is written (a FIFO would
    # block the read; a link would lead the write elsewhere).
    before = dict((file_name, read_regular_file("dest", os.path.join(dest, file_name), max_bytes=MAX_REPORT_BYTES,
                                                follow=False, missing_ok=True))
                  for file_name, _data in files)
    changed = [file_name for file_name, data in files if before[file_name] != data]
    written = []
    try:
        if changed and not check_mode:
            os.makedirs(dest, mode=0o755, exist_ok=True)
            for file_name, data in files:
                if file_name in changed:
                    _replace(dest, file_name, data)
                    written.append(file_name)
    except OSError as exc:
        raise DpsTlsError("dest: cannot write the reports in %s: %s" % (dest, exc.strerror or exc),
                          changed=bool(written), written=written)
    result = dict(changed=bool(changed), paths=[os.path.join(dest, file_name) for file_name, _data in files])
    if diff:
        result["diff"] = dict(before=dict((file_name, _sha256(data)) for file_name, data in before.items()),
                              after=dict((file_name, _sha256(data)) for file_name, data in files))
    return result


def _sha256(data):
    return "absent" if data is None else "sha256:" + hashlib.sha256(data).hexdigest()


def _text(value):
    return ("" if value is None else str(value)).encode("utf-8")


def _replace(dest, file_name, data):
    fd, temporary = tempfile.mkstemp(dir=dest, prefix="." + file_name + ".")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.chmod(temporary, 0o644)
        os.replace(temporary, os.path.join(dest, file_name))
    finally:
        # renamed away when all went well; left behind only by a step that failed before the rename
        if os.path.lexists(temporary):
            os.unlink(temporary)
