# Copyright: iotops.dps_tls contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""docs/performance-fleet.md and docs/images/fleet.svg from the results of one `make bench-fleet`."""

import math

# The labels of the bench's runs: the floor, the floor measured again after a size's other runs, and a run with
# Mitogen's strategy.
FLOOR = "ping (floor)"
FLOOR_AGAIN = "ping (floor), again"
MITOGEN = "%s, Mitogen"
FIRST_RUN, RERUN, NAIVE, AUDIT = ("root_ca_trust first run", "root_ca_trust rerun", "naive role first run",
                                  "readiness audit")
SERIES = (FLOOR, FIRST_RUN, RERUN, NAIVE, AUDIT)
# The targets: (run, the run it is held to, the highest ratio allowed).
TARGETS = ((RERUN, FLOOR, 1.2), (FIRST_RUN, NAIVE, 0.5), (AUDIT, FLOOR, 1.3))
COLOURS = ("#555555", "#1f77b4", "#2ca02c", "#d62728", "#9467bd")


def floor(row):
    """The floor a size's other runs are held to: the mean of its two measurements, one before the other runs
    and one after, when both were taken (the machine's own speed drifts over a size's minutes of runs)."""
    if row.get(FLOOR_AGAIN):
        return (row[FLOOR] + row[FLOOR_AGAIN]) / 2
    return row[FLOOR]


def _ratio(row, name, base):
    if not row.get(name) or not row.get(base):
        return float("nan")
    return row[name] / _seconds(row, base)


def _against_each_floor(row, name, base):
    """The ratio against each of the floor's two measurements, lowest first; None when it was measured once."""
    if base != FLOOR or not row.get(FLOOR_AGAIN):
        return None
    return sorted((row[name] / row[FLOOR], row[name] / row[FLOOR_AGAIN]))


def _bracket(row, name, base):
    """ ", 1.20x-1.31x": the ratio against each floor alone, when the floor was measured twice."""
    ratios = _against_each_floor(row, name, base)
    if not ratios:
        return ""
    low, high = ("%.2fx" % ratio for ratio in ratios)
    return " (%s-%s)" % (low, high) if low != high else ""


def _verdict(row, name, base, ratio, limit):
    """yes or no; where the target lies between the ratios to the two floors, one run does not settle it."""
    verdict = "yes" if ratio <= limit else "no"
    ratios = _against_each_floor(row, name, base)
    if ratios and ratios[0] <= limit < ratios[1]:
        verdict += ", within the floor's drift"
    return verdict


def targets(sizes):
    """(comparison, measured, met) for every size, and the growth check between the smallest and largest."""
    rows = []
    for size, row in sizes:
        for name, base, limit in TARGETS:
            ratio = _ratio(row, name, base)
            if math.isnan(ratio):
                continue  # not measured at this size
            rows.append(("%s / %s, %d devices (<= %.1fx)" % (name, base, size, limit),
                         "%.2fx%s" % (ratio, _bracket(row, name, base)), _verdict(row, name, base, ratio, limit)))
    if len(sizes) > 1:
        # the collection's runs; the naive role is the baseline a first run is held to, not a figure of its own
        for name in (FIRST_RUN, RERUN, AUDIT):
            measured = [(size, row) for size, row in sizes if row.get(name)]
            if len(measured) < 2:
                continue
            (small, first), (large, last) = measured[0], measured[-1]
            floor_growth = floor(last) / floor(first)
            growth = last[name] / first[name]
            # "no faster than the floor": within 10 % of the floor's own growth, for measurement noise
            rows.append(("%s grows %d -> %d devices no faster than the floor (%.1fx)" % (
                name, small, large, floor_growth), "%.1fx" % growth, "yes" if growth <= floor_growth * 1.1 else "no"))
    return rows


