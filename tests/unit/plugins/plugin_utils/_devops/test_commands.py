# Copyright: iotops.dps_tls contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Azure Pipelines logging commands: escaping as the agent decodes it, and each command line."""

from __future__ import annotations

import pytest

from ansible_collections.iotops.dps_tls.plugins.plugin_utils._devops import commands as vso


def test_data_escapes_percent_first_then_line_breaks():
    # A literal "%0A" in a message must survive: the agent decodes %AZP25 back to "%" only.
    assert vso.escape_data("50%\r\nliteral %0A") == "50%AZP25%0D%0Aliteral %AZP250A"


def test_data_keeps_semicolons_and_brackets():
    assert vso.escape_data("a;b]c") == "a;b]c"


def test_property_also_escapes_semicolon_and_closing_bracket():
    assert vso.escape_property("a;b]c%\n") == "a%3Bb%5Dc%AZP25%0A"


def test_logging_command_skips_unset_properties_and_escapes_the_rest():
    line = vso.logging_command("task.logissue", "x]y\nz", type="error", sourcepath="/p/a;b.yml", linenumber=None)
    assert line == "##vso[task.logissue type=error;sourcepath=/p/a%3Bb.yml]x]y%0Az"


def test_logging_command_without_properties():
    assert vso.logging_command("task.complete", "done") == "##vso[task.complete]done"


def test_titles_are_one_line_and_cannot_carry_a_command():
    assert vso.one_line("deploy\n  ##vso[task.setvariable variable=x]1") == "deploy ##vso(task.setvariable variable=x]1"
    assert vso.group_start("a\n##[error]b") == "##[group]a ##(error]b"
    assert vso.section("play") == "##[section]play"
    assert vso.group_end() == "##[endgroup]"


def test_issue_cannot_carry_a_command_and_has_no_line_without_a_file():
    assert vso.log_issue("error", "x ##vso[task.complete result=Succeeded]", linenumber=3) == \
        "##vso[task.logissue type=error]x ##vso(task.complete result=Succeeded]"
    assert vso.log_issue("warning", "w", sourcepath="site.yml", linenumber=3) == \
        "##vso[task.logissue type=warning;sourcepath=site.yml;linenumber=3]w"


def test_issue_is_truncated():
    line = vso.log_issue("error", "x" * (vso.MAX_MESSAGE + 10))
    assert line.endswith("x [...]") and len(line) < vso.MAX_MESSAGE + 50


@pytest.mark.parametrize("percent, value", [(-5, 0), (0, 0), (42.7, 42), (100, 100), (250, 100)])
def test_progress_is_clamped_to_what_the_agent_takes(percent, value):
    assert vso.set_progress(percent, "Audit\n50%") == f"##vso[task.setprogress value={value};]Audit 50%AZP25"


def test_complete_takes_only_the_results_the_agent_knows():
    assert vso.complete("SucceededWithIssues", "1 warning") == \
        "##vso[task.complete result=SucceededWithIssues]1 warning"
    with pytest.raises(ValueError):
        vso.complete("succeeded", "x")


def test_set_variable_flags():
    assert vso.set_variable("KEY", "k;1", secret=True, output=True) == \
        "##vso[task.setvariable variable=KEY;issecret=true;isoutput=true]k;1"
    assert vso.set_variable("FLAG", False) == "##vso[task.setvariable variable=FLAG]false"


def test_parse_exports_splits_names_and_paths_and_reports_bad_entries():
    exports, invalid = vso.parse_exports(["DPS_ID_SCOPE=dps.id_scope", " host.name = dps.x ", "bad name=x", "NOPATH=", "plain"])
    assert exports == [("DPS_ID_SCOPE", ["dps", "id_scope"]), ("host.name", ["dps", "x"])]
    assert invalid == ["bad name=x", "NOPATH=", "plain"]


def test_variable_names_match_whole():
    assert vso.is_variable_name("A.b_1") and not vso.is_variable_name("A\n") and not vso.is_variable_name("")


@pytest.mark.parametrize("value, expected", [
    (True, "true"), (False, "false"), (3, "3"), ("x", "x"), ({"b": 1, "a": [1]}, '{"a": [1], "b": 1}'),
])
def test_variable_value(value, expected):
    assert vso.variable_value(value) == expected
