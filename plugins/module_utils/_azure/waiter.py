# Copyright: iotops.dps_tls contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""One overall deadline for a task, shared by its requests and long-running operations."""

from __future__ import annotations

import time

from ansible_collections.iotops.dps_tls.plugins.module_utils._azure.errors import AzureTimeoutError


class Waiter:
    """A clock with a deadline. The SDK's poller does the polling (at the pace of Retry-After); this bounds it."""

    def __init__(self, timeout, clock=time.monotonic, sleep=time.sleep):
        self.timeout = timeout
        self.clock = clock
        self.sleep = sleep
        self.deadline = clock() + timeout
        # Writes whose connection broke after they were sent (counted by the retry policy, read by errors.Writes).
        self.lost_answers = 0

    def remaining(self):
        return max(0.0, self.deadline - self.clock())

    def poll(self, read, settled, operation, interval=2):
        """Call read() until settled(value) or the deadline; for states no SDK poller covers (an operation that an
        earlier run started). Returns the last value."""
        while True:
            value = read()
            if settled(value):
                return value
            if self.remaining() <= 0:
                raise AzureTimeoutError('%s: still busy after timeout=%ss; run the task again later, or raise timeout'
                                        % (operation, self.timeout), error_kind='timeout', operation=operation,
                                        timeout=self.timeout)
            self.sleep(min(interval, self.remaining()))

    def result(self, poller, operation):
        """Wait for an LROPoller until the deadline; its result, or AzureTimeoutError if it is still running."""
        poller.wait(timeout=self.remaining())
        if not poller.done():
            raise AzureTimeoutError(
                '%s did not finish within timeout=%ss (status %s); it goes on in Azure: run the task again to pick '
                'up its outcome, or raise timeout' % (operation, self.timeout, poller.status()),
                error_kind='timeout', operation=operation, timeout=self.timeout)
        return poller.result()
