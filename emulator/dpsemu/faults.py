# Copyright: iotops.dps_tls contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Test-only fault injection and the request log (both in memory, both reset by a restart)."""

import datetime
import threading

ERROR_STATUSES = (429, 500, 503)
# concurrent_write: another writer changes the resource (its etag) just before the call runs.
# drop_answer: the request is applied, then the connection is reset instead of answering (a lost answer).
ACTIONS = ("status", "reset", "fail_operation", "concurrent_write", "drop_answer")
LOG_LIMIT = 5000


class FaultError(ValueError):
    """A fault rule that does not make sense."""


class Faults:
    """Rules consumed by matching requests: answer with an error status, reset the connection (before or after
    applying the request), or make the next long-running operation end Failed."""

    def __init__(self):
        self._lock = threading.Lock()
        self._rules = []

    def add(self, rule):
        if not isinstance(rule, dict):
            raise FaultError("a fault is a JSON object")
        action = rule.get("action", "status")
        if action not in ACTIONS:
            raise FaultError("action must be one of %s" % ", ".join(ACTIONS))
        status = rule.get("status")
        if action == "status" and status not in ERROR_STATUSES:
            raise FaultError("status must be one of %s" % ", ".join(str(s) for s in ERROR_STATUSES))
        count = rule.get("count", 1)
        if not isinstance(count, int) or count < 1:
            raise FaultError("count must be a positive integer")
        retry_after = rule.get("retry_after", 1)
        if not isinstance(retry_after, (int, float)) or retry_after < 0:
            raise FaultError("retry_after must be a number of seconds >= 0")
        clean = {
            "action": action,
            "method": (rule.get("method") or "").upper() or None,
            "path_contains": rule.get("path_contains") or "",
            "status": status if action == "status" else None,
            "retry_after": retry_after,
            "count": count,
        }
        with self._lock:
            self._rules.append(clean)
        return clean

    def clear(self):
        with self._lock:
            self._rules = []

    def list(self):
        with self._lock:
            return [dict(rule) for rule in self._rules]

    def take(self, method, path, actions):
        """Consume and return the first rule among `actions` matching this request, or None."""
        with self._lock:
            for rule in self._rules:
                if rule["action"] not in actions:
                    continue
                if rule["method"] and rule["method"] != method:
                    continue
                if rule["path_contains"] not in path:
                    continue
                rule["count"] -= 1
                if rule["count"] <= 0:
                    self._rules.remove(rule)
                return dict(rule)
        return None


class RequestLog:
    """What clients asked and what they got; never bodies, headers or token values."""

    def __init__(self):
        self._lock = threading.Lock()
        self._entries = []

    def add(self, method, path, query, status, request_id, fault=None):
        entry = {
            "method": method,
            "path": path,
            "query": query,
            "status": status,
            "request_id": request_id,
            "time": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="milliseconds"),
        }
        if fault:
            entry["fault"] = fault
        with self._lock:
            self._entries.append(entry)
            del self._entries[:-LOG_LIMIT]

    def list(self):
        with self._lock:
            return list(self._entries)

    def clear(self):
        with self._lock:
            self._entries = []
