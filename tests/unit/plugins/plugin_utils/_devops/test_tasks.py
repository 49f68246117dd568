# Copyright: iotops.dps_tls contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What the callback reads from tasks, plays and results, with real ansible-core objects."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from ansible.parsing.dataloader import DataLoader
from ansible.playbook.play import Play
from ansible.playbook.task import Task
from ansible.vars.manager import VariableManager

from ansible_collections.iotops.dps_tls.plugins.plugin_utils._devops import tasks


@pytest.mark.parametrize("keys, expected", [
    (["dps", "id_scope"], "0ne"),
    (["dps", "linked_hubs", "0", "location"], "westeurope"),
    (["dps", "linked_hubs", "3", "location"], None),
    (["dps", "missing"], None),
    (["dps", "id_scope", "deeper"], None),
])
def test_dig(keys, expected):
    data = {"dps": {"id_scope": "0ne", "linked_hubs": [{"location": "westeurope"}]}}
    assert tasks.dig(data, keys) == expected


def test_export_values_from_loop_items_skip_no_log_ones_and_the_last_wins():
    data = {"results": [{"dps": {"id_scope": "first"}}, {"dps": {"id_scope": "hidden"}, "_ansible_no_log": True},
                        {"dps": {"id_scope": "second"}}, "not a dict"]}
    assert tasks.export_values(data, [("SCOPE", ["dps", "id_scope"]), ("NONE", ["x"])]) == {"SCOPE": "second"}


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
    assert tasks.failure_message(data, censored=False) == (
        "non-zero return code: no such file\none: item one broke\nthree: the output has been hidden because of no_log")


def test_failure_message_of_a_censored_result_says_nothing_of_it():
    assert tasks.failure_message({"msg": "secret"}, censored=True) == "the output has been hidden because of no_log"


def test_summary_text_of_strings_dicts_and_summary_objects():
    summary = SimpleNamespace(event=SimpleNamespace(msg="from 2.19"))
    assert [tasks.summary_text(item) for item in ("plain", {"msg": "dict"}, summary)] == ["plain", "dict", "from 2.19"]


def test_source_location():
    def at(path):
        return SimpleNamespace(get_path=lambda: path)

    assert tasks.source_location(at("/a/b:c.yml:12")) == ("/a/b:c.yml", 12)
    assert tasks.source_location(at("")) == (None, None)
    assert tasks.source_location(None) == (None, None)


@pytest.mark.parametrize("path, sources, expected", [
    # The pipeline's checkout: paths relative to it, as the agent links them.
    ("{src}/playbooks/site.yml", "{src}", "playbooks/site.yml"),
    ("{src}/playbooks/site.yml", "{src}/", "playbooks/site.yml"),
    ("{tmp}/elsewhere/site.yml", "{src}", None),
    ("{src}-other/site.yml", "{src}", None),
    # A collection installed inside the checkout is still not the repository's own file.
    ("{src}/collections/ansible_collections/iotops/dps_tls/roles/tls_readiness/tasks/main.yml", "{src}", None),
    # The collection's own repository checked out in ansible-test's layout is the repository.
    ("{src}/ansible_collections/iotops/dps_tls/roles/r/tasks/main.yml", "{src}/ansible_collections/iotops/dps_tls",
     "roles/r/tasks/main.yml"),
    # Without the sources directory: the path as it is, except into an installed collection.
    ("{src}/site.yml", None, "{src}/site.yml"),
    ("/home/u/.ansible/collections/ansible_collections/iotops/dps_tls/playbooks/site.yml", None, None),
    ("/home/u/.ansible/collections/ansible_collections/iotops/dps_tls/roles/r/tasks/main.yml", None, None),
    (None, "{src}", None),
])
def test_repository_path(tmp_path, path, sources, expected):
    def fill(text):
        return text.format(src=str(tmp_path / "s"), tmp=str(tmp_path)) if text else text

    assert tasks.repository_path(fill(path), fill(sources)) == fill(expected)


@pytest.mark.parametrize("keys, expected", [
    ({}, False),
    ({"run_once": True}, True),
    ({"delegate_to": "localhost"}, True),
    ({"run_once": "yes"}, True),
])
def test_runs_for_the_play(keys, expected):
    task = Task.load(dict({"name": "gate", "ansible.builtin.fail": {"msg": "x"}}, **keys))
    assert tasks.runs_for_the_play(task) is expected


@pytest.mark.parametrize("ignore, play, down, batch, expected", [
    (True, {}, 1, 1, True),
    (False, {}, 1, 2, False),
    (False, {"max_fail_percentage": 50}, 1, 2, True),
    (False, {"max_fail_percentage": 50}, 2, 3, False),
    (False, {"max_fail_percentage": 0}, 1, 10, False),
    (False, {"max_fail_percentage": 50, "any_errors_fatal": True}, 1, 4, False),
    (False, {"max_fail_percentage": 50}, 1, 0, False),
])
def test_tolerates_unreachable(ignore, play, down, batch, expected):
    task = Task.load({"name": "ping", "ansible.builtin.ping": {}, "ignore_unreachable": ignore})
    play = SimpleNamespace(**dict({"max_fail_percentage": None, "any_errors_fatal": False}, **play))
    assert tasks.tolerates_unreachable(task, play, down=down, batch_size=batch) is expected


def load_play(data):
    loader = DataLoader()
    return Play.load(data, variable_manager=VariableManager(loader=loader), loader=loader)


def test_countable_tasks_walk_blocks_and_skip_meta_tasks():
    play = load_play({"hosts": "localhost", "gather_facts": False, "tasks": [
        {"name": "one", "ansible.builtin.debug": {"msg": 1}},
        {"ansible.builtin.meta": "flush_handlers"},
        {"block": [{"name": "two", "ansible.builtin.debug": {"msg": 2}}],
         "rescue": [{"name": "three", "ansible.builtin.debug": {"msg": 3}}],
         "always": [{"block": [{"name": "four", "ansible.builtin.debug": {"msg": 4}}]}]},
    ]})
    assert len(tasks.countable_tasks(play)) == 4


def test_countable_tasks_of_a_play_that_cannot_compile_is_none():
    assert tasks.countable_tasks(SimpleNamespace(compile=lambda: 1 / 0)) == []


def test_batch_hosts_without_an_inventory():
    assert tasks.batch_hosts(SimpleNamespace(hosts="all", order=None)) == []


def test_rescued_by_block():
    play = load_play({"hosts": "localhost", "gather_facts": False, "tasks": [
        {"block": [{"name": "inside", "ansible.builtin.debug": {"msg": 1}}],
         "rescue": [{"name": "rescuer", "ansible.builtin.debug": {"msg": 2}}]},
        {"name": "plain", "ansible.builtin.debug": {"msg": 3}},
    ]})
    block, plain = play.tasks[0], play.tasks[1].block[0]
    assert tasks.rescued_by_block(block.block[0]) is True
    assert tasks.rescued_by_block(block.rescue[0]) is False
    assert tasks.rescued_by_block(plain) is False
