# Copyright: iotops.dps_tls contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Azure Pipelines logging commands (groups, issues, variables, the step result) from ansible-playbook runs."""

from __future__ import annotations

DOCUMENTATION = r"""
name: azure_devops
type: stdout
short_description: Report playbook runs to Azure Pipelines with logging commands
version_added: 0.1.0
author: IoT Ops (@iotops)
description:
  - The default C(ansible-playbook) output (this callback extends P(ansible.builtin.default#callback) and takes
    all its options), plus Azure Pipelines logging commands when the run happens inside Azure Pipelines.
  - Each play becomes a collapsible C(##[group]) in the pipeline log (each task instead with O(group_tasks)); the
    play recap stays outside the groups.
  - Failed and unreachable hosts become C(##vso[task.logissue type=error]) issues that name the task, the host and
    the message, with the task's source file and line. A failure that a block's C(rescue) handles, and an
    unreachable host the task ignores, become warnings instead; failures of C(ignore_errors) tasks are not issues.
  - Warnings and deprecation warnings that tasks return become C(##vso[task.logissue type=warning]) issues.
  - Selected task results are exported as pipeline variables with C(##vso[task.setvariable]) (see
    O(export_variables)), by default the ID scope and host names that a P(iotops.dps_tls.dps_instance#module) task
    returns. Values a play hands over with M(ansible.builtin.set_stats) under C(azure_devops_variables) are
    exported too, and those under C(azure_devops_secrets) as secret variables (C(issecret=true)), which the agent
    masks in every later log line.
  - At the end of the run C(##vso[task.complete result=...]) sets the step result to C(Failed) when a host failed
    or was unreachable, C(SucceededWithIssues) when a warning was logged, and C(Succeeded) otherwise.
  - Results of C(no_log) tasks are censored before any callback sees them, and this callback neither prints nor
    exports anything of them. It also drops the error that ansible-core 2.19 keeps in a censored result and that
    the default output prints, because that error repeats the failure message of a C(no_log) task (a module's
    C(msg), the message of M(ansible.builtin.fail)). This is the one place where its output differs from the
    default output outside Azure Pipelines.
  - Values are escaped the way the Azure Pipelines agent decodes them (C(%), CR, LF, and in properties also C(;)
    and C(])), so a message cannot break out of its command or start another one.
  - Inside Azure Pipelines, every other line of the output (play and task names, results, failure messages,
    warnings) has C(##vso[) written as C(##vso() and C(##[) as C(##(). The agent acts on C(##vso[) anywhere in a
    line, so text from a device or a task cannot set a variable, complete the step or fake an error.
  - Outside Azure Pipelines (no C(TF_BUILD) in the environment) the output is the default output, so the
    callback can stay configured everywhere.
extends_documentation_fragment:
  - ansible.builtin.default_callback
  - ansible.builtin.result_format_callback
requirements:
  - Set as the stdout callback, with C(stdout_callback = iotops.dps_tls.azure_devops) in the C([defaults]) section
    of C(ansible.cfg) or with the environment variable C(ANSIBLE_STDOUT_CALLBACK=iotops.dps_tls.azure_devops).
options:
  activation:
    description:
      - When the callback writes logging commands.
      - V(auto) writes them only inside Azure Pipelines, where the agent sets C(TF_BUILD).
      - V(always) writes them everywhere, for example to preview them locally.
      - V(never) turns the callback off without editing C(callbacks_enabled).
    type: str
    choices: [auto, always, never]
    default: auto
    env:
      - name: IOTOPS_AZURE_DEVOPS_ACTIVATION
    ini:
      - section: callback_azure_devops
        key: activation
  group_tasks:
    description:
      - Make each task a collapsible group instead of each play.
      - Azure Pipelines does not nest groups, so plays are then marked with C(##[section]) lines.
    type: bool
    default: false
    env:
      - name: IOTOPS_AZURE_DEVOPS_GROUP_TASKS
    ini:
      - section: callback_azure_devops
        key: group_tasks
  export_variables:
    description:
      - Task results to export as pipeline variables, each V(NAME=path) where C(path) is a dotted key path into
        the result of a successful task, for example V(DPS_ID_SCOPE=dps.id_scope).
      - Loop results are searched item by item. When several tasks or hosts return the path, the last one wins.
      - Variable names may contain letters, digits, C(.) and C(_).
    type: list
    elements: str
    default:
      - DPS_ID_SCOPE=dps.id_scope
      - DPS_DEVICE_PROVISIONING_HOST_NAME=dps.device_provisioning_host_name
      - DPS_SERVICE_OPERATIONS_HOST_NAME=dps.service_operations_host_name
    env:
      - name: IOTOPS_AZURE_DEVOPS_EXPORT_VARIABLES
    ini:
      - section: callback_azure_devops
        key: export_variables
  secret_variables:
    description:
      - Names from O(export_variables) whose values are secrets; they are exported with C(issecret=true).
      - A secret variable is not mapped into the environment of later steps; map it explicitly with C(env).
    type: list
    elements: str
    default: []
    env:
      - name: IOTOPS_AZURE_DEVOPS_SECRET_VARIABLES
    ini:
      - section: callback_azure_devops
        key: secret_variables
  output_variables:
    description:
      - Export variables with C(isoutput=true) so that later jobs and stages can read them through
        C(dependencies) (name the step that runs the playbook).
    type: bool
    default: false
    env:
      - name: IOTOPS_AZURE_DEVOPS_OUTPUT_VARIABLES
    ini:
      - section: callback_azure_devops
        key: output_variables
  complete_task:
    description:
      - Write C(##vso[task.complete]) with the run's result at the end.
      - Turn it off when one script step runs several playbooks and should be judged by its exit code alone.
    type: bool
    default: true
    env:
      - name: IOTOPS_AZURE_DEVOPS_COMPLETE_TASK
    ini:
      - section: callback_azure_devops
        key: complete_task
notes:
  - It is a stdout callback rather than one listed in C(callbacks_enabled) because a group must open before the
    play banner and close before the recap, and only the stdout callback decides where those are printed.
  - Logging commands are written to standard output, where the agent reads them.
  - Warnings that do not come from a task result (for example inventory warnings) are not turned into issues.
  - The exit code of C(ansible-playbook) still decides whether a script step fails; with O(complete_task) the step
    also shows V(SucceededWithIssues) when warnings were logged.
seealso:
  - name: Logging commands
    description: The Azure Pipelines logging command reference.
    link: https://learn.microsoft.com/azure/devops/pipelines/scripts/logging-commands
"""

