# Copyright: iotops.dps_tls contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The fleet readiness report built on the controller: a summary with the gate's verdict, JUnit XML (a test
case per device and check, for Azure DevOps PublishTestResults) and Markdown.

A device that could not be audited (unreachable, or the module failed) counts as not ready: an audit that
did not run proves nothing.
"""

from __future__ import annotations

import fnmatch
from xml.etree import ElementTree

from ansible_collections.iotops.dps_tls.plugins.module_utils._readiness.html import html_report

NOT_AUDITED = "audit"
CHECK_TITLES = {
    "tls12": "TLS 1.2",
    "suites": "DPS cipher suites",
    "roots": "DPS roots trusted",
    "sdks": "Azure IoT SDK versions",
    "pinning": "certificate pinning",
    "handshake": "live handshake",
    NOT_AUDITED: "audit ran",
}


def device_record(name, result):
    """One device's readiness from its registered module result (None when the task never ran)."""
    facts = ((result or {}).get("ansible_facts") or {}).get("dps_tls_readiness")
    if not facts:
        why = (result or {}).get("msg") or "the audit did not run (host unreachable or failed earlier)"
        check = {"name": NOT_AUDITED, "status": "failed", "message": why}
        return {"name": name, "ready": False, "checks": [check],
                "blockers": [{"check": NOT_AUDITED, "message": why}]}
    return {"name": name, "ready": bool(facts["ready"]), "checks": list(facts.get("checks", [])),
            "blockers": list(facts.get("blockers", []))}


def exclude_patterns(exclude):
    """The device names or patterns to exclude as a list. A single string is one pattern: extra-vars
    (-e readiness_exclude=lab-*) bypass the role's argument spec, and list() would split it into characters."""
    if exclude is None:
        return []
    if isinstance(exclude, str):
        exclude = [exclude]
    patterns = list(exclude)
    for pattern in patterns:
        if not isinstance(pattern, str):
            raise TypeError("readiness_exclude must be a device name or pattern, or a list of them; got %r" % (pattern,))
    return [pattern for pattern in patterns if pattern]


def _excluded(name, patterns):
    return any(fnmatch.fnmatchcase(name, pattern) for pattern in patterns)


def summarize(devices, min_ratio=1.0, exclude=()):
    """Counts, blockers by kind, devices per blocker, and whether the gate passes."""
    exclude = exclude_patterns(exclude)
    counted = [d for d in devices if not _excluded(d["name"], exclude)]
    excluded = [d["name"] for d in devices if _excluded(d["name"], exclude)]
    ready = [d["name"] for d in counted if d["ready"]]
    blocking = {d["name"]: [b["message"] for b in d["blockers"]] for d in counted if not d["ready"]}
    by_check = {}
    for device in devices:
        for blocker in device["blockers"]:
            by_check.setdefault(blocker["check"], [])
            if device["name"] not in by_check[blocker["check"]]:
                by_check[blocker["check"]].append(device["name"])
    ratio = float(len(ready)) / len(counted) if counted else 0.0
    return {
        "devices": len(devices),
        "counted": len(counted),
        "ready": len(ready),
        "not_ready": len(counted) - len(ready),
        "excluded": excluded,
        "ratio": round(ratio, 4),
        "min_ratio": min_ratio,
        "passed": bool(counted) and ratio >= min_ratio,
        "blocking_devices": blocking,
        # "device-001 (reason; reason)", what the gate's failure message lists
        "blocking": ["%s (%s)" % (name, "; ".join(reasons)) for name, reasons in sorted(blocking.items())],
        "blockers_by_check": {check: len(names) for check, names in sorted(by_check.items())},
        "devices_per_blocker": dict(sorted(by_check.items())),
    }


def _check_case(suite, device, check, skip):
    """One test case: a failed check carries its blocker; an excluded device's failures are skipped (the gate was
    told to ignore them). Returns the counter it adds to."""
    case = ElementTree.SubElement(suite, "testcase", classname=device["name"],
                                  name=CHECK_TITLES.get(check["name"], check["name"]), time="0")
    if check["status"] == "failed" and skip:
        ElementTree.SubElement(case, "skipped", message="excluded from the gate: " + check["message"])
        return "skipped"
    if check["status"] == "failed":
        failure = ElementTree.SubElement(case, "failure", message=check["message"], type=check["name"])
        failure.text = check["message"]
        return "failures"
    ElementTree.SubElement(case, "system-out").text = "%s: %s" % (check["status"], check["message"])
    return None


def primary_group(device):
    """The inventory group a device is reported under: its first group by name (a device is counted once)."""
    return (device.get("groups") or ["ungrouped"])[0]


def junit(devices, exclude=()):
    """JUnit XML, pretty printed: a test suite per inventory group, a test case per device and check."""
    exclude = exclude_patterns(exclude)
    suites = ElementTree.Element("testsuites", name="DPS TLS readiness")
    totals = {"tests": 0, "failures": 0, "skipped": 0}
    by_group = {}
    for device in devices:
        by_group.setdefault(primary_group(device), []).append(device)
    for group in sorted(by_group):
        suite = ElementTree.SubElement(suites, "testsuite", name=group)
        counts = {"tests": 0, "failures": 0, "skipped": 0}
        for device in by_group[group]:
            skip = _excluded(device["name"], exclude)
            for check in device["checks"]:
                counts["tests"] += 1
                counter = _check_case(suite, device, check, skip)
                if counter:
                    counts[counter] += 1
        for key, value in counts.items():
            suite.set(key, str(value))
            totals[key] += value
        suite.set("errors", "0")
    for key, value in totals.items():
        suites.set(key, str(value))
    suites.set("errors", "0")
    ElementTree.indent(suites)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ElementTree.tostring(suites, encoding="unicode") + "\n"


