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
  - Failed hosts become C(##vso[task.logissue type=error]) issues that name the task, the host and the message.
    A task that speaks for the whole play rather than for one host (C(run_once), or delegated with
    C(delegate_to), such as a readiness gate that runs on the controller) is named alone, never the host it
    happened to run as; the same message from such a task is one issue. A failure that a block's C(rescue)
    handles becomes a warning instead; failures of C(ignore_errors) tasks are not issues.
  - An unreachable host is one issue per run, however many tasks it misses; a warning when the play goes on
    without it (the task has C(ignore_unreachable), or the play's C(max_fail_percentage) allows the hosts that
    are down), an error otherwise.
  - Issues carry the task's file and line. The file is relative to the checked-out repository when
    E(BUILD_SOURCESDIRECTORY) is set (Azure Pipelines sets it), and left out when the task comes from outside it
    or from a role or playbook of an installed collection, which no repository holds.
  - C(##vso[task.setprogress]) reports how far the run is, by the share of the playbook's tasks started, so a
    long audit shows its progress on the step.
  - Warnings and deprecation warnings that tasks return become C(##vso[task.logissue type=warning]) issues.
  - Selected task results are exported as pipeline variables with C(##vso[task.setvariable]) (see
    O(export_variables)), by default the ID scope and host names that a P(iotops.dps_tls.dps_instance#module) task
    returns. Values a play hands over with M(ansible.builtin.set_stats) under C(azure_devops_variables) are
    exported too, and those under C(azure_devops_secrets) as secret variables (C(issecret=true)), which the agent
    masks in every later log line.
  - At the end of the run C(##vso[task.complete result=...]) sets the step result to C(Failed) when an error was
    logged or a host failed or was unreachable where the play does not tolerate it, C(SucceededWithIssues) when a
    warning was logged, and C(Succeeded) otherwise.
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

import os

from ansible import constants as C
from ansible.plugins.callback.default import CallbackModule as DefaultCallback

from ansible_collections.iotops.dps_tls.plugins.plugin_utils._devops import commands as vso
from ansible_collections.iotops.dps_tls.plugins.plugin_utils._devops import tasks


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
        self._sources_dir = None
        # Progress: the playbook's tasks, those started, the last value written.
        self._countable = set()
        self._started = set()
        self._progress = 0
        # Hosts: down in this play, unreachable anywhere (one issue each), unreachable but tolerated.
        self._play = None
        self._batch_size = 0
        self._down = set()
        self._unreachable = set()
        self._tolerated = set()

    def set_options(self, task_keys=None, var_options=None, direct=None):
        super().set_options(task_keys=task_keys, var_options=var_options, direct=direct)
        activation = self.get_option("activation")
        in_pipeline = os.environ.get("TF_BUILD", "").strip().lower() not in ("", "0", "false", "no")
        self._active = activation == "always" or (activation == "auto" and in_pipeline)
        self._exports, invalid = vso.parse_exports(self.get_option("export_variables"))
        if invalid and self._active:
            self._display.warning(
                "iotops.dps_tls.azure_devops: ignoring export_variables entries that are not NAME=path: %s"
                % ", ".join(str(entry) for entry in invalid))
        self._secret_names = set(self.get_option("secret_variables") or [])
        self._sources_dir = os.environ.get("BUILD_SOURCESDIRECTORY") or None
        if self._active and self._write is None:
            self._neutralize_output()

    def _neutralize_output(self):
        """Every line ansible prints goes through Display.display, in this process: wrap it there, so that only
        this callback's own logging commands reach the agent as commands."""
        self._write = self._display.display

        def display(msg, *args, **kwargs):
            return self._write(vso.neutralize(msg), *args, **kwargs)

        self._display.display = display

    # Writing logging commands ------------------------------------------------------------------------------

    def _emit(self, line):
        (self._write or self._display.display)(line)

    def _open_group(self, title):
        self._close_group()
        self._emit(vso.group_start(title))
        self._group_open = True

    def _close_group(self):
        if self._group_open:
            self._emit(vso.group_end())
            self._group_open = False

    def _issue(self, kind, message, task=None, once=False):
        """Log an issue; with `once`, the same issue of the same task is logged a single time."""
        path, line = tasks.source_location(task)
        key = (kind, message, path, line)
        if once and key in self._reported:
            return
        self._reported.add(key)
        self._issues[kind] += 1
        self._emit(vso.log_issue(kind, message, sourcepath=tasks.repository_path(path, self._sources_dir),
                                 linenumber=line))

    def _set_variable(self, name, value, secret=False):
        self._emit(vso.set_variable(name, value, secret=secret, output=self.get_option("output_variables")))

    # Plays, tasks and progress: groups open before the default output prints its banner ----------------

    def v2_playbook_on_start(self, playbook):
        if self._active:
            for play in playbook.get_plays():
                self._countable.update(tasks.countable_tasks(play))
        super().v2_playbook_on_start(playbook)

    def v2_playbook_on_play_start(self, play):
        if self._active:
            self._play, self._down = play, set()
            self._batch_size = len(tasks.batch_hosts(play))
            title = f"Play: {play.get_name().strip() or 'unnamed'}"
            if self.get_option("group_tasks"):
                self._close_group()
                self._emit(vso.section(title))
            else:
                self._open_group(title)
        super().v2_playbook_on_play_start(play)

    def v2_playbook_on_task_start(self, task, is_conditional):
        if self._active:
            self._advance(task)
            if self.get_option("group_tasks"):
                self._open_group(f"Task: {task.get_name().strip()}")
        super().v2_playbook_on_task_start(task, is_conditional)

    def v2_playbook_on_handler_task_start(self, task):
        if self._active and self.get_option("group_tasks"):
            self._open_group(f"Handler: {task.get_name().strip()}")
        super().v2_playbook_on_handler_task_start(task)

    def _advance(self, task):
        """Progress by the share of the playbook's tasks that have started (a serial batch repeats them)."""
        if task._uuid not in self._countable or task._uuid in self._started:
            return
        percent = len(self._started) * 100 // len(self._countable)
        self._started.add(task._uuid)
        if percent > self._progress:
            self._progress = percent
            play_name = self._play.get_name().strip() if self._play is not None else ""
            self._emit(vso.set_progress(percent, play_name))

    # Results -----------------------------------------------------------------------------------------------

    def _take_notes(self, result):
        """Read what the issues need before the default output pops warnings and exceptions from the result."""
        task, host, data = tasks.result_parts(result)
        censored = tasks.is_censored(task, data)
        if censored:
            # ansible-core 2.19 keeps the exception of a censored result and prints it, and the exception repeats
            # the failure message (fail_json's msg, ansible.builtin.fail's msg): no_log text must not be printed.
            data.pop("exception", None)
        notes = {
            "task": task,
            "host": host,
            "censored": censored,
            "warnings": [tasks.summary_text(item) for item in data.get("warnings") or []],
            "deprecations": [tasks.summary_text(item) for item in data.get("deprecations") or []],
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
        message = tasks.failure_message(data, notes["censored"])
        super().v2_runner_on_failed(result, ignore_errors=ignore_errors)
        if not self._active:
            return
        self._report_warnings(notes)
        if ignore_errors:
            return
        task = notes["task"]
        for_the_play = tasks.runs_for_the_play(task)
        if for_the_play:
            # A gate on the controller: its verdict is about the play, and the host it ran as is incidental.
            message = f"{task.get_name().strip()} failed: {message}"
        else:
            message = f"{task.get_name().strip()} failed on {notes['host']}: {message}"
        if tasks.rescued_by_block(task):
            self._issue("warning", message + " (handled by the block's rescue)", task, once=for_the_play)
        else:
            self._down.add(notes["host"])
            self._issue("error", message, task, once=for_the_play)

    def v2_runner_on_unreachable(self, result):
        notes, data = self._take_notes(result)
        reason = tasks.HIDDEN if notes["censored"] else data.get("msg")
        super().v2_runner_on_unreachable(result)
        host, task = notes["host"], notes["task"]
        if not self._active:
            return
        self._down.add(host)
        tolerated = tasks.tolerates_unreachable(task, self._play, down=len(self._down), batch_size=self._batch_size)
        # One issue per host and run; a host warned about once is an error where a later play cannot go on without it.
        if host in self._unreachable and (tolerated or host not in self._tolerated):
            return
        self._unreachable.add(host)
        message = f"{host} is unreachable ({task.get_name().strip()}): {reason or 'no details'}"
        if tolerated:
            self._tolerated.add(host)
            self._issue("warning", message + " (the play goes on without it)", task)
        else:
            self._tolerated.discard(host)
            self._issue("error", message, task)

    def v2_runner_on_ok(self, result):
        notes, data = self._take_notes(result)
        values = {} if notes["censored"] or not self._active else tasks.export_values(data, self._exports)
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
                    if not vso.is_variable_name(name):
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
            self._emit(vso.complete(self._outcome(stats), self._summary()))

    def _outcome(self, stats):
        down = [host for host in stats.processed
                if stats.failures.get(host) or (stats.dark.get(host) and host not in self._tolerated)]
        if self._issues["error"] or down:
            return "Failed"
        if self._issues["warning"]:
            return "SucceededWithIssues"
        return "Succeeded"

    def _summary(self):
        errors, warnings = self._issues["error"], self._issues["warning"]
        return f"ansible-playbook reported {errors} error(s) and {warnings} warning(s)"
