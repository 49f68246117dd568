#!/usr/bin/python
# Copyright: iotops.dps_tls contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: tls_readiness
short_description: Audit whether a device can meet the Azure IoT DPS TLS policy, before the minimum TLS version is fixed
version_added: 0.1.0
author: IoT Ops (@iotops)
description:
  - Runs on a device (or on any host, against an offline image of one with O(root)) and answers the questions to ask
    before a DPS instance gets a C(minTlsVersion) that can never be changed again.
  - "B(TLS stack): the TLS library and its version, whether it can do TLS 1.2, and which of the 12 suites DPS accepts
    it offers. OpenSSL-based apps get their defaults from the system OpenSSL configuration under O(root)
    (C(system_default) section: C(CipherString), C(MinProtocol), C(MaxProtocol)), so that file decides what the
    device offers when an app does not choose. Its C(.include) directives are followed (RHEL and Fedora crypto
    policies are included that way), absolute paths and links staying inside O(root); RV(ansible_facts.dps_tls_readiness.offerable_suites) also says which
    suites the library could offer if the app asked."
  - "B(Roots): whether each builtin root is in the system trust bundle, by SHA-256 fingerprint, found the way
    M(iotops.dps_tls.ca_trust) finds it."
  - "B(SDKs): Azure IoT device SDK versions against the first releases that do TLS 1.2 with DPS: Python
    C(azure-iot-device) 2.0.0 (site-packages of the image and of O(python_paths)), Node.js C(azure-iot-device) 1.12.2
    (global C(node_modules) and O(app_paths)), Java C(iot-device-client) 1.19.0 and .NET
    C(Microsoft.Azure.Devices.Client) 1.21.4 (in O(app_paths)). The C SDK is compiled into its app and cannot be
    found this way."
  - "B(Pinning): PEM certificates in O(pinning_paths) that are not builtin roots. A pinned leaf or intermediate
    blocks (it breaks at the next DPS certificate rotation); another pinned root is a warning."
  - "B(Handshake): with O(endpoint), one real handshake with the device's own defaults, verified against its
    trust store (or O(ca_file))."
  - The module only reads. It never reports a change.
  - Devices without Python cannot run it. Audit their image with O(root) from a host that has Python, and prove
    their own TLS stack with a handshake from the device app against the DPS endpoint.
options:
  root:
    description:
      - An alternative root filesystem to audit (a device image, a chroot, a container root filesystem).
      - The TLS library is then this host's; its configuration, trust store, SDKs and pinned files are the image's.
      - Paths are resolved as the image sees them, as under C(chroot), so an absolute link inside the image leads into
        the image, never to this host's files.
    type: path
    default: /
  family:
    description:
      - The OS family of the trust store. V(auto) reads C(os-release) under O(root), then the trust-store layout.
      - When V(auto) cannot tell the family of another O(root), the task fails naming O(family) before anything is
        audited (set it explicitly); on the running system the audit falls back to Python's default bundle.
    type: str
    choices: [auto, debian, redhat, suse, alpine, arch]
    default: auto
  openssl_config:
    description:
      - The device's OpenSSL configuration file, as a path inside O(root).
      - By default C(OPENSSL_CONF) (on the running system), then C(/etc/ssl/openssl.cnf), C(/usr/lib/ssl/openssl.cnf),
        C(/etc/pki/tls/openssl.cnf) and C(/usr/local/ssl/openssl.cnf).
    type: path
  required_roots:
    description:
      - Builtin roots the device must trust.
    type: list
    elements: str
    choices: [digicert_global_root_g2, microsoft_rsa_root_ca_2017, digicert_global_root_g3, microsoft_ecc_root_ca_2017]
    default: [digicert_global_root_g2, microsoft_rsa_root_ca_2017]
  python_paths:
    description:
      - More Python environments to search for C(azure-iot-device), inside O(root) (a virtualenv or a site-packages
        folder). The image's usual site-packages folders are always searched, and on the running system the
        module's own Python path too.
    type: list
    elements: path
    default: []
  app_paths:
    description:
      - Folders of device apps, inside O(root), searched for Node.js, Java and .NET SDKs.
    type: list
    elements: path
    default: []
  pinning_paths:
    description:
      - Files or folders of app configuration, inside O(root), in which to look for pinned PEM certificates.
      - A file named here must be a regular file of at most 1 MiB, or the task fails naming this option. In a folder,
        FIFOs, devices and larger files are passed over.
    type: list
    elements: path
    default: []
  endpoint:
    description:
      - A DPS (or emulator) host to make one handshake with, using the device's own TLS defaults.
    type: str
  port:
    description:
      - The port of O(endpoint). DPS devices use 8883 (MQTT), 5671 (AMQP) or 443.
    type: int
    default: 8883
  server_name:
    description:
      - The name to send as SNI and to check in the certificate. Defaults to O(endpoint).
    type: str
  ca_file:
    description:
      - Verify the endpoint against this PEM file instead of the device's trust store (an emulator's own CA).
      - A file without a readable PEM certificate, or one that also holds a private key, fails the task naming
        O(ca_file), before the device is audited.
    type: path
  timeout:
    description:
      - Seconds to wait for the handshake.
    type: float
    default: 10
seealso:
  - module: iotops.dps_tls.ca_trust
  - module: iotops.dps_tls.tls_probe
attributes:
  check_mode:
    details:
      - The module only reads; check mode runs the same audit.
  platform:
    details:
      - Linux devices and images. Windows devices are audited with M(iotops.dps_tls.tls_probe) from their apps.
extends_documentation_fragment:
  - iotops.dps_tls.attributes.info_module
  - iotops.dps_tls.attributes.posix