import json
import os
import re

from ansible import constants as C
from ansible.playbook.block import Block
from ansible.plugins.callback.default import CallbackModule as DefaultCallback

_NAME_RE = re.compile(r"^[A-Za-z0-9_.]+$")
_MAX_MESSAGE = 4000


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


def logging_command(command, message="", **properties):
    """Format `##vso[area.action key=value;...]message`, skipping properties that are None."""
    props = ";".join(f"{key}={escape_property(value)}" for key, value in properties.items() if value is not None)
    return f"##vso[{command}{' ' + props if props else ''}]{escape_data(message)}"


def parse_exports(entries):
    """Split `NAME=path` entries into (name, [keys]) pairs; return them and the entries that are not valid."""
    exports, invalid = [], []
    for entry in entries or []:
        name, sep, path = str(entry).partition("=")
        name, path = name.strip(), path.strip()
        if not sep or not _NAME_RE.match(name) or not path:
            invalid.append(entry)
            continue
        exports.append((name, path.split(".")))
    return exports, invalid


def dig(data, keys):
    """The value at a key path, or None."""
    for key in keys:
        if isinstance(data, dict):
            data = data.get(key)
        elif isinstance(data, list) and key.isdigit() and int(key) < len(data):
            data = data[int(key)]
        else:
            return None
    return data


