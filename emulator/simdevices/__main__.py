# Copyright: iotops.dps_tls contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Creates simulated devices: one small Debian-style root filesystem each, plus an Ansible inventory.

Each device gets what the real update-ca-certificates needs to work on it through ca_trust's ``root``
option: os-release, ca-certificates.conf, /usr/share/ca-certificates, /usr/local/share/ca-certificates
and a built /etc/ssl/certs. The first --missing-roots devices have the DPS roots deselected, like a
trimmed image. The last --weak-tls devices get an /etc/ssl/openssl.cnf whose system_default CipherString
allows only suites outside the DPS policy (ECDSA and ChaCha20), like an app stack hardened for another cloud.
The distribution certificates exist once (shared/) and every device hard-links them into its own
/usr/share/ca-certificates (a device's links must stay inside it, as ca_trust reads them), and
/etc/ssl/certs is built twice (with and without the roots) and copied, so 100 devices take a second,
not 100 runs of the tool.

    PYTHONPATH=<collection>/emulator python3 -m simdevices --count 5 --missing-roots 3 --weak-tls 1 --out /tmp/devices
    ansible-playbook -i /tmp/devices/inventory.yml iotops.dps_tls.trust_roots
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import time

DPS_ROOTS = (
    "mozilla/DigiCert_Global_Root_G2.crt",
    "mozilla/Microsoft_RSA_Root_Certificate_Authority_2017.crt",
    "mozilla/DigiCert_Global_Root_G3.crt",
    "mozilla/Microsoft_ECC_Root_Certificate_Authority_2017.crt",
)
# What OpenSSL apps on a --weak-tls device offer by default: TLS 1.2+, none of the 12 DPS suites.
WEAK_OPENSSL_CNF = """\
# Simulated device: the vendor's TLS hardening, read by every OpenSSL app at start
openssl_conf = default_conf

[default_conf]
ssl_conf = ssl_sect

[ssl_sect]
system_default = system_default_sect

[system_default_sect]
MinProtocol = TLSv1.2
CipherString = ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-CHACHA20-POLY1305
"""
OS_RELEASE = 'PRETTY_NAME="Simulated device (Debian 12)"\nNAME="Debian GNU/Linux"\nVERSION_ID="12"\nID=debian\n'


def build_store(device, shared, conf_lines):
    """The layout of one device, with /etc/ssl/certs not yet built."""
    for folder in ("etc/ssl/certs", "usr/share", "usr/local/share/ca-certificates", "etc/ca-certificates"):
        os.makedirs(os.path.join(device, folder), exist_ok=True)
    with open(os.path.join(device, "etc/os-release"), "w") as handle:
        handle.write(OS_RELEASE)
    with open(os.path.join(device, "etc/ca-certificates.conf"), "w") as handle:
        handle.write("".join(line + "\n" for line in conf_lines))
    # hard links: no copy, and nothing in the device points outside it
    shutil.copytree(shared, os.path.join(device, "usr/share/ca-certificates"), symlinks=True, copy_function=os.link)


def run_tool(device):
    """The same invocation ca_trust uses for another root: relative certificate folders, no hooks."""
    certs = os.path.join(device, "etc/ssl/certs")
    subprocess.run([
        "update-ca-certificates", "--fresh",
        "--certsconf", os.path.join(device, "etc/ca-certificates.conf"),
        "--certsdir", os.path.relpath(os.path.join(device, "usr/share/ca-certificates"), certs),
        "--localcertsdir", os.path.relpath(os.path.join(device, "usr/local/share/ca-certificates"), certs),
        "--etccertsdir", certs,
        "--hooksdir", os.path.join(device, "nonexistent-hooks"),
    ], check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def copy_certs(template, device):
    """Copies the built /etc/ssl/certs: links as links, the bundle as a hard link (the tool replaces it by
    rename, so devices never share a change)."""
    source = os.path.join(template, "etc/ssl/certs")
    target = os.path.join(device, "etc/ssl/certs")
    for entry in os.scandir(source):
        if entry.is_symlink():
            os.symlink(os.readlink(entry.path), os.path.join(target, entry.name))
        else:
            os.link(entry.path, os.path.join(target, entry.name))


INVENTORY_HEADER = "# Simulated devices: each host is a root filesystem on this machine.\n"


def replaceable(out):
    """--out is replaced only when it is missing, empty, or a previous set of simulated devices: never a folder
    that holds anything else."""
    if not os.path.lexists(out):
        return True
    if os.path.islink(out) or not os.path.isdir(out):
        return False
    if not os.listdir(out):
        return True
    try:
        with open(os.path.join(out, "inventory.yml")) as handle:
            return handle.readline() == INVENTORY_HEADER
    except OSError:
        return False


def create(out, count, missing, source="/usr/share/ca-certificates", conf="/etc/ca-certificates.conf", weak_tls=0):
    if os.path.lexists(out):
        shutil.rmtree(out)
    shared = os.path.join(out, "shared", "ca-certificates")
    shutil.copytree(source, shared, symlinks=True)
    with open(conf) as handle:
        full = [line.strip() for line in handle if line.strip() and not line.startswith("#")]
    full = [line.lstrip("!") for line in full]
    trimmed = ["!" + line if line in DPS_ROOTS else line for line in full]
    templates = {}
    for label, lines in (("with_roots", full), ("missing_roots", trimmed)):
        templates[label] = (os.path.join(out, "shared", "template-" + label), lines)
        build_store(templates[label][0], shared, lines)
        run_tool(templates[label][0])
    hosts = []
    for number in range(1, count + 1):
        name = "device-%03d" % number
        device = os.path.join(out, name)
        template, lines = templates["missing_roots" if number <= missing else "with_roots"]
        build_store(device, shared, lines)
        copy_certs(template, device)
        if number > count - weak_tls:
            with open(os.path.join(device, "etc/ssl/openssl.cnf"), "w") as handle:
                handle.write(WEAK_OPENSSL_CNF)
        hosts.append((name, device))
    inventory = os.path.join(out, "inventory.yml")
    with open(inventory, "w") as handle:
        handle.write(INVENTORY_HEADER)
        handle.write("simulated_devices:\n  vars:\n    ansible_connection: local\n"
                     "    ansible_python_interpreter: \"{{ ansible_playbook_python }}\"\n  hosts:\n")
        for name, device in hosts:
            handle.write("    %s:\n      root_ca_trust_root: %s\n" % (name, device))
    return inventory


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m simdevices", description=__doc__.split("\n\n", maxsplit=1)[0])
    parser.add_argument("--count", type=int, default=5, help="how many devices (default 5)")
    parser.add_argument("--missing-roots", type=int, default=None,
                        help="how many of them lack the DPS roots (default: about half)")
    parser.add_argument("--weak-tls", type=int, default=0,
                        help="how many of them (the last ones) offer only suites outside the DPS policy (default 0)")
    parser.add_argument("--out", required=True,
                        help="folder to create (an empty folder or a previous set of simulated devices is replaced)")
    args = parser.parse_args(argv)
    missing = args.count // 2 + args.count % 2 if args.missing_roots is None else args.missing_roots
    if not 0 <= missing <= args.count or args.count < 1 or not 0 <= args.weak_tls <= args.count:
        parser.error("need 1 <= --count, 0 <= --missing-roots <= --count and 0 <= --weak-tls <= --count")
    if not shutil.which("update-ca-certificates"):
        parser.error("needs Debian's update-ca-certificates (apt-get install ca-certificates)")
    if not replaceable(os.path.abspath(args.out)):
        parser.error("--out %s holds something other than simulated devices: give a new or empty folder" % args.out)
    started = time.monotonic()
    inventory = create(os.path.abspath(args.out), args.count, missing, weak_tls=args.weak_tls)
    print("%d devices (%d missing the DPS roots, %d offering no DPS suite) in %.2fs; inventory: %s"
          % (args.count, missing, args.weak_tls, time.monotonic() - started, inventory))
    return 0


if __name__ == "__main__":
    sys.exit(main())