"""

EXAMPLES = r"""
- name: Can this device meet the DPS TLS policy?
  iotops.dps_tls.tls_readiness:
    app_paths: [/opt/telemetry-agent]
    pinning_paths: [/etc/telemetry-agent]

- name: Audit an offline device image, with a live handshake from this host's view of the image
  iotops.dps_tls.tls_readiness:
    root: /srv/images/gateway-2026.10
    endpoint: global.azure-devices-provisioning.net

- name: Stop when the device is not ready
  ansible.builtin.assert:
    that: ansible_facts.dps_tls_readiness.ready
    fail_msg: "{{ ansible_facts.dps_tls_readiness.blockers | map(attribute='message') | join('; ') }}"
"""

RETURN = r"""
ansible_facts:
  description: The facts the audit sets.
  returned: success
  type: dict
  contains:
    dps_tls_readiness:
      description: What the audit found.
      returned: success
      type: dict
      contains:
        ready:
          description: True when nothing blocks the device.
          type: bool
          sample: false
        blockers:
          description: Why the device is not ready, one entry per failed check, in plain words.
          type: list
          elements: dict
          sample: [{"check": "roots", "message": "does not trust digicert_global_root_g2 (trust store /etc/ssl/certs/ca-certificates.crt)"}]
        checks:
          description:
            - Every check with its V(passed), V(failed) or V(warning) status, the report's test cases.
            - Checks are V(tls12), V(suites), V(roots), V(sdks), V(pinning) and, with O(endpoint), V(handshake).
          type: list
          elements: dict
          sample: [{"name": "tls12", "status": "passed", "message": "OpenSSL 3.0.19 27 Jan 2026 can do TLS 1.2"}]
        tls_stack:
          description: The TLS library, its version, the OpenSSL configuration read and what it sets, and other TLS
            libraries found in the image.
          type: dict
          sample: {"library": "OpenSSL", "version": "OpenSSL 3.0.19 27 Jan 2026", "openssl_config": "/etc/ssl/openssl.cnf",
                   "cipher_string": null, "cipher_string_valid": true, "min_protocol": null, "max_protocol": null,
                   "python_ssl": true, "other_libraries": []}
        tls12_capable:
          description: The library does TLS 1.2 and the configuration allows it.
          type: bool
        offerable_suites:
          description: The DPS policy suites the library can offer; C(default) says whether apps get it by default.
          type: list
          elements: dict
          sample: [{"iana_name": "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384", "openssl_name": "ECDHE-RSA-AES256-GCM-SHA384",
                    "code": "0xC030", "classification": "recommended", "default": true}]
        default_suites:
          description: IANA names of the policy suites offered by default.
          type: list
          elements: str
        recommended_suite_available:
          description: One of the 4 recommended suites is offered by default.
          type: bool
        trust_store:
          description: The bundle the roots were looked for in.
          type: str
          sample: /etc/ssl/certs/ca-certificates.crt
        roots:
          description: Builtin root name -> trusted by the system store.
          type: dict
          sample: {"digicert_global_root_g2": true, "microsoft_rsa_root_ca_2017": true,
                   "digicert_global_root_g3": true, "microsoft_ecc_root_ca_2017": false}
        sdks:
          description: Azure IoT device SDKs found, each with C(name), C(language), C(version), C(minimum), C(ok) and
            C(path).
          type: list
          elements: dict
          sample: [{"name": "azure-iot-device", "language": "python", "version": "1.4.0", "minimum": "2.0.0",
                    "ok": false, "path": "/usr/lib/python3/dist-packages/azure_iot_device-1.4.0.dist-info"}]
        pinning_findings:
          description: Pinned certificates that are not builtin roots, each with C(kind) (V(leaf), V(intermediate),
            V(other_root)), C(path), C(subject), C(sha256) (colon-separated upper-case hex), C(blocking) and
            C(message).
          type: list
          elements: dict
        handshake:
          description: The handshake with O(endpoint) (C(ok), C(error), C(protocol), C(cipher_suite),
            C(classification), C(chain_verified), C(trusted_root)).
          returned: when O(endpoint) is given
          type: dict
        root:
          description: The root filesystem audited.
          type: str
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.iotops.dps_tls.plugins.module_utils._common.module import run_module
from ansible_collections.iotops.dps_tls.plugins.module_utils._readiness.audit import audit_device

ROOTS = ["digicert_global_root_g2", "microsoft_rsa_root_ca_2017", "digicert_global_root_g3",
         "microsoft_ecc_root_ca_2017"]


def main():
    module = AnsibleModule(
        argument_spec=dict(
            root=dict(type="path", default="/"),
            family=dict(type="str", default="auto", choices=["auto", "debian", "redhat", "suse", "alpine", "arch"]),
            openssl_config=dict(type="path"),
            required_roots=dict(type="list", elements="str", choices=ROOTS, default=ROOTS[:2]),
            python_paths=dict(type="list", elements="path", default=[]),
            app_paths=dict(type="list", elements="path", default=[]),
            pinning_paths=dict(type="list", elements="path", default=[]),
            endpoint=dict(type="str"),
            port=dict(type="int", default=8883),
            server_name=dict(type="str"),
            ca_file=dict(type="path"),
            timeout=dict(type="float", default=10.0),
        ),
        supports_check_mode=True,
    )
    params = module.params

    def action():
        facts = audit_device(
            root=params["root"], family=params["family"], openssl_config=params["openssl_config"],
            required_roots=params["required_roots"], python_paths=params["python_paths"],
            app_paths=params["app_paths"], pinning_paths=params["pinning_paths"], endpoint=params["endpoint"],
            port=params["port"], server_name=params["server_name"], ca_file=params["ca_file"],
            timeout=params["timeout"])
        return {"changed": False, "ansible_facts": {"dps_tls_readiness": facts}}

    run_module(module, action)


if __name__ == "__main__":
    main()