def where_the_rerun_goes(sizes):
    """The trust rerun split into the floor, the module's own work and the role's other tasks."""
    alone = "ca_trust task alone, rerun"
    if not all(row.get(alone) for _size, row in sizes):
        return []
    lines = ["", "## Where the trust rerun's time goes", "",
             "`%s` is one `ca_trust` task per device with no role around it. The rerun over the floor splits into "
             "the module's own work (the task alone minus the floor) and the role's other tasks (the role minus "
             "the task alone: the argument spec's validation task, the checks a spec cannot express, made in the "
             "condition of the `ca_trust` task, and the meta task that ends the role for a device with no other "
             "store, which needs no worker)." % alone,
             "", "| devices | floor | module's work | role's other tasks | task alone / floor "
             "| module's work per device |", "|---:|---:|---:|---:|---:|---:|"]
    for size, row in sizes:
        lines.append("| %d | %.1f s | %.1f s | %.1f s | %.2fx | %.0f ms |" % (
            size, floor(row), row[alone] - floor(row), row["root_ca_trust rerun"] - row[alone],
            row[alone] / floor(row), (row[alone] - floor(row)) / size * 1000))
    size, row = sizes[-1]
    work = row[alone] - floor(row)
    work_text = ("%.1f s of it the module's own work on the devices" % work if work >= 0 else
                 "the task alone took %.1f s less than the floor, within the floor's own drift of %.1f s,"
                 % (-work, abs(row.get(FLOOR_AGAIN, row[FLOOR]) - row[FLOOR])))
    lines += ["", "At %d devices the rerun is %.1f s over the floor: %s and %.1f s the role's other tasks on the "
              "controller. The readiness audit is %.1f s over the floor at %d devices and %.1f s at %d: its fixed "
              "part (the reports and the fleet gate, written once on the controller) weighs most on a small fleet."
              % (size, row[RERUN] - floor(row), work_text, row[RERUN] - row[alone],
                 sizes[0][1][AUDIT] - floor(sizes[0][1]), sizes[0][0], row[AUDIT] - floor(row), size)]
    return lines


def drift(sizes):
    """How far the floor moved between its two measurements at each size: the machine's own drift, which no
    ratio of one run can be more precise than."""
    rows = [(size, row) for size, row in sizes if row.get(FLOOR_AGAIN)]
    if not rows:
        return []
    lines = ["", "## The floor, before and after", "",
             "Each size measures the floor twice: first, before its other runs, and again after all of them. The "
             "ratios above are to the mean of the two; in brackets, to each alone. A difference between the two is "
             "the machine's own drift over the size's runs, not the collection's: the same `ping` on the same "
             "devices. A target marked \"within the floor's drift\" lies between the ratios to the two floors: one "
             "run does not settle it, and another may land on its other side.", "",
             "| devices | floor, first | floor, again | change |", "|---:|---:|---:|---:|"]
    for size, row in rows:
        lines.append("| %d | %.1f s | %.1f s | %+.0f %% |" % (
            size, row[FLOOR], row[FLOOR_AGAIN], (row[FLOOR_AGAIN] / row[FLOOR] - 1) * 100))
    return lines


def cpu_by_process(sizes):
    """CPU per device by kind of process for the floor and the ca_trust task, where the bench could measure it."""
    rows = [(size, row) for size, row in sizes if row.get("cpu")]
    if not rows:
        return []
    kinds = list(next(iter(rows[0][1]["cpu"].values())))
    lines = ["", "## CPU per device, by process", "",
             "From the kernel's process accounting (Debian's `acct`) around the floor, the `ca_trust` task "
             "alone and the audit: the CPU time (user and system) of every process that ended during the run, "
             "per device, in ms. "
             "The device's Python runs the module; the controller is `ansible-playbook` and its workers. CPU per "
             "device that stays the same from one size to the next is a cost that does not grow with the fleet; "
             "what the kernel spends on no process (the loopback network among others) is not counted.", "",
             "| devices | run | all | %s |" % " | ".join(kinds), "|---:|---|---:|%s" % ("---:|" * len(kinds))]
    for size, row in rows:
        for run, seconds in row["cpu"].items():
            lines.append("| %d | %s | %.0f | %s |" % (size, run, sum(seconds.values()) / size * 1000, " | ".join(
                "%.0f" % (seconds.get(kind, 0.0) / size * 1000) for kind in kinds)))
    return lines


# The runs whose tasks the bench times, and the part of a task's name that marks the argument spec's validation.
TIMED = (FLOOR, RERUN, AUDIT)
VALIDATION = "Validating arguments against arg spec"
# A run not accounted itself, and the run whose CPU stands for its device task.
CPU_OF = {RERUN: "ca_trust task alone, rerun"}


def _outside_tasks(row, name):
    """The run's wall time outside its tasks: start-up, reading the inventory and the playbook, the end."""
    return row[name] - sum(row["tasks"][name].values())


def _short(task):
    """A task's name for a table: without the collection's name and the argument spec's description."""
    task = task.replace("iotops.dps_tls.", "").replace("|", "/")
    return task.split(" - ", maxsplit=1)[0] if VALIDATION in task else task


