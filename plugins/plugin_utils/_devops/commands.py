# Copyright: iotops.dps_tls contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Azure Pipelines logging commands: escaping the way the agent decodes them, and the command lines themselves.

Nothing here knows about ansible: the callback decides what to say, this module how to say it.
"""

from __future__ import annotations

import json
import re

NAME_RE = re.compile(r"[A-Za-z0-9_.]+")
MAX_MESSAGE = 4000
RESULTS = ("Succeeded", "SucceededWithIssues", "Failed")


def escape_data(text):
    """Escape the message part of a logging command, as the agent decodes it."""
    return str(text).replace("%", "%AZP25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text):
    """Escape a property value; `;` and `]` would otherwise end the property or the command."""
    return escape_data(text).replace("]", "%5D").replace(";", "%3B")


def neutralize(text):
    """Text the agent must not act on: it looks for '##vso[' anywhere in a line, and '##[' formats a line."""
    return str(text).replace("##vso[", "##vso(").replace("##[", "##(")


def one_line(text):
    """A title for ##[group]/##[section]: those take the rest of the line verbatim."""
    return neutralize(" ".join(str(text).split()))


def truncate(text, limit=MAX_MESSAGE):
    text = str(text)
    return text if len(text) <= limit else text[:limit] + " [...]"


def is_variable_name(name):
    return NAME_RE.fullmatch(str(name)) is not None


def logging_command(command, message="", **properties):
    """Format `##vso[area.action key=value;...]message`, skipping properties that are None."""
    props = ";".join(f"{key}={escape_property(value)}" for key, value in properties.items() if value is not None)
    return f"##vso[{command}{' ' + props if props else ''}]{escape_data(message)}"


def group_start(title):
    return f"##[group]{one_line(title)}"


def group_end():
    return "##[endgroup]"


def section(title):
    return f"##[section]{one_line(title)}"


def log_issue(kind, message, sourcepath=None, linenumber=None):
    """An error or warning in the run's summary; the message cannot carry a command of its own."""
    return logging_command("task.logissue", truncate(neutralize(message)), type=kind, sourcepath=sourcepath,
                           linenumber=linenumber if sourcepath else None)


def set_progress(percent, operation=""):
    """The step's progress; the agent takes 0-100 only, so the value is clamped here."""
    value = max(0, min(100, int(percent)))
    # The agent reads `value=N;` with the trailing separator.
    return f"##vso[task.setprogress value={value};]{escape_data(one_line(operation))}"


def set_variable(name, value, secret=False, output=False):
    return logging_command("task.setvariable", variable_value(value), variable=name,
                           issecret="true" if secret else None, isoutput="true" if output else None)


def complete(result, message):
    """The step result; the agent fails the step on any other spelling than the three it knows."""
    if result not in RESULTS:
        raise ValueError(f"task.complete result must be one of {', '.join(RESULTS)}, got {result!r}")
    return logging_command("task.complete", message, result=result)


def variable_value(value):
    """Pipeline variables are strings: JSON for structures, lowercase booleans."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (dict, list)):
        return json.dumps(value, sort_keys=True)
    return str(value)


def parse_exports(entries):
    """Split `NAME=path` entries into (name, [keys]) pairs; return them and the entries that are not valid."""
    exports, invalid = [], []
    for entry in entries or []:
        name, sep, path = str(entry).partition("=")
        name, path = name.strip(), path.strip()
        if not sep or not is_variable_name(name) or not path:
            invalid.append(entry)
            continue
        exports.append((name, path.split(".")))
    return exports, invalid
