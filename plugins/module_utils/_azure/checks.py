# Copyright: iotops.dps_tls contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Checks of the Azure connection options whose values go into URLs and TLS settings: refused by name, before any
request, with a sentence instead of a traceback from deep inside the HTTP stack."""

from __future__ import annotations

import hashlib
import ipaddress
import os
import re
import ssl
from urllib.parse import urlsplit

from ansible_collections.iotops.dps_tls.plugins.module_utils._common.errors import InvalidInputError
from ansible_collections.iotops.dps_tls.plugins.module_utils._common.files import BUNDLE_MAX_BYTES, read_regular_file

# A DNS name of LDH labels (punycode for international names), each 1-63 characters, no empty label.
HOST_NAME = r'(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)*[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?'
# No CA bundle is this large; a bigger file is a mistake, not a bundle.


def refused(option, origin, reason):
    """An InvalidInputError for option; origin says which environment variable gave the value, if one did."""
    return InvalidInputError(option, reason + origin)


def _valid_host(host):
    if ':' in host:
        try:
            return ipaddress.ip_address(host).version == 6
        except ValueError:
            return False
    return re.fullmatch(HOST_NAME, host) is not None


def check_endpoint(option, value, origin='', bare_host=False):
    """An https:// root URL (scheme, host, optional port; nothing else), or InvalidInputError naming option.

    bare_host: a host name alone is accepted too, as azure-identity does for an authority.
    """
    if re.search(r'[\s\x00-\x1f\x7f]', value):
        raise refused(option, origin, 'must not contain spaces or control characters, got %r' % value)
    url = 'https://' + value if bare_host and '://' not in value else value
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise refused(option, origin, 'is not a valid URL (%s), got %r' % (exc, value))
    if parts.scheme.lower() != 'https':
        raise refused(option, origin, 'must be an https:// URL, got %r' % value)
    host = parts.hostname or ''
    if '@' in parts.netloc or not _valid_host(host) or port == 0:
        raise refused(option, origin, 'has no valid host name (letters, digits and hyphens in dot-separated labels, '
                                      'an IP address, an optional port), got %r' % value)
    if parts.path not in ('', '/') or parts.query or parts.fragment or re.search(r'[?#]', url):
        raise refused(option, origin, 'must be the root URL of the endpoint, with no path, query or fragment, '
                                      'got %r' % value)
    return value.rstrip('/')


def read_pem_file(option, path, origin=''):
    """The bytes of a regular, non-empty file no larger than any PEM bundle, read without ever blocking on a FIFO
    or a device."""
    if not os.path.lexists(path):
        raise refused(option, origin, 'no such file: %s' % path)
    try:
        text = read_regular_file(option, path, max_bytes=BUNDLE_MAX_BYTES)
    except InvalidInputError as exc:
        raise refused(option, origin, exc.reason)
    if not text:
        raise refused(option, origin, '%s is empty: it must hold PEM certificates' % path)
    if b'-----BEGIN CERTIFICATE-----' not in text:
        raise refused(option, origin, '%s holds no PEM certificate' % path)
    return text


def check_ca_bundle(path, origin=''):
    """A regular, non-empty file of PEM CA certificates OpenSSL can load, with no private key in it."""
    option = 'ca_bundle'
    text = read_pem_file(option, path, origin)
    if b'PRIVATE KEY-----' in text:
        raise refused(option, origin, '%s holds a private key: give the CA certificates only' % path)
    try:
        ssl.create_default_context(cadata=text.decode('ascii', 'replace'))
    except (OSError, ssl.SSLError, ValueError) as exc:
        raise refused(option, origin, '%s holds no PEM certificate OpenSSL can load (%s)' % (path, exc))
    return path


def check_client_certificate(path, thumbprint=None, origin=''):
    """The service principal's PEM file is a regular file with a certificate; with thumbprint (azure.azcollection's
    option), that certificate must be the one the thumbprint names."""
    text = read_pem_file('client_certificate_path', path, origin)
    if not thumbprint:
        return
    wanted = re.sub(r'[\s:]', '', thumbprint).upper()
    match = re.search(rb'-----BEGIN CERTIFICATE-----[A-Za-z0-9+/=\s]+-----END CERTIFICATE-----', text)
    try:
        actual = hashlib.sha1(ssl.PEM_cert_to_DER_cert(match.group(0).decode('ascii'))).hexdigest().upper()
    except (AttributeError, ValueError):
        raise refused('client_certificate_path', origin, 'the certificate in %s is not valid PEM' % path)
    if actual != wanted:
        raise InvalidInputError('thumbprint', '%s does not match the certificate in %s, whose SHA-1 thumbprint is '
                                              '%s' % (thumbprint, path, actual))
