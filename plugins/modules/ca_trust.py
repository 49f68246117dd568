#!/usr/bin/python
# Copyright: iotops.dps_tls contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: ca_trust
short_description: Add or remove CA root certificates in a device's OS trust store, safely
version_added: 0.1.0
author: IoT Ops (@iotops)
description:
  - Makes the operating system trust store of a device trust the roots Azure IoT Hub Device Provisioning Service
    (DPS) chains to, or any other root you pin.
  - It first looks for each root in the system bundle by SHA-256 fingerprint and installs only what is missing
    (RV(anchors[].action=already_trusted) otherwise).
  - Every certificate is checked before anything is written. It must be exactly one PEM certificate that parses,
    a CA, self-signed, not expired, with a SHA-256 fingerprint equal to its pin. Otherwise the task fails and the
    store is left untouched.
  - Anchor files are written atomically with mode V(0644) (and their SELinux context). An exclusive lock covers
    writing, the update command and the check afterwards, so concurrent runs on one host cannot corrupt the bundle.
    The update command runs only when something changed.
  - After the update every requested root must be in the bundle, and the bundle must not have shrunk by more than
    the anchors removed. Otherwise the previous anchor files are restored, the store is rebuilt and the task fails
    with the tool's output.
  - A run killed midway leaves a usable store, by its bundle and by its hash links (what C(openssl -CApath) reads);
    the next run notices and rebuilds it. On Debian the tool never runs with C(--fresh), which empties the links
    folder before it rebuilds it; the links of a removed anchor are dropped one by one instead.
  - Anchors this module installs are named C(iotops-dps_tls-<name>), so O(state=absent) removes only those, never
    the distribution's.
  - The certificate checks use the Python package C(cryptography) when it is importable. Without it they use the
    C(openssl) command, which the Debian, SUSE and Alpine trust-store tools need anyway. A builtin root needs
    neither once its SHA-256 equals its pin, as its name and expiry travel with the pin.
options:
  certificates:
    description:
      - The roots to trust or to stop trusting.
    type: list
    elements: dict
    required: true
    suboptions:
      name:
        description:
          - A short name for the root. It names the anchor file (C(iotops-dps_tls-<name>.crt) on Debian).
          - 1 to 64 letters, digits, V(.), V(_) or V(-), starting with a letter or a digit.
        type: str
        required: true
      builtin:
        description:
          - One of the roots the collection carries, with its pinned fingerprint.
          - Give one of O(certificates[].builtin), O(certificates[].content) or O(certificates[].src). With
            O(state=absent) the name alone is enough.
        type: str
        choices: [digicert_global_root_g2, microsoft_rsa_root_ca_2017, digicert_global_root_g3, microsoft_ecc_root_ca_2017]
      content:
        description:
          - The root as PEM text. A private key in it fails the task naming this option; its text is masked in every
            output.
        type: str
      src:
        description:
          - Path of a PEM file on the managed host (not on the controller). A file that holds a private key is
            refused.
          - It must be a regular file of at most 1 MiB; a FIFO, a device or a larger file fails the task at once.
        type: path
      sha256:
        description:
          - The SHA-256 fingerprint of the certificate, as C(openssl x509 -fingerprint -sha256) prints it or as
            64 hex digits, in either case. Required with O(certificates[].content) and O(certificates[].src).
        type: str
  state:
    description:
      - V(present) makes the system trust each root; V(absent) removes the anchors this module installed.
    type: str
    choices: [present, absent]
    default: present
  root:
    description:
      - An alternative root filesystem to work on (a device image, a chroot, a container root filesystem).
      - Supported for the V(debian) family, through the path options of this host's C(update-ca-certificates).
        Links are made relative so they stay valid when the image boots. The image's update hooks are not run.
      - Paths are resolved as the image sees them, as under C(chroot), so an absolute link inside the image leads into
        the image, never to this host's store, and a link loop is refused. Nothing is read or written outside it.
      - A root that holds none of the family's trust-store folders is refused rather than given a new store.
    type: path
    default: /
  family:
    description:
      - The OS family of the trust store. V(auto) reads C(os-release) under O(root), then the trust-store layout.
      - V(debian) covers Debian, Ubuntu, Raspberry Pi OS and Yocto images with the Debian tool; V(redhat) covers RHEL,
        CentOS, Fedora, Amazon Linux, Rocky and Alma; V(suse), V(alpine) and V(arch) their namesakes.
    type: str
    choices: [auto, debian, redhat, suse, alpine, arch]
    default: auto
