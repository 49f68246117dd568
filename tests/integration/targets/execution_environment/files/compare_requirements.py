# Copyright: iotops.dps_tls contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Compare what `ansible-builder introspect` found for iotops.dps_tls with requirements.txt and bindep.txt.

Usage: python compare_requirements.py INTROSPECT_OUTPUT REQUIREMENTS_TXT BINDEP_TXT
"""

from __future__ import annotations

import sys

import yaml

SUFFIX = "  # from collection iotops.dps_tls"


def requirement_lines(path):
    with open(path) as handle:
        lines = (line.split("#", 1)[0].strip() for line in handle)
        return [line for line in lines if line]


def main(introspected, requirements, bindep):
    with open(introspected) as handle:
        found = yaml.safe_load(handle) or {}
    ok = True
    for kind, path in (("python", requirements), ("system", bindep)):
        expected = [line + SUFFIX for line in requirement_lines(path)]
        actual = found.get(kind) or []
        if not expected:
            print(f"FAIL: {path} lists nothing")
            ok = False
        elif actual != expected:
            print(f"FAIL: ansible-builder found {kind} requirements {actual}, expected {expected}")
            ok = False
    if ok:
        print("ok: ansible-builder finds requirements.txt and bindep.txt through meta/execution-environment.yml")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:]))
