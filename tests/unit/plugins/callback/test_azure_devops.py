# Copyright: iotops.dps_tls contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The azure_devops callback driven with real ansible-core task results, as ansible-playbook drives it."""

from __future__ import annotations

import pytest

from ansible import context
from ansible.executor.stats import AggregateStats
from ansible.executor.task_result import CallbackTaskResult
from ansible.inventory.host import Host
from ansible.module_utils.common.collections import ImmutableDict
from ansible.parsing.dataloader import DataLoader
from ansible.playbook.play import Play
from ansible.playbook.task import Task
from ansible.plugins.loader import callback_loader
from ansible.vars.manager import VariableManager

CALLBACK = "iotops.dps_tls.azure_devops"
OPTION_ENV = (
    "IOTOPS_AZURE_DEVOPS_ACTIVATION", "IOTOPS_AZURE_DEVOPS_GROUP_TASKS", "IOTOPS_AZURE_DEVOPS_EXPORT_VARIABLES",
    "IOTOPS_AZURE_DEVOPS_SECRET_VARIABLES", "IOTOPS_AZURE_DEVOPS_OUTPUT_VARIABLES", "IOTOPS_AZURE_DEVOPS_COMPLETE_TASK",
)


# The callback, driven with real ansible-core objects ---------------------------------------------------------

@pytest.fixture
def callback(monkeypatch):
    """Load the callback as ansible-playbook does, inside Azure Pipelines unless a test says otherwise."""
    for name in OPTION_ENV:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("TF_BUILD", "True")
    # The default output reads the command line (the recap checks for --check).
    monkeypatch.setattr(context, "CLIARGS", ImmutableDict(check=False))

    def load(**env):
        for name, value in env.items():
            monkeypatch.setenv(name, value)
        plugin = callback_loader.get(CALLBACK)
        plugin.set_options()
        return plugin

    return load


def commands(capsys):
    return [line for line in capsys.readouterr().out.splitlines() if line.startswith("##")]


def ok_result(data, no_log=False, name="DPS instance"):
    task = Task.load({"name": name, "ansible.builtin.debug": {"msg": "x"}, "no_log": no_log})
    return CallbackTaskResult(Host("localhost"), task, data, {})


def stats_with(**counts):
    stats = AggregateStats()
    for what, host in counts.items():
        stats.increment(what, host)
    return stats


@pytest.mark.parametrize("tf_build, activation, active", [
    ("True", None, True),
    ("true", None, True),
    ("", None, False),
    ("False", None, False),
    ("True", "never", False),
    ("", "always", True),
])
def test_activation(callback, monkeypatch, tf_build, activation, active):
    monkeypatch.setenv("TF_BUILD", tf_build)
    env = {"IOTOPS_AZURE_DEVOPS_ACTIVATION": activation} if activation else {}
    assert callback(**env)._active is active


def test_exports_dps_values_from_a_result(callback, capsys):
    plugin = callback()
    plugin.v2_runner_on_ok(ok_result({"dps": {"id_scope": "0ne00AB", "device_provisioning_host_name": "h;1"}}))
    assert commands(capsys) == [
        "##vso[task.setvariable variable=DPS_ID_SCOPE]0ne00AB",
        "##vso[task.setvariable variable=DPS_DEVICE_PROVISIONING_HOST_NAME]h;1",
    ]


def test_exports_nothing_from_a_no_log_result(callback, capsys):
    plugin = callback()
    censored = {"censored": "hidden", "_ansible_no_log": True}
    plugin.v2_runner_on_ok(ok_result(censored, no_log=True))
    assert commands(capsys) == []


def test_secret_and_output_variables(callback, capsys):
    plugin = callback(
        IOTOPS_AZURE_DEVOPS_EXPORT_VARIABLES="KEY=key",
        IOTOPS_AZURE_DEVOPS_SECRET_VARIABLES="KEY",
        IOTOPS_AZURE_DEVOPS_OUTPUT_VARIABLES="true",
    )
    plugin.v2_runner_on_ok(ok_result({"key": "k%1"}))
    assert commands(capsys) == ["##vso[task.setvariable variable=KEY;issecret=true;isoutput=true]k%AZP251"]


def test_loop_items_are_searched_and_the_last_value_wins(callback, capsys):
    plugin = callback()
    plugin.v2_runner_on_ok(ok_result({"results": [
        {"dps": {"id_scope": "first"}},
        {"dps": {"id_scope": "hidden"}, "_ansible_no_log": True},
        {"dps": {"id_scope": "second"}},
    ]}))
    assert commands(capsys) == ["##vso[task.setvariable variable=DPS_ID_SCOPE]second"]