def task_by_task(sizes):
    """Each timed run's tasks at every size; the small ones added up in one line."""
    rows = [(size, row) for size, row in sizes if all(row.get("tasks", {}).get(name) for name in TIMED)]
    if not rows:
        return []
    largest = rows[-1][0]
    lines = ["", "## Where the time goes, task by task", "",
             "The wall time of each task of the floor, the trust rerun and the audit, from the bench's own callback "
             "(hack/bench/callbacks/task_times.py): from the task's start to the next one's, which with the linear "
             "strategy is what the task costs the run, every device's worker and the controller's wait included. "
             "\"Outside the tasks\" is the rest of the run: Ansible's start-up, reading the inventory and the "
             "playbook, and the end. Tasks that took less than 2 % of the run at every size are added up in one "
             "line. The floor here is its first measurement, the one the tasks were timed in."]
    for name in TIMED:
        names = []
        for _size, row in rows:
            names += [task for task in row["tasks"][name] if task not in names]
        big = [task for task in names
               if any(row["tasks"][name].get(task, 0.0) >= 0.02 * row[name] for _size, row in rows)]
        small = [task for task in names if task not in big]
        columns = " | ".join("%d devices" % size for size, _row in rows)
        lines += ["", "**%s**" % name, "", "| task | %s | ms per device at %d |" % (columns, largest),
                  "|---|%s---:|" % ("---:|" * len(rows))]
        entries = [(_short(task), [row["tasks"][name].get(task, 0.0) for _size, row in rows]) for task in big]
        if small:
            entries.append(("%d other task%s" % (len(small), "s" if len(small) > 1 else ""),
                            [sum(row["tasks"][name].get(task, 0.0) for task in small) for _size, row in rows]))
        entries.append(("outside the tasks", [_outside_tasks(row, name) for _size, row in rows]))
        entries.append(("the whole run", [row[name] for _size, row in rows]))
        for label, seconds in entries:
            lines.append("| %s | %s | %.1f |" % (label, " | ".join("%.2f s" % value for value in seconds),
                                                 seconds[-1] / largest * 1000))
    return lines


def over_the_floor_by_task(sizes, name, size):
    """What a run costs over the floor at one size, split by task: the argument spec's validation, the device
    task over the floor's ping task, the other tasks and what lies outside the tasks."""
    row = dict(sizes)[size]
    device, validation, others, count = _split(row["tasks"][name])
    text = ("%s at %d devices: %.2f s over the floor's first measurement, of which the argument spec's "
            "validation %.2f s (%.0f ms per device), the device task %.2f s over the floor's ping task, the %d "
            "other tasks %.2f s, and %+.2f s outside the tasks" % (
                name, size, row[name] - row[FLOOR], validation, validation / size * 1000,
                device - sum(row["tasks"][FLOOR].values()), count, others,
                _outside_tasks(row, name) - _outside_tasks(row, FLOOR)))
    # the CPU of the run itself where it was accounted, else of its device task alone (the trust rerun's)
    cpu = row.get("cpu", {})
    accounted = name if name in cpu else CPU_OF.get(name)
    if FLOOR in cpu and accounted in cpu:
        more = {kind: (cpu[accounted].get(kind, 0.0) - cpu[FLOOR].get(kind, 0.0)) / size * 1000
                for kind in cpu[FLOOR]}
        text += ("; per device, %s used %s more CPU than the floor" % (
            "the run" if accounted == name else "the `%s` run" % accounted,
            ", ".join("the %s %.0f ms" % (kind, ms) for kind, ms in more.items() if ms >= 1)))
    return text


def _split(tasks):
    """A run's task seconds as (its device task, the longest; the argument spec's validation; the other tasks;
    how many other tasks)."""
    device = max(tasks, key=tasks.get)
    validations = [task for task in tasks if VALIDATION in task]
    validation = sum(tasks[task] for task in validations)
    return tasks[device], validation, sum(tasks.values()) - tasks[device] - validation, \
        len(tasks) - 1 - len(validations)


def misses(sizes):
    """(run, size) of every ratio to the floor that misses its target, where the run's tasks were timed."""
    return [(name, size) for size, row in sizes for name, base, limit in TARGETS
            if base == FLOOR and row.get("tasks", {}).get(name) and row[name] / floor(row) > limit]


