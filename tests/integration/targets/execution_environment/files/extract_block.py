# Copyright: iotops.dps_tls contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Print the fenced code block that follows a `<!-- file: NAME -->` marker in a Markdown file.

Usage: python extract_block.py MARKDOWN NAME
"""

from __future__ import annotations

import re
import sys


def main(markdown, name):
    with open(markdown) as handle:
        text = handle.read()
    match = re.search(r"<!-- file: %s -->\s*```[\w-]*\n(.*?)```" % re.escape(name), text, re.S)
    if not match:
        sys.stderr.write(f"FAIL: no block marked <!-- file: {name} --> in {markdown}\n")
        return 1
    sys.stdout.write(match.group(1))
    return 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:]))
