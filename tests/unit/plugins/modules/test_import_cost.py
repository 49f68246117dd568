# Copyright: iotops.dps_tls contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""ca_trust and tls_readiness run on every device of a fleet, and a device pays for every import at each run:
cryptography, the certificate parser, the probe, the handshake and the hash-link code are imported only by the runs
that use them."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

COMMON = ("cryptography", "_tls.probe", "_tls.handshake", "_tls.wire", "_trust.links")


@pytest.mark.parametrize("module, deferred", [
    ("ca_trust", COMMON),
    ("tls_readiness", COMMON + ("_x509.certificate", "_x509.openssl", "_trust.store")),
])
def test_a_device_module_imports_nothing_a_common_run_does_not_use(module, deferred):
    code = ("import json, sys\n"
            "from ansible_collections.iotops.dps_tls.plugins.modules import %s\n"
            "print(json.dumps(sorted(sys.modules)))\n" % module)
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(path for path in sys.path if path))
    out = subprocess.run([sys.executable, "-c", code], env=env, check=True, stdout=subprocess.PIPE).stdout
    loaded = json.loads(out.decode())
    assert [name for name in loaded if name == "cryptography" or name.endswith(deferred)] == []
