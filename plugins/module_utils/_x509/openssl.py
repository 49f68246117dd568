# Copyright: iotops.dps_tls contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Certificate facts from the openssl command, for devices without python3-cryptography.

Such devices always have openssl: their trust-store tools call it.
"""

from __future__ import annotations

import datetime
import os
import re
import subprocess
import tempfile

from ansible_collections.iotops.dps_tls.plugins.module_utils._common.errors import DpsTlsError
from ansible_collections.iotops.dps_tls.plugins.module_utils._x509.pem import CertificateError, certificate_pem


def inspect(der, command="openssl"):
    """{is_ca, self_signed, not_after (naive UTC), subject, issuer} of a DER certificate."""
    fd, path = tempfile.mkstemp(suffix=".pem")
    try:
        with os.fdopen(fd, "w") as handle:
            handle.write(certificate_pem(der))
        info = _run([command, "x509", "-in", path, "-noout", "-subject", "-issuer", "-enddate",
                     "-nameopt", "RFC2253", "-ext", "basicConstraints"])
        if info is None:
            raise CertificateError("does not parse as an X.509 certificate (openssl x509 rejected it)")
        # verify against itself alone, checking its own signature: true only for a genuine self-signed cert
        verified = _run([command, "verify", "-check_ss_sig", "-no_check_time", "-CAfile", path, path])
    finally:
        os.unlink(path)
    fields = dict(line.split("=", 1) for line in info.splitlines() if "=" in line and not line.startswith(" "))
    subject = fields.get("subject", "").strip()
    issuer = fields.get("issuer", "").strip()
    not_after = datetime.datetime.strptime(fields["notAfter"].strip(), "%b %d %H:%M:%S %Y %Z")
    return {"is_ca": bool(re.search(r"CA:TRUE", info)), "self_signed": subject == issuer and verified is not None,
            "not_after": not_after, "subject": subject, "issuer": issuer}


def _run(argv):
    # no default store: only the file given may vouch for the certificate (works on OpenSSL 1.1 and 3)
    env = dict(os.environ, SSL_CERT_FILE=os.devnull, SSL_CERT_DIR=os.devnull)
    try:
        proc = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, check=False, env=env)
    except OSError as exc:
        raise DpsTlsError("Checking certificates needs the Python package cryptography or the openssl command, "
                          "and neither is available (%s)" % exc, missing_package="cryptography")
    if proc.returncode != 0:
        return None
    return proc.stdout.decode("utf-8", "replace")