def left_over_the_floor(sizes):
    """Why the runs that miss their targets stay over the floor: what each costs that a ping does not."""
    size, row = sizes[-1]
    timed = row.get("tasks", {})
    if all(timed.get(name) for name in TIMED[1:]):
        validation = "at %d devices it took %s" % (size, " and ".join(
            "%.0f ms per device in the %s" % (_split(timed[name])[1] / size * 1000, name) for name in TIMED[1:]))
        once = ("the audit's tasks other than its device task and the argument spec's validation took %.1f s at %d "
                "devices" % (_split(sizes[0][1]["tasks"][AUDIT])[2], sizes[0][0]))
        if len(sizes) > 1:
            once += " and %.1f s at %d" % (_split(timed[AUDIT])[2], size)
    else:
        validation, once = "see above", "the audit's reports, the merge and the fleet gate are about twenty tasks"
    measured = ["- %s." % over_the_floor_by_task(sizes, name, size) for name, size in misses(sizes)]
    return [
        "", "## What is left over the floor, and why", ""] + measured + [
        "- Per device, on the controller: each role validates its variables before any device is touched. Ansible "
        "runs the argument spec's validation as a task per device, with a worker of its own (%s); what a spec "
        "cannot express is checked in the condition of the role's device task, which costs no task of its own. "
        "The validation stays: a bad variable must be refused by name before anything changes." % validation,
        "- Per device, on the device: `ping` does nothing, while `ca_trust` reads the trust store and its bundle and "
        "`tls_readiness` reads the TLS stack, the SDKs, the roots and the application settings. Both import only "
        "what the run needs (no `cryptography` for a rerun with the builtin roots, nor for an audit without pinned "
        "certificates). Ansible sends every module with what it imports as source in a zip, which the device's "
        "Python compiles on every run, the floor's `ping` included: the collection's own imports are compiled "
        "there on top of Ansible's.",
        "- Once per run: the audit's reports, the merge and the fleet gate are small tasks on the controller (the "
        "reports and the merge in the controller's own process, with no module to start); %s. On a fleet of 10 "
        "devices, whose floor is a few seconds, this fixed part weighs most." % once,
        "- The devices and the controller share the same two cores on this machine: the devices' module runs take "
        "CPU from the controller, which a real fleet does not.",
    ]


def with_mitogen(sizes):
    """The runs with Mitogen's strategy beside the plain ones, when the bench measured them."""
    names = (FLOOR, "root_ca_trust rerun", "readiness audit")
    rows = [(size, row) for size, row in sizes if row.get(MITOGEN % FLOOR)]
    if not rows:
        return []
    lines = ["", "## With Mitogen", "",
             "The same runs with Mitogen for Ansible's `mitogen_linear` strategy (PyPI `mitogen`, an option a user "
             "may turn on; the collection never needs it): seconds, and the ratio to the plain run.", "",
             "| devices | %s |" % " | ".join(names), "|---:|%s" % ("---:|" * len(names))]
    for size, row in rows:
        lines.append("| %d | %s |" % (size, " | ".join(
            "%.1f s (%.2fx)" % (row[MITOGEN % name], row[MITOGEN % name] / _seconds(row, name))
            if row.get(MITOGEN % name) and row.get(name) else "-" for name in names)))
    return lines


def _seconds(row, name):
    return floor(row) if name == FLOOR else row[name]


