# Copyright: iotops.dps_tls contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The fleet readiness report as one self-contained HTML page: inline CSS and SVG only, no script, nothing fetched,
so it opens from a pipeline artifact or a mail attachment on a machine without network."""

from __future__ import annotations

from html import escape

COLOURS = {"ready": "#2e7d32", "not_ready": "#c62828", "excluded": "#9e9e9e"}
STYLE = """
body{font-family:system-ui,-apple-system,'Segoe UI',sans-serif;margin:2rem;color:#1c1c1c;max-width:60rem}
h1{font-size:1.6rem;margin:0 0 .2rem}h2{font-size:1.15rem;margin:1.8rem 0 .6rem}
.verdict{display:inline-block;padding:.2rem .7rem;border-radius:.3rem;color:#fff;font-weight:600}
.passed{background:#2e7d32}.failed{background:#c62828}
table{border-collapse:collapse;width:100%}th,td{text-align:left;padding:.3rem .5rem;border-bottom:1px solid #ddd}
td.n{text-align:right;font-variant-numeric:tabular-nums}.legend span{margin-right:1rem}
.sw{display:inline-block;width:.8rem;height:.8rem;margin-right:.3rem;vertical-align:middle}
.problem{color:#c62828;font-weight:600}
"""


def _counts(devices, excluded):
    counts = {"ready": 0, "not_ready": 0, "excluded": 0}
    for device in devices:
        key = "excluded" if device["name"] in excluded else ("ready" if device["ready"] else "not_ready")
        counts[key] += 1
    return counts


def _bar(counts, width=360, height=18):
    """A stacked bar of ready, not ready and excluded devices, as inline SVG."""
    total = sum(counts.values()) or 1
    x, parts = 0.0, []
    for key in ("ready", "not_ready", "excluded"):
        share = width * counts[key] / total
        if share:
            parts.append('<rect x="%.1f" y="0" width="%.1f" height="%d" fill="%s"><title>%s: %d</title></rect>' % (
                x, share, height, COLOURS[key], key.replace("_", " "), counts[key]))
        x += share
    return '<svg role="img" width="%d" height="%d" viewBox="0 0 %d %d">%s</svg>' % (
        width, height, width, height, "".join(parts))


def _group_rows(devices, excluded):
    groups = {}
    for device in devices:
        for group in device.get("groups") or ["ungrouped"]:
            groups.setdefault(group, []).append(device)
    rows = []
    for group in sorted(groups):
        counts = _counts(groups[group], excluded)
        rows.append('<tr data-group="%s"><td>%s</td><td class="n">%d</td><td class="n">%d</td><td class="n">%d</td>'
                    "<td>%s</td></tr>" % (escape(group), escape(group), counts["ready"], counts["not_ready"],
                                          counts["excluded"], _bar(counts, width=200, height=12)))
    return rows


REASON_ROW = ('<tr><td>%s</td><td class="n">%d</td><td><svg width="200" height="12"><rect width="%.1f" height="12" '
              'fill="' + COLOURS["not_ready"] + '"/></svg></td></tr>')


def _reason_rows(reasons):
    top = max([count for title, count in reasons] or [1])
    return [REASON_ROW % (escape(title), count, 200.0 * count / top) for title, count in reasons]


def _hub_rows(hubs):
    rows = []
    for hub in hubs or []:
        floor = hub.get("min_tls_version") or "not set"
        rows.append("<tr><td>%s</td><td>%s</td></tr>" % (escape(str(hub.get("name", ""))), escape(str(floor))))
    return rows


def _table(headers, rows, empty):
    if not rows:
        return "<p>%s</p>" % empty
    head = "".join("<th>%s</th>" % header for header in headers)
    return "<table><thead><tr>%s</tr></thead><tbody>%s</tbody></table>" % (head, "".join(rows))


def html_report(devices, summary, reasons, hubs=None):
    """The page: verdict and counts with a bar, counts per inventory group, the top reasons (title, device count),
    the linked hubs' TLS floor."""
    excluded = set(summary["excluded"])
    counts = _counts(devices, excluded)
    verdict = "passed" if summary["passed"] else "failed"
    legend = "".join('<span><i class="sw" style="background:%s"></i>%s</span>' % (COLOURS[key], key.replace("_", " "))
                     for key in ("ready", "not_ready", "excluded"))
    problems = "".join('<p class="problem">%s</p>' % escape(problem) for problem in summary.get("problems") or [])
    parts = [
        "<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">',
        "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'\">",
        "<title>DPS TLS readiness</title><style>%s</style></head><body>" % STYLE,
        "<h1>DPS TLS readiness</h1>",
        '<p>Gate: <span class="verdict %s" id="verdict">%s</span> &middot; <span id="counts">%d ready, %d not ready, '
        "%d excluded of %d devices</span> (ready ratio %.2f, required %.2f)</p>" % (
            verdict, verdict, counts["ready"], counts["not_ready"], counts["excluded"], len(devices),
            summary["ratio"], summary["min_ratio"]),
        problems, _bar(counts, width=600, height=24), '<p class="legend">%s</p>' % legend,
        "<h2>By inventory group</h2>",
        _table(["group", "ready", "not ready", "excluded", ""], _group_rows(devices, excluded), "No devices."),
        "<h2>Top reasons a device is not ready</h2>",
        _table(["check", "devices", ""], _reason_rows(reasons), "None: every counted device is ready."),
        "<h2>Linked IoT hubs: TLS floor</h2>",
        _table(["hub", "minimum TLS version"], _hub_rows(hubs), "Not known to this audit."),
        "</body></html>",
    ]
    return "\n".join(part for part in parts if part) + "\n"
