# Copyright: iotops.dps_tls contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Writes the README's Quickstart as a script and its first playbook as a file, taken from the README itself, so
the test runs what users read.

    readme_quickstart.py README.md OUT_DIR TMP_DIR

OUT_DIR/quickstart.sh: the line of the Install section that finds $COLLECTION, then the Quickstart block, with
/tmp/ replaced by TMP_DIR/ (parallel runs never share state) and the emulator's device endpoint on any free port
(8883 stays free for the tests of the device endpoint). OUT_DIR/first_dps.yml: the first playbook.
"""

import os
import re
import sys


def block(text, heading, language):
    """The first fenced block of language after heading."""
    section = text[text.index(heading):]
    match = re.search(r"^```%s\n(.*?)^```$" % language, section, re.M | re.S)
    if not match:
        raise SystemExit("FAIL: no ```%s block after %r in the README" % (language, heading))
    return match.group(1)


def collection_line(install):
    """The COLLECTION=... command of the Install block, with its continuation lines."""
    lines, taking = [], False
    for line in install.splitlines():
        taking = taking or line.startswith("COLLECTION=")
        if taking:
            lines.append(line)
            if not line.endswith("\\"):
                break
    if not lines:
        raise SystemExit("FAIL: the README's Install section does not set COLLECTION")
    return "\n".join(lines) + "\n"


def main(readme, out_dir, tmp_dir):
    with open(readme) as handle:
        text = handle.read()
    quickstart = block(text, "## Quickstart", "sh").replace("/tmp/", tmp_dir.rstrip("/") + "/")
    if "dpsemu serve " not in quickstart:
        raise SystemExit("FAIL: the Quickstart does not start the emulator")
    quickstart = quickstart.replace("dpsemu serve ", "dpsemu serve --device-port 0 ")
    with open(os.path.join(out_dir, "quickstart.sh"), "w") as handle:
        handle.write(collection_line(block(text, "## Install", "sh")) + quickstart)
    playbook = block(text, "## A first playbook", "yaml")
    if not playbook.startswith("# first_dps.yml\n"):
        raise SystemExit("FAIL: the README's first playbook is not the first_dps.yml the Quickstart runs")
    with open(os.path.join(out_dir, "first_dps.yml"), "w") as handle:
        handle.write(playbook)


if __name__ == "__main__":
    main(*sys.argv[1:])
