# Copyright: iotops.dps_tls contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The azure_devops callback: escaping, export parsing, messages, and the callback driven with real task results."""

from __future__ import annotations

import pytest

from ansible import context
from ansible.executor.stats import AggregateStats
from ansible.executor.task_result import CallbackTaskResult
from ansible.inventory.host import Host
from ansible.module_utils.common.collections import ImmutableDict
from ansible.playbook.task import Task
from ansible.plugins.loader import callback_loader

from ansible_collections.iotops.dps_tls.plugins.callback import azure_devops as ado

CALLBACK = "iotops.dps_tls.azure_devops"
OPTION_ENV = (
    "IOTOPS_AZURE_DEVOPS_ACTIVATION", "IOTOPS_AZURE_DEVOPS_GROUP_TASKS", "IOTOPS_AZURE_DEVOPS_EXPORT_VARIABLES",
    "IOTOPS_AZURE_DEVOPS_SECRET_VARIABLES", "IOTOPS_AZURE_DEVOPS_OUTPUT_VARIABLES", "IOTOPS_AZURE_DEVOPS_COMPLETE_TASK",
)


# Escaping ---------------------------------------------------------------------------------------------------

def test_data_escapes_percent_first_then_line_breaks():
    # A literal "%0A" in a message must survive: the agent decodes %AZP25 back to "%" only.
    assert ado.escape_data("50%\r\nliteral %0A") == "50%AZP25%0D%0Aliteral %AZP250A"


def test_data_keeps_semicolons_and_brackets():
    assert ado.escape_data("a;b]c") == "a;b]c"


def test_property_also_escapes_semicolon_and_closing_bracket():
    assert ado.escape_property("a;b]c%\n") == "a%3Bb%5Dc%AZP25%0A"


def test_logging_command_skips_unset_properties_and_escapes_the_rest():
    line = ado.logging_command("task.logissue", "x]y\nz", type="error", sourcepath="/p/a;b.yml", linenumber=None)
    assert line == "##vso[task.logissue type=error;sourcepath=/p/a%3Bb.yml]x]y%0Az"


def test_logging_command_without_properties():
    assert ado.logging_command("task.complete", "done") == "##vso[task.complete]done"


def test_titles_are_one_line_and_cannot_carry_a_command():
    assert ado.one_line("deploy\n  ##vso[task.setvariable variable=x]1") == "deploy ##vso(task.setvariable variable=x]1"


# Exports ----------------------------------------------------------------------------------------------------

def test_parse_exports_splits_names_and_paths_and_reports_bad_entries():
    exports, invalid = ado.parse_exports(["DPS_ID_SCOPE=dps.id_scope", " host.name = dps.x ", "bad name=x", "NOPATH=", "plain"])
    assert exports == [("DPS_ID_SCOPE", ["dps", "id_scope"]), ("host.name", ["dps", "x"])]
    assert invalid == ["bad name=x", "NOPATH=", "plain"]


@pytest.mark.parametrize("keys, expected", [
    (["dps", "id_scope"], "0ne"),
    (["dps", "linked_hubs", "0", "location"], "westeurope"),
    (["dps", "linked_hubs", "3", "location"], None),
    (["dps", "missing"], None),
    (["dps", "id_scope", "deeper"], None),
])
def test_dig(keys, expected):
    data = {"dps": {"id_scope": "0ne", "linked_hubs": [{"location": "westeurope"}]}}
    assert ado.dig(data, keys) == expected


@pytest.mark.parametrize("value, expected", [
    (True, "true"), (False, "false"), (3, "3"), ("x", "x"), ({"b": 1, "a": [1]}, '{"a": [1], "b": 1}'),
])
def test_variable_value(value, expected):
    assert ado.variable_value(value) == expected


# Messages ---------------------------------------------------------------------------------------------------

def test_failure_message_adds_stderr_and_failed_items():
    data = {
        "msg": "non-zero return code",
        "stderr": "no such file",
        "results": [
            {"failed": True, "msg": "item one broke", "_ansible_item_label": "one"},
            {"failed": False, "msg": "fine", "_ansible_item_label": "two"},
            {"failed": True, "censored": "hidden", "_ansible_no_log": True, "_ansible_item_label": "three"},
        ],
    }
    assert ado.failure_message(data, censored=False) == (
        "non-zero return code: no such file\none: item one broke\nthree: the output has been hidden because of no_log")


def test_failure_message_of_a_censored_result_says_nothing_of_it():
    assert ado.failure_message({"msg": "secret"}, censored=True) == "the output has been hidden because of no_log"


def test_summary_text_of_strings_dicts_and_summary_objects():
    class Event:
        msg = "from 2.19"

    class Summary:
        event = Event()

    assert [ado.summary_text(item) for item in ("plain", {"msg": "dict"}, Summary())] == ["plain", "dict", "from 2.19"]


def test_source_location():
    class FakeTask:
        def __init__(self, path):
            self.path = path

        def get_path(self):
            return self.path

    assert ado.source_location(FakeTask("/a/b:c.yml:12")) == ("/a/b:c.yml", 12)
    assert ado.source_location(FakeTask("")) == (None, None)
    assert ado.source_location(None) == (None, None)


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