def markdown(devices, summary):
    """A short human summary: counts, blockers by kind, devices per blocker, then every device."""
    verdict = "passed" if summary["passed"] else "FAILED"
    lines = [
        "# DPS TLS readiness",
        "",
        "| devices | ready | not ready | excluded | ready ratio | required | gate |",
        "|---|---|---|---|---|---|---|",
        "| %d | %d | %d | %d | %.2f | %.2f | %s |" % (
            summary["devices"], summary["ready"], summary["not_ready"], len(summary["excluded"]),
            summary["ratio"], summary["min_ratio"], verdict),
        "",
    ]
    if summary.get("problems"):
        lines += ["## Problems with the reports", ""] + ["- " + problem for problem in summary["problems"]] + [""]
    lines += ["## Blockers by kind", ""]
    if summary["blockers_by_check"]:
        lines += ["| check | devices |", "|---|---|"]
        lines += ["| %s | %d |" % (CHECK_TITLES.get(check, check), count)
                  for check, count in summary["blockers_by_check"].items()]
        lines += ["", "## Devices per blocker", ""]
        for check, names in summary["devices_per_blocker"].items():
            lines.append("- **%s**: %s" % (CHECK_TITLES.get(check, check), ", ".join(names)))
    else:
        lines.append("None.")
    if summary["excluded"]:
        lines += ["", "Excluded from the gate: %s" % ", ".join(summary["excluded"])]
    by_group = {}
    for device in devices:
        by_group.setdefault(primary_group(device), []).append(device)
    lines += ["", "## By inventory group", "", "| group | devices | ready | not ready |", "|---|---|---|---|"]
    for group in sorted(by_group):
        ready = len([d for d in by_group[group] if d["ready"]])
        lines.append("| %s | %d | %d | %d |" % (group, len(by_group[group]), ready, len(by_group[group]) - ready))
    for group in sorted(by_group):
        lines += ["", "### %s" % group, "", "| device | ready | blockers |", "|---|---|---|"]
        for device in by_group[group]:
            blockers = "; ".join(b["message"] for b in device["blockers"]).replace("|", "\\|")
            lines.append("| %s | %s | %s |" % (device["name"], "yes" if device["ready"] else "no", blockers or "-"))
    return "\n".join(lines) + "\n"


def top_reasons(summary, top=5):
    """The most common reasons devices are not ready, as (title, device count), most common first."""
    counts = sorted(summary["blockers_by_check"].items(), key=lambda item: (-item[1], item[0]))
    return [(CHECK_TITLES.get(check, check), count) for check, count in counts[:top]]


def gate_message(summary, top=5, shown=10):
    """The gate's verdict in a few lines: counts, the top reasons with their device counts, the first
    blocking devices, and any problem with the reports themselves (a missing, failed or unreadable slice)."""
    verdict = "passed" if summary["passed"] else "FAILED"
    lines = ["Readiness gate %s: %d of %d counted devices are ready (%.2f, required %.2f), %d excluded." % (
        verdict, summary["ready"], summary["counted"], summary["ratio"], summary["min_ratio"],
        len(summary["excluded"]))]
    reasons = top_reasons(summary, top)
    if reasons:
        counted = ["%s: %d device%s" % (title, count, "" if count == 1 else "s") for title, count in reasons]
        lines.append("Top reasons: " + "; ".join(counted))
    blocking = summary["blocking"]
    if blocking:
        more = " ... and %d more" % (len(blocking) - shown) if len(blocking) > shown else ""
        lines.append("Blocking devices: %s%s" % (", ".join(blocking[:shown]), more))
    for problem in summary.get("problems") or []:
        lines.append("Problem: " + problem)
    return "\n".join(lines)


def device_groups(groups, name):
    """The inventory groups a device is in, 'ungrouped' when none (the same word Ansible uses)."""
    names = [group for group in (groups or {}).get(name) or [] if group not in ("all",)]
    return sorted(names) or ["ungrouped"]


def fleet_report(devices, min_ratio=1.0, exclude=(), problems=(), hubs=None):
    """Summary, JUnit and Markdown for device records (from one run, or merged from several slices). Any
    problem with the reports themselves (a missing slice) fails the verdict, whatever the devices say."""
    if not 0.0 <= float(min_ratio) <= 1.0:
        raise ValueError("readiness_min_ratio must be between 0.0 and 1.0, got %r" % (min_ratio,))
    summary = summarize(devices, float(min_ratio), exclude)
    summary["problems"] = list(problems)
    summary["passed"] = summary["passed"] and not summary["problems"]
    return {"summary": summary, "devices": devices, "junit": junit(devices, exclude),
            "markdown": markdown(devices, summary),
            "html": html_report(devices, summary, reasons=top_reasons(summary, 10), hubs=hubs)}


def build_report(results, min_ratio=1.0, exclude=(), groups=None, hubs=None):
    """results: device name -> registered tls_readiness result; groups: device name -> its inventory groups.
    Returns summary, devices, junit, markdown and the facts for the JSON report."""
    devices = []
    for name in sorted(results):
        record = device_record(name, results[name])
        record["groups"] = device_groups(groups, name)
        devices.append(record)
    report = fleet_report(devices, min_ratio, exclude, hubs=hubs)
    report["facts"] = dict((name, ((results[name] or {}).get("ansible_facts") or {}).get("dps_tls_readiness"))
                           for name in sorted(results))
    return report