def svg(sizes):
    """Wall time against fleet size, both axes logarithmic, one line per playbook."""
    width, height, left, right, top, bottom = 720, 420, 70, 220, 30, 50
    xs = [size for size, _row in sizes]
    ys = [_seconds(row, name) for _size, row in sizes for name in SERIES if row.get(name)]
    x_lo, x_hi = math.log10(min(xs)), math.log10(max(xs)) if max(xs) > min(xs) else math.log10(min(xs)) + 1
    y_lo, y_hi = math.floor(math.log10(min(ys))), math.ceil(math.log10(max(ys)))
    y_hi = y_hi if y_hi > y_lo else y_lo + 1

    def px(size):
        return left + (math.log10(size) - x_lo) / ((x_hi - x_lo) or 1) * (width - left - right)

    def py(seconds):
        return top + (y_hi - math.log10(seconds)) / (y_hi - y_lo) * (height - top - bottom)

    out = ['<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" font-family="sans-serif" '
           'font-size="12">' % (width, height),
           '<rect width="100%" height="100%" fill="white"/>',
           '<text x="%d" y="18" font-size="14">Wall time against fleet size (SSH, log-log)</text>' % left]
    for power in range(y_lo, y_hi + 1):
        y = py(10 ** power)
        out.append('<line x1="%d" y1="%.1f" x2="%d" y2="%.1f" stroke="#ddd"/>' % (left, y, width - right, y))
        out.append('<text x="%d" y="%.1f" text-anchor="end">%g s</text>' % (left - 6, y + 4, 10 ** power))
    for size in xs:
        x = px(size)
        out.append('<line x1="%.1f" y1="%d" x2="%.1f" y2="%d" stroke="#ddd"/>' % (x, top, x, height - bottom))
        out.append('<text x="%.1f" y="%d" text-anchor="middle">%d</text>' % (x, height - bottom + 18, size))
    out.append('<text x="%d" y="%d" text-anchor="middle">devices</text>' % (
        (left + width - right) // 2, height - 10))
    for index, name in enumerate(SERIES):
        points = [(px(size), py(_seconds(row, name))) for size, row in sizes if row.get(name)]
        colour = COLOURS[index]
        dash = ' stroke-dasharray="5,4"' if name == FLOOR else ""
        out.append('<polyline fill="none" stroke="%s" stroke-width="2"%s points="%s"/>' % (
            colour, dash, " ".join("%.1f,%.1f" % point for point in points)))
        out += ['<circle cx="%.1f" cy="%.1f" r="3" fill="%s"/>' % (x, y, colour) for x, y in points]
        legend_y = top + 20 + index * 20
        out.append('<line x1="%d" y1="%d" x2="%d" y2="%d" stroke="%s" stroke-width="2"%s/>' % (
            width - right + 15, legend_y - 4, width - right + 40, legend_y - 4, colour, dash))
        out.append('<text x="%d" y="%d">%s</text>' % (width - right + 46, legend_y, name))
    out.append("</svg>")
    return "\n".join(out) + "\n"


def render(results):
    m = results["machine"]
    lines = ["# Performance on a fleet reached over SSH", "",
             "Generated by `make bench-fleet` (`hack/bench_fleet.py`); do not edit by hand. Every simulated device "
             "is a real `sshd` on an address of its own (127.2.x.y: all of 127.0.0.0/8 is loopback on Linux), "
             "reached by OpenSSH with pipelining and `ControlPersist`, forks = %s; each device's file system is "
             "its simulated root filesystem, handed to the roles as `root_ca_trust_root`. Every measured run opens "
             "its own SSH connections (a fresh ControlPath folder, its masters ended afterwards). One run per "
             "playbook and size, after one warm-up ping of the size%s." % (
                 results["fleet"].get("forks", "-"),
                 ", and the floor once more after the others" if any(
                     FLOOR_AGAIN in row for row in results["fleet"].get("sizes", {}).values()) else ""),
             "",
             "Machine: %s, %s cores, %s, %s. Load average (1 min) at the start and the end: %.1f, %.1f. "
             "The whole bench took %.0f minutes." % (
                 m["cpu_model"], m["cpus"], m["memory"], m["date"], results["load"][0], results["load"][1],
                 results["elapsed"] / 60), ""]
    if results.get("runs", 1) > 1:
        lines += ["The sizes come from %d runs of the bench on this machine, one after the other; each target "
                  "compares figures of one run." % results["runs"], ""]
    fleet = results["fleet"]
    if "failed" in fleet or "not_available" in fleet:
        return "\n".join(lines + ["**Not measured:**", "", "```", fleet.get("failed", fleet.get(
            "not_available")), "```", ""]) + "\n", None
    sizes = sorted((int(size), row) for size, row in fleet["sizes"].items())
    columns = SERIES[:1] + ((FLOOR_AGAIN,) if any(row.get(FLOOR_AGAIN) for _size, row in sizes) else ()) + SERIES[1:]
    lines += ["![Wall time against fleet size](images/fleet.svg)", "",
              "| devices | %s |" % " | ".join(columns), "|---:|%s" % ("---:|" * len(columns))]
    for size, row in sizes:
        lines.append("| %d | %s |" % (size, " | ".join("%.1f s" % row[name] if row.get(name) else "-"
                                                       for name in columns)))
    lines += ["", "Per device (ms):", "", "| devices | %s |" % " | ".join(columns),
              "|---:|%s" % ("---:|" * len(columns))]
    for size, row in sizes:
        lines.append("| %d | %s |" % (size, " | ".join("%.0f" % (row[name] / size * 1000) if row.get(name) else "-"
                                                       for name in columns)))
    lines += ["", "## Targets", "", "| comparison | measured | target met |", "|---|---|---|"]
    lines += ["| %s | %s | %s |" % row for row in targets(sizes)]
    lines += drift(sizes)
    lines += where_the_rerun_goes(sizes)
    lines += task_by_task(sizes)
    lines += cpu_by_process(sizes)
    if any(met.startswith("no") for _name, _measured, met in targets(sizes)):
        lines += left_over_the_floor(sizes)
    lines += with_mitogen(sizes)
    lines.append("")
    return "\n".join(lines) + "\n", svg(sizes)