@pytest.mark.parametrize("counts, issues, outcome", [
    ({"ok": "localhost"}, {}, "Succeeded"),
    ({"ok": "localhost"}, {"warning": 1}, "SucceededWithIssues"),
    ({"failures": "localhost"}, {}, "Failed"),
    ({"dark": "device"}, {"warning": 2}, "Failed"),
    ({"ok": "localhost"}, {"error": 1}, "Failed"),
])
def test_step_result(callback, capsys, counts, issues, outcome):
    plugin = callback()
    plugin._issues.update(issues)
    plugin.v2_playbook_on_stats(stats_with(**counts))
    assert commands(capsys)[-1].startswith(f"##vso[task.complete result={outcome}]")


def test_set_stats_variables_and_secrets(callback, capsys):
    plugin = callback()
    stats = stats_with(ok="localhost")
    stats.update_custom_stats("azure_devops_variables", {"FLEET": "a;b"})
    stats.update_custom_stats("azure_devops_secrets", {"KEY": "s3cret", "bad name": "x"})
    plugin.v2_playbook_on_stats(stats)
    assert commands(capsys) == [
        "##vso[task.setvariable variable=FLEET]a;b",
        "##vso[task.setvariable variable=KEY;issecret=true]s3cret",
        "##vso[task.logissue type=warning]set_stats azure_devops_secrets: 'bad name' is not a valid variable name",
        "##vso[task.complete result=SucceededWithIssues]ansible-playbook reported 0 error(s) and 1 warning(s)",
    ]


def test_no_complete_line_when_turned_off(callback, capsys):
    plugin = callback(IOTOPS_AZURE_DEVOPS_COMPLETE_TASK="false")
    plugin.v2_playbook_on_stats(stats_with(ok="localhost"))
    assert commands(capsys) == []


def test_inactive_writes_no_commands(callback, capsys, monkeypatch):
    monkeypatch.setenv("TF_BUILD", "")
    plugin = callback()
    plugin.v2_runner_on_ok(ok_result({"dps": {"id_scope": "0ne"}}))
    plugin.v2_playbook_on_stats(stats_with(ok="localhost"))
    assert commands(capsys) == []


def test_censored_failure_loses_its_exception_before_it_is_printed(callback, capsys):
    # ansible-core keeps `exception` in a censored result; its message would repeat the no_log failure text.
    plugin = callback()
    result = ok_result({"censored": "hidden", "_ansible_no_log": True, "exception": "boom secret-1"}, no_log=True)
    plugin.v2_runner_on_failed(result)
    captured = capsys.readouterr()
    assert "secret-1" not in captured.out + captured.err
    assert "##vso[task.logissue type=error]DPS instance failed on localhost: " \
           "the output has been hidden because of no_log" in captured.out


def fail_result(keys, host="device-001", msg="2 of 3 devices ready", name="Gate on readiness"):
    task = Task.load(dict({"name": name, "ansible.builtin.fail": {"msg": "x"}}, **keys))
    return CallbackTaskResult(Host(host), task, {"failed": True, "msg": msg}, {})


@pytest.mark.parametrize("keys", [{"run_once": True}, {"delegate_to": "localhost"},
                                  {"run_once": True, "delegate_to": "localhost"}])
def test_a_gate_failure_names_the_gate_not_the_host_it_ran_as(callback, capsys, keys):
    plugin = callback()
    plugin.v2_runner_on_failed(fail_result(keys))
    assert commands(capsys) == ["##vso[task.logissue type=error]Gate on readiness failed: 2 of 3 devices ready"]


def test_a_delegated_failure_with_the_same_message_is_one_issue(callback, capsys):
    plugin = callback()
    result = fail_result({"delegate_to": "localhost"})
    plugin.v2_runner_on_failed(result)
    same = {"failed": True, "msg": "2 of 3 devices ready"}
    plugin.v2_runner_on_failed(CallbackTaskResult(Host("device-002"), result.task, same, {}))
    assert len(commands(capsys)) == 1
    assert plugin._issues == {"error": 1, "warning": 0}


def test_a_host_failure_still_names_the_host(callback, capsys):
    plugin = callback()
    plugin.v2_runner_on_failed(fail_result({}, msg="no TLS 1.2", name="Audit"))
    assert commands(capsys) == ["##vso[task.logissue type=error]Audit failed on device-001: no TLS 1.2"]


def unreachable_result(host, name="Reach every device", **keys):
    task = Task.load(dict({"name": name, "ansible.builtin.ping": {}}, **keys))
    return CallbackTaskResult(Host(host), task, {"unreachable": True, "msg": "connection refused"}, {})


class FakePlay:
    """A play as the callback sees it; the batch size comes from the inventory, here none."""

    def __init__(self, **keys):
        self.max_fail_percentage = keys.get("max_fail_percentage")
        self.any_errors_fatal = keys.get("any_errors_fatal", False)

    def get_name(self):
        return "Audit"


