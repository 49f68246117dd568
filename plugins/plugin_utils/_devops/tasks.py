# Copyright: iotops.dps_tls contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What the Azure DevOps callback reads from ansible's tasks, plays and results to word its issues."""

from __future__ import annotations

import os
import re

from ansible import constants as C
from ansible.module_utils.parsing.convert_bool import boolean
from ansible.playbook.block import Block

HIDDEN = "the output has been hidden because of no_log"

# A role or playbook inside a collection's own tree, which is never the repository a pipeline checked out.
_COLLECTION_CONTENT = re.compile(r"(?:^|.*/)ansible_collections/[^/]+/[^/]+/(?:roles|playbooks)/.*")


def result_parts(result):
    """(task, host name, result dict) on every supported ansible-core."""
    task = getattr(result, "task", None) or result._task
    host = getattr(result, "host", None) or result._host
    data = getattr(result, "result", None)
    if not isinstance(data, dict):
        data = result._result
    return task, host.get_name(), data


def export_values(data, exports):
    """{name: value} for the (name, key path) exports a result provides; loop items in order, the last one wins,
    and nothing from a no_log item."""
    candidates = [data] + [item for item in data.get("results") or [] if isinstance(item, dict)]
    values = {}
    for name, keys in exports:
        for candidate in candidates:
            if candidate.get("_ansible_no_log") or "censored" in candidate:
                continue
            found = dig(candidate, keys)
            if found is not None:
                values[name] = found
    return values


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


def source_location(task):
    """(path, line) of a task, or (None, None)."""
    path = task.get_path() if task is not None else ""
    if not path:
        return None, None
    file_name, sep, line = path.rpartition(":")
    if sep and line.isdigit():
        return file_name, int(line)
    return path, None


def repository_path(path, sources_dir):
    """The path to give as sourcepath, or None.

    Relative to the checked-out sources when the pipeline says where they are (Build.SourcesDirectory), so the
    issue links to the file in the repository; never a file of an installed collection, which no repository holds.
    """
    if not path:
        return None
    if sources_dir:
        root = os.path.realpath(sources_dir)
        real = os.path.realpath(path)
        if os.path.commonpath([root, real]) != root or real == root:
            return None
        path = os.path.relpath(real, root).replace(os.sep, "/")
    if _COLLECTION_CONTENT.fullmatch(path):
        return None
    return path


def runs_for_the_play(task):
    """A run_once or delegated task speaks for the play (a gate), not for the host it happened to run as."""
    return _flag(task.run_once) or bool(task.delegate_to)


def tolerates_unreachable(task, play, down, batch_size):
    """The play goes on without unreachable hosts: the task ignores them, or the play's max_fail_percentage
    allows `down` hosts out of `batch_size` (any_errors_fatal stops everything at the first one)."""
    if _flag(task.ignore_unreachable):
        return True
    limit = getattr(play, "max_fail_percentage", None)
    if limit is None or _flag(getattr(play, "any_errors_fatal", False)) or not batch_size:
        return False
    return down * 100.0 / batch_size <= float(limit)


def _flag(value):
    return boolean(value, strict=False) if value is not None else False


def batch_hosts(play):
    """Names of the hosts the play runs on in this batch (the inventory is restricted to it), or []."""
    inventory = getattr(getattr(play, "_variable_manager", None), "_inventory", None)
    if inventory is None:
        return []
    try:
        return [host.name for host in inventory.get_hosts(play.hosts, order=play.order)]
    except Exception:  # pylint: disable=broad-except
        # Progress and tolerance are a nicety: never fail a run over them.
        return []


def countable_tasks(play):
    """uuids of the tasks a play announces with v2_playbook_on_task_start (meta tasks are not announced)."""
    try:
        blocks = play.compile()
    except Exception:  # pylint: disable=broad-except
        return []
    found = []
    for block in blocks:
        _collect(block, found)
    return found


def _collect(block, found):
    for part in (block.block, block.rescue, block.always):
        for item in part or []:
            if isinstance(item, Block):
                _collect(item, found)
            elif item.action not in C._ACTION_META:
                found.append(item._uuid)


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
    if censored:
        return HIDDEN
    message = str(data.get("msg") or "").strip()
    stderr = str(data.get("stderr") or "").strip()
    if stderr and stderr not in message:
        message = f"{message}: {stderr}" if message else stderr
    for item in data.get("results") or []:
        if isinstance(item, dict) and item.get("failed"):
            label = item.get("_ansible_item_label", item.get("item", "item"))
            text = HIDDEN if item.get("_ansible_no_log") or "censored" in item else str(item.get("msg") or "failed")
            message += f"\n{label}: {text}"
    return message.strip() or "failed"