notes:
  - In check mode RV(anchors[].trusted) is a prediction; the actions and the changed status are exactly what a real
    run reports.
  - Only runs of this module take the lock. A package manager updating the trust store at the same time is not
    serialized with it, but the check afterwards still catches a damaged bundle.
seealso:
  - module: ansible.windows.win_certificate_store
    description: The Windows counterpart, which the C(iotops.dps_tls.root_ca_trust) role uses on Windows hosts.
attributes:
  diff_mode:
    details:
      - Shows the anchor files of this module before and after, by name.
extends_documentation_fragment:
  - iotops.dps_tls.attributes
  - iotops.dps_tls.attributes.posix
"""

EXAMPLES = r"""
- name: Trust the roots DPS chains to
  iotops.dps_tls.ca_trust:
    certificates:
      - name: digicert_global_root_g2
        builtin: digicert_global_root_g2
      - name: microsoft_rsa_root_ca_2017
        builtin: microsoft_rsa_root_ca_2017

- name: Trust our own root, pinned
  iotops.dps_tls.ca_trust:
    certificates:
      - name: contoso_root
        src: /opt/contoso/root.pem
        sha256: "5A:3B:...:9F"

- name: Install the roots into a Debian device image before flashing it
  iotops.dps_tls.ca_trust:
    root: /srv/images/gateway-rootfs
    certificates:
      - name: digicert_global_root_g2
        builtin: digicert_global_root_g2

- name: Remove our own root again
  iotops.dps_tls.ca_trust:
    state: absent
    certificates:
      - name: contoso_root
"""

RETURN = r"""
family:
  description: The OS family whose trust store was used.
  returned: always
  type: str
  sample: debian
bundle:
  description: The PEM bundle the family's tool builds (under O(root)).
  returned: always
  type: str
  sample: /etc/ssl/certs/ca-certificates.crt
anchors:
  description: One entry per requested certificate.
  returned: always
  type: list
  elements: dict
  contains:
    name:
      description: The name given in O(certificates[].name).
      type: str
      sample: digicert_global_root_g2
    sha256:
      description:
        - SHA-256 fingerprint of the certificate, colon-separated upper-case hex (the form of every fingerprint the
          collection returns).
        - Null when absent was asked with a name only and no anchor exists.
      type: str
      sample: "CB:3C:CB:B7:60:31:E5:E0:13:8F:8D:D3:9A:23:F9:DE:47:FF:C3:5E:43:C1:14:4C:EA:27:D4:6A:5A:B1:CB:5F"
    path:
      description: The anchor file of this module; null when there is none (already trusted, or removed/never there).
      type: str
      sample: /usr/local/share/ca-certificates/iotops-dps_tls-digicert_global_root_g2.crt
    trusted:
      description: Whether the bundle contains the certificate after the run.
      type: bool
      sample: true
    action:
      description: V(added), V(unchanged), V(removed), or V(already_trusted) when the system trusted it without an anchor of ours.
      type: str
      sample: already_trusted
update_output:
  description: What the update command printed, when it ran.
  returned: when the update command ran
  type: str
  sample: "Updating certificates in /etc/ssl/certs...\n1 added, 0 removed; done."
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.iotops.dps_tls.plugins.module_utils._common.module import run_module
from ansible_collections.iotops.dps_tls.plugins.module_utils._trust.store import ensure


def main():
    module = AnsibleModule(
        argument_spec=dict(
            certificates=dict(type="list", elements="dict", required=True, options=dict(
                name=dict(type="str", required=True),
                builtin=dict(type="str", choices=["digicert_global_root_g2", "microsoft_rsa_root_ca_2017",
                                                  "digicert_global_root_g3", "microsoft_ecc_root_ca_2017"]),
                content=dict(type="str"),
                src=dict(type="path"),
                sha256=dict(type="str"),
            ), mutually_exclusive=[("builtin", "content", "src")]),
            state=dict(type="str", choices=["present", "absent"], default="present"),
            root=dict(type="path", default="/"),
            family=dict(type="str", choices=["auto", "debian", "redhat", "suse", "alpine", "arch"], default="auto"),
        ),
        supports_check_mode=True,
    )
    p = module.params
    run_module(module, lambda: ensure(
        p["certificates"], p["state"], p["root"], p["family"], module.check_mode,
        run_command=module.run_command, get_bin_path=module.get_bin_path))


if __name__ == "__main__":
    main()