def test_an_ignored_unreachable_host_is_one_warning_for_the_run(callback, capsys):
    plugin = callback()
    for name in ("Reach every device", "Audit every device", "Report"):
        plugin.v2_runner_on_unreachable(unreachable_result("device-9", name=name, ignore_unreachable=True))
    assert commands(capsys) == ["##vso[task.logissue type=warning]device-9 is unreachable (Reach every device): "
                                "connection refused (the play goes on without it)"]
    stats = stats_with(ok="device-9")
    plugin.v2_playbook_on_stats(stats)
    assert commands(capsys)[-1].startswith("##vso[task.complete result=SucceededWithIssues]")


@pytest.mark.parametrize("limit, down, kind, outcome", [
    (50, 1, "warning", "SucceededWithIssues"),
    (50, 3, "error", "Failed"),
    (0, 1, "error", "Failed"),
    (None, 1, "error", "Failed"),
])
def test_unreachable_hosts_within_the_play_s_failure_budget_are_warnings(callback, capsys, limit, down, kind, outcome):
    plugin = callback()
    plugin._play, plugin._batch_size = FakePlay(max_fail_percentage=limit), 4
    for index in range(down):
        plugin.v2_runner_on_unreachable(unreachable_result(f"device-{index}"))
    lines = commands(capsys)
    assert lines[-1].startswith(f"##vso[task.logissue type={kind}]device-{down - 1} is unreachable")
    stats = AggregateStats()
    for index in range(down):
        stats.increment("dark", f"device-{index}")
    plugin._issues["error"] = 0  # the step result below comes from the hosts alone
    plugin.v2_playbook_on_stats(stats)
    assert commands(capsys)[-1].startswith(f"##vso[task.complete result={outcome}]")


def test_a_host_warned_about_is_an_error_where_the_play_cannot_go_on_without_it(callback, capsys):
    plugin = callback()
    plugin.v2_runner_on_unreachable(unreachable_result("device-9", ignore_unreachable=True))
    plugin.v2_runner_on_unreachable(unreachable_result("device-9", name="Provision"))
    plugin.v2_runner_on_unreachable(unreachable_result("device-9", name="Again"))
    assert [line.split("]")[0] for line in commands(capsys)] == [
        "##vso[task.logissue type=warning", "##vso[task.logissue type=error"]
    stats = stats_with(dark="device-9")
    plugin.v2_playbook_on_stats(stats)
    assert commands(capsys)[-1].startswith("##vso[task.complete result=Failed]")


def test_an_unreachable_host_the_play_does_not_tolerate_is_one_error(callback, capsys):
    plugin = callback()
    plugin.v2_runner_on_unreachable(unreachable_result("device-9"))
    plugin.v2_runner_on_unreachable(unreachable_result("device-9", name="Again"))
    assert commands(capsys) == ["##vso[task.logissue type=error]device-9 is unreachable (Reach every device): "
                                "connection refused"]


def test_sourcepath_is_relative_to_the_sources_directory(callback, capsys, monkeypatch, tmp_path):
    monkeypatch.setenv("BUILD_SOURCESDIRECTORY", str(tmp_path))
    plugin = callback()
    result = fail_result({}, name="Audit")
    result.task.get_path = lambda: f"{tmp_path}/playbooks/audit.yml:12"
    plugin.v2_runner_on_failed(result)
    outside = fail_result({}, name="Gate")
    outside.task.get_path = lambda: "/usr/share/ansible/collections/ansible_collections/iotops/dps_tls/roles/" \
                                    "tls_readiness/tasks/main.yml:52"
    plugin.v2_runner_on_failed(outside)
    assert commands(capsys) == [
        "##vso[task.logissue type=error;sourcepath=playbooks/audit.yml;linenumber=12]Audit failed on device-001: "
        "2 of 3 devices ready",
        "##vso[task.logissue type=error]Gate failed on device-001: 2 of 3 devices ready",
    ]


def test_progress_through_the_playbook_s_tasks(callback, capsys):
    loader = DataLoader()
    play = Play.load({"name": "Audit", "hosts": "localhost", "gather_facts": False,
                      "tasks": [{"name": f"task {n}", "ansible.builtin.debug": {"msg": n}} for n in range(3)]},
                     variable_manager=VariableManager(loader=loader), loader=loader)
    plugin = callback()
    plugin.v2_playbook_on_start(FakePlaybook([play]))
    plugin.v2_playbook_on_play_start(play)
    for task in play.tasks[0].block + play.tasks[0].block[:1]:
        plugin.v2_playbook_on_task_start(task, False)
    assert [line for line in commands(capsys) if "setprogress" in line] == [
        "##vso[task.setprogress value=33;]Audit",
        "##vso[task.setprogress value=66;]Audit",
    ]


class FakePlaybook:
    def __init__(self, plays):
        self._plays = plays
        self._file_name = "audit.yml"

    def get_plays(self):
        return self._plays
