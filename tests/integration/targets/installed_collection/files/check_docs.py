# Copyright: iotops.dps_tls contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Every command in the installed collection's README and docs refers to what the installed collection has.

    check_docs.py INSTALLED_COLLECTION

Checks the fenced code blocks: paths under $COLLECTION exist, playbooks run by FQCN exist, modules started with
PYTHONPATH=$COLLECTION/emulator exist, and no command reaches for the source tree (hack/, relative playbooks/ or
emulator/ paths). `make` commands are the checkout's and are left out.
"""

import glob
import os
import re
import sys

SOURCE_TREE_ONLY = re.compile(r"(^|[\s=\"'])(hack/|playbooks/\w+\.yml|emulator/|tests/integration/|extensions/)"
                              r"|PYTHONPATH=emulator\b")


def code_lines(text):
    inside = False
    for line in text.splitlines():
        if line.startswith("```"):
            inside = not inside
        elif inside:
            yield line.lstrip("$ ").strip()


def problems(root, name, text):
    for line in code_lines(text):
        if line.startswith("make ") or line.startswith("#"):
            continue
        if re.search(r"\btemplate:\s*\S+@\w+", line):
            continue  # an Azure Pipelines template in a repository resource: a path in that repository
        for path in re.findall(r"\$COLLECTION/([\w./*-]+)", line):
            if not glob.glob(os.path.join(root, path)):
                yield "%s: %s is not in the installed collection: %s" % (name, path, line)
        for playbook in re.findall(r"ansible-playbook\b.*?\biotops\.dps_tls\.(\w+)", line):
            if not os.path.isfile(os.path.join(root, "playbooks", playbook + ".yml")):
                yield "%s: no playbook iotops.dps_tls.%s: %s" % (name, playbook, line)
        if "$COLLECTION/emulator" in line:
            for module in re.findall(r"python3? -m (\w+)", line):
                if not os.path.isdir(os.path.join(root, "emulator", module)):
                    yield "%s: no module %s in emulator/: %s" % (name, module, line)
        if SOURCE_TREE_ONLY.search(line.replace("$COLLECTION/", "")) and "$COLLECTION/" not in line:
            yield "%s: a path of the source tree: %s" % (name, line)


def main(root):
    found = []
    for path in [os.path.join(root, "README.md")] + sorted(glob.glob(os.path.join(root, "docs", "*.md"))):
        with open(path) as handle:
            found.extend(problems(root, os.path.relpath(path, root), handle.read()))
    if found:
        raise SystemExit("FAIL:\n" + "\n".join(found))
    print("ok: the README and docs refer only to what the installed collection has")


if __name__ == "__main__":
    main(sys.argv[1])
