# Copyright: iotops.dps_tls contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Where to connect and for how long: the one check of a host, a port and a timeout.

tls_probe and tls_readiness refuse the same values with the same words, naming the option, before any packet.
"""

from __future__ import annotations

import ipaddress
import re

from ansible_collections.iotops.dps_tls.plugins.module_utils._common.errors import InvalidInputError

MIN_PORT = 1
MAX_PORT = 65535
MAX_TIMEOUT = 300
MAX_NAME_LENGTH = 253
MAX_LABEL_LENGTH = 63

# One DNS label as SNI carries it: letters, digits, '_' and inner '-' (no spaces, ports, schemes or paths).
_LABEL = re.compile(r"[A-Za-z0-9_](?:[A-Za-z0-9_-]*[A-Za-z0-9_])?")


def check_host(option, value, what="host name"):
    """A host name (IDNA names too) or an IP address; returns it as it was given.

    `what` names the kind of name in the message: SNI (server_name) takes a DNS name.
    """
    def refuse(why):
        raise InvalidInputError(option, "must be a %s or IP address%s, got %r" % (what, why, value))

    if not isinstance(value, str) or not value:
        refuse("")
    if any(char.isspace() for char in value):
        refuse(" without spaces")
    try:
        ipaddress.ip_address(value)
        return value
    except ValueError:
        pass
    name = value[:-1] if value.endswith(".") else value  # one trailing dot: a fully qualified name
    if "" in name.split("."):
        refuse(" without empty labels (a leading dot or two dots in a row)")
    name = _ascii(name, refuse)
    if len(name) > MAX_NAME_LENGTH:
        refuse(" of at most %d characters" % MAX_NAME_LENGTH)
    for label in name.split("."):
        if len(label) > MAX_LABEL_LENGTH:
            refuse(" with labels of at most %d characters" % MAX_LABEL_LENGTH)
        if not _LABEL.fullmatch(label):
            refuse(" without scheme, port or path (letters, digits, '-' and '_' between dots)")
    return value


def _ascii(name, refuse):
    """The name as DNS sees it: international names through IDNA, so a bad one is refused here by name."""
    if name.isascii():
        return name
    try:
        return name.encode("idna").decode("ascii")
    except UnicodeError as exc:
        return refuse(" that IDNA can encode (%s)" % exc)


def check_port(option, value):
    if not MIN_PORT <= value <= MAX_PORT:
        raise InvalidInputError(option, "must be between %d and %d, got %s" % (MIN_PORT, MAX_PORT, value))


def check_timeout(option, value):
    if not 0 < value <= MAX_TIMEOUT:
        raise InvalidInputError(option, "must be more than 0 and at most %d seconds, got %s" % (MAX_TIMEOUT, value))


def check_endpoint(host, port, timeout, host_option="host", server_name=None):
    """Every part of an endpoint, each refused by the name of its option."""
    check_host(host_option, host)
    check_port("port", port)
    check_timeout("timeout", timeout)
    if server_name is not None:
        check_host("server_name", server_name, what="DNS name")