def variable_value(value):
    """Pipeline variables are strings: JSON for structures, lowercase booleans."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (dict, list)):
        return json.dumps(value, sort_keys=True)
    return str(value)


def source_location(task):
    """(path, line) of a task, or (None, None)."""
    path = task.get_path() if task is not None else ""
    if not path:
        return None, None
    file_name, sep, line = path.rpartition(":")
    if sep and line.isdigit():
        return file_name, int(line)
    return path, None


def rescued_by_block(task):
    """True when the task sits in the `block` part of a block that has a `rescue` section."""
    child, parent = task, getattr(task, "_parent", None)
    while parent is not None:
        if isinstance(parent, Block) and parent.rescue:
            if any(getattr(item, "_uuid", None) == child._uuid for item in parent.block):
                return True
        child, parent = parent, getattr(parent, "_parent", None)
    return False


def summary_text(item):
    """Text of a warning or deprecation: a plain string before ansible-core 2.19, a summary object since."""
    if isinstance(item, str):
        return item
    if isinstance(item, dict):
        return str(item.get("msg", item))
    event = getattr(item, "event", None)
    return str(getattr(event, "msg", item))


def is_censored(task, data):
    """A no_log result: ansible-core has already replaced it with a `censored` note."""
    return bool(task.no_log is True or data.get("_ansible_no_log") or "censored" in data)


def failure_message(data, censored):
    """One readable message for a failed result, with the failed loop items; never text of a no_log result."""
    hidden = "the output has been hidden because of no_log"
    if censored:
        return hidden
    message = str(data.get("msg") or "").strip()
    stderr = str(data.get("stderr") or "").strip()
    if stderr and stderr not in message:
        message = f"{message}: {stderr}" if message else stderr
    for item in data.get("results") or []:
        if isinstance(item, dict) and item.get("failed"):
            label = item.get("_ansible_item_label", item.get("item", "item"))
            text = hidden if item.get("_ansible_no_log") or "censored" in item else str(item.get("msg") or "failed")
            message += f"\n{label}: {text}"
    return message.strip() or "failed"


def truncate(text, limit=_MAX_MESSAGE):
    text = str(text)
    return text if len(text) <= limit else text[:limit] + " [...]"


class CallbackModule(DefaultCallback):
    """The default output, plus logging commands when running inside Azure Pipelines."""

    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "stdout"
    CALLBACK_NAME = "iotops.dps_tls.azure_devops"

    def __init__(self):
        super().__init__()
        self._active = False
        self._group_open = False
        self._issues = {"error": 0, "warning": 0}
        self._exports = []
        self._secret_names = set()
        self._reported = set()
        self._write = None

    def set_options(self, task_keys=None, var_options=None, direct=None):
        super().set_options(task_keys=task_keys, var_options=var_options, direct=direct)
        activation = self.get_option("activation")
        in_pipeline = os.environ.get("TF_BUILD", "").strip().lower() not in ("", "0", "false", "no")
        self._active = activation == "always" or (activation == "auto" and in_pipeline)
        self._exports, invalid = parse_exports(self.get_option("export_variables"))
        if invalid and self._active:
            self._display.warning(
                "iotops.dps_tls.azure_devops: ignoring export_variables entries that are not NAME=path: %s"
                % ", ".join(str(entry) for entry in invalid))
        self._secret_names = set(self.get_option("secret_variables") or [])
        if self._active and self._write is None:
            self._neutralize_output()

    def _neutralize_output(self):
        """Every line ansible prints goes through Display.display, in this process: wrap it there, so that only
        this callback's own logging commands reach the agent as commands."""
        self._write = self._display.display

        def display(msg, *args, **kwargs):
            return self._write(neutralize(msg), *args, **kwargs)

        self._display.display = display

    # Writing logging commands ------------------------------------------------------------------------------

    def _emit(self, line):
        (self._write or self._display.display)(line)

    def _open_group(self, title):
        self._close_group()
        self._emit(f"##[group]{one_line(title)}")
        self._group_open = True

    def _close_group(self):
        if self._group_open:
            self._emit("##[endgroup]")
            self._group_open = False

    def _issue(self, kind, message, task=None):
        path, line = source_location(task)
        self._issues[kind] += 1
        self._emit(logging_command("task.logissue", truncate(neutralize(message)), type=kind, sourcepath=path,
                                   linenumber=line))

    def _set_variable(self, name, value, secret=False):
        self._emit(logging_command(
            "task.setvariable", variable_value(value), variable=name,
            issecret="true" if secret else None,
            isoutput="true" if self.get_option("output_variables") else None,
        ))

    # Groups: opened before the default output prints its banner, so the banner sits inside ----------------

    def v2_playbook_on_play_start(self, play):
        if self._active:
            title = f"Play: {play.get_name().strip() or 'unnamed'}"
            if self.get_option("group_tasks"):
                self._close_group()
                self._emit(f"##[section]{one_line(title)}")
            else:
                self._open_group(title)
        super().v2_playbook_on_play_start(play)

    def v2_playbook_on_task_start(self, task, is_conditional):
        if self._active and self.get_option("group_tasks"):
            self._open_group(f"Task: {task.get_name().strip()}")
        super().v2_playbook_on_task_start(task, is_conditional)

    def v2_playbook_on_handler_task_start(self, task):
        if self._active and self.get_option("group_tasks"):
            self._open_group(f"Handler: {task.get_name().strip()}")
        super().v2_playbook_on_handler_task_start(task)

    # Results -----------------------------------------------------------------------------------------------

    @staticmethod
    def _parts(result):
        """(task, host name, result dict) on every supported ansible-core."""
        task = getattr(result, "task", None) or result._task
        host = getattr(result, "host", None) or result._host
        data = getattr(result, "result", None)
        if not isinstance(data, dict):
            data = result._result
        return task, host.get_name(), data

    def _take_notes(self, result):
        """Read what the issues need before the default output pops warnings and exceptions from the result."""
        task, host, data = self._parts(result)
        censored = is_censored(task, data)
        if censored:
            # ansible-core 2.19 keeps the exception of a censored result and prints it, and the exception repeats
            # the failure message (fail_json's msg, ansible.builtin.fail's msg): no_log text must not be printed.
            data.pop("exception", None)
        notes = {
            "task": task,
            "host": host,
            "censored": censored,
            "warnings": [summary_text(item) for item in data.get("warnings") or []],
            "deprecations": [summary_text(item) for item in data.get("deprecations") or []],
        }
        return notes, data

    def _report_warnings(self, notes):
        texts = list(notes["warnings"])
        if C.config.get_config_value("DEPRECATION_WARNINGS"):
            texts += ["[DEPRECATION WARNING]: " + text for text in notes["deprecations"]]
        for text in texts:
            # A loop's result repeats the warnings its items already returned.
            key = (notes["task"]._uuid, notes["host"], text)
            if key not in self._reported:
                self._reported.add(key)
                self._issue("warning", text, notes["task"])

    def v2_runner_on_failed(self, result, ignore_errors=False):
        notes, data = self._take_notes(result)
        message = failure_message(data, notes["censored"])
        super().v2_runner_on_failed(result, ignore_errors=ignore_errors)
        if not self._active:
            return
        self._report_warnings(notes)
        if ignore_errors:
            return
        task = notes["task"]
        message = f"{task.get_name().strip()} failed on {notes['host']}: {message}"
        if rescued_by_block(task):
            self._issue("warning", message + " (handled by the block's rescue)", task)
        else:
            self._issue("error", message, task)

    def v2_runner_on_unreachable(self, result):
        notes, data = self._take_notes(result)
        reason = "the output has been hidden because of no_log" if notes["censored"] else data.get("msg")
        super().v2_runner_on_unreachable(result)
        if not self._active:
            return
        task = notes["task"]
        message = f"{task.get_name().strip()}: {notes['host']} is unreachable: {reason or 'no details'}"
        if task.ignore_unreachable:
            self._issue("warning", message + " (ignored)", task)
        else:
            self._issue("error", message, task)

    def v2_runner_on_ok(self, result):
        notes, data = self._take_notes(result)
        values = {} if notes["censored"] or not self._active else self._export_values(data)
        super().v2_runner_on_ok(result)
        if not self._active:
            return
        self._report_warnings(notes)
        for name, value in values.items():
            self._set_variable(name, value, secret=name in self._secret_names)

    def v2_runner_on_skipped(self, result):
        self._item_event(result, super().v2_runner_on_skipped)

    def v2_runner_item_on_ok(self, result):
        self._item_event(result, super().v2_runner_item_on_ok)

    def v2_runner_item_on_failed(self, result):
        self._item_event(result, super().v2_runner_item_on_failed)

    def v2_runner_item_on_skipped(self, result):
        self._item_event(result, super().v2_runner_item_on_skipped)

    def _item_event(self, result, show):
        """Skips and loop items: only their warnings are issues (a failure is reported once, for the task)."""
        notes, dummy = self._take_notes(result)
        show(result)
        if self._active:
            self._report_warnings(notes)

    def _export_values(self, data):
        """The export_variables values this result provides (loop items searched in order, last one wins)."""
        candidates = [data] + [item for item in data.get("results") or [] if isinstance(item, dict)]
        values = {}
        for name, keys in self._exports:
            for candidate in candidates:
                if candidate.get("_ansible_no_log") or "censored" in candidate:
                    continue
                found = dig(candidate, keys)
                if found is not None:
                    values[name] = found
        return values

    # The end ----------------------------------------------------------------------------------------------

    def _export_stats(self, stats):
        """Variables a play handed over with set_stats: no task output ever shows them."""
        custom = getattr(stats, "custom", None) or {}
        # Per-host data first, then the run-wide data, so run-wide values win.
        for scope in sorted(custom, key=lambda name: (name == "_run", name)):
            data = custom[scope]
            if not isinstance(data, dict):
                continue
            for key, secret in (("azure_devops_variables", False), ("azure_devops_secrets", True)):
                variables = data.get(key)
                if not isinstance(variables, dict):
                    continue
                for name, value in variables.items():
                    if not _NAME_RE.match(str(name)):
                        self._issue("warning", f"set_stats {key}: {name!r} is not a valid variable name")
                    elif value is not None:
                        self._set_variable(str(name), value, secret=secret or name in self._secret_names)

    def v2_playbook_on_stats(self, stats):
        if not self._active:
            super().v2_playbook_on_stats(stats)
            return
        self._close_group()
        super().v2_playbook_on_stats(stats)
        self._export_stats(stats)
        if self.get_option("complete_task"):
            self._emit(logging_command("task.complete", self._summary(), result=self._outcome(stats)))

    def _outcome(self, stats):
        if self._issues["error"] or any(stats.failures.get(host) or stats.dark.get(host) for host in stats.processed):
            return "Failed"
        if self._issues["warning"]:
            return "SucceededWithIssues"
        return "Succeeded"

    def _summary(self):
        errors, warnings = self._issues["error"], self._issues["warning"]
        return f"ansible-playbook reported {errors} error(s) and {warnings} warning(s)"
