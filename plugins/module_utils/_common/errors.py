# Copyright: iotops.dps_tls contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Errors every module_utils concern raises; a module turns them into one fail_json."""

from __future__ import annotations


class DpsTlsError(Exception):
    """An error the user must see: a message in plain words plus structured details for the result."""

    def __init__(self, message, **details):
        super().__init__(message)
        self.message = message
        self.details = details


class InvalidInputError(DpsTlsError):
    """An option value that is wrong; raised before anything is read or written."""

    def __init__(self, option, reason, **details):
        super().__init__("%s: %s" % (option, reason), option=option, **details)
        self.option = option
        self.reason = reason


class MissingDependencyError(DpsTlsError):
    """A Python package the module needs is not importable on the host that runs it."""

    def __init__(self, package, purpose, error=None):
        message = "The Python package %s is required %s but could not be imported. Install it with `pip install %s`" % (
            package, purpose, package)
        if error:
            message += " (%s)" % error
        super().__init__(message, missing_package=package)
        self.package = package
