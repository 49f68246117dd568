#!/usr/bin/python
# Copyright: iotops.dps_tls contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: tls_probe
short_description: Handshake with a TLS endpoint and judge it against the DPS TLS policy
version_added: 0.1.0
author: IoT Ops (@iotops)
description:
  - Makes real TLS handshakes with an endpoint and reports which protocols (TLS 1.0 to 1.3), cipher suites and
    ECDHE groups it accepts, its certificate chain, whether the chain verifies and which root it ends in.
  - Judges all of that against a TLS policy, by default the one Azure IoT Hub Device Provisioning Service (DPS)
    enforces (TLS 1.2 only, an RSA server certificate, 12 cipher suites). RV(compliant) is true when no finding
    has severity V(error); RV(findings) carry stable codes, listed in the collection's C(docs/tls_policy.md).
  - Every protocol and every policy suite gets its own handshake, plus a few suites outside the policy as
    controls. A suite or protocol counts as accepted when the server answers it with a ServerHello, so a server
    that then asks for a client certificate is still measured correctly.
  - Tells what this host's TLS stack cannot offer (listed in RV(not_offered_locally), never counted as refused by
    the server) apart from what the server refused.
  - Handshakes run in parallel, at most O(concurrency) at a time, each bounded by O(timeout). A first handshake
    checks that the endpoint answers at all, so a server that accepts connections and never answers fails the
    task after one O(timeout).
  - Nothing is changed anywhere; the module only connects.
  - Names, expiry and key types of certificates need the Python package C(cryptography). Without it the chain
    lists only SHA-256 fingerprints, a V(certificate_not_inspected) warning is added, and the RSA requirement is
    judged from the suites the server accepts.
options:
  host:
    description:
      - Host name or IP address of the endpoint, for example the DPS device endpoint
        V(global.azure-devices-provisioning.net).
      - The name is resolved once; every handshake goes to the same address.
      - International names are taken (IDNA). A name with an empty label (two dots in a row, a leading dot), a
        space, a scheme, a port or a path is refused before any connection; give the port in O(port).
    type: str
    required: true
  port:
    description:
      - TCP port. DPS listens on V(8883) (MQTT), V(5671) (AMQP) and V(443) (HTTPS and WebSockets).
    type: int
    default: 8883
  server_name:
    description:
      - The name sent as SNI and checked against the server certificate.
      - Defaults to O(host). No SNI is sent when that is an IP address.
    type: str
  policy:
    description:
      - The TLS policy to judge the endpoint against.
    type: str
    choices: [dps]
    default: dps
  ca_file:
    description:
      - PEM file with the roots to verify the chain against, for example a test root or the emulator's root.
      - Without it the system trust store of the host running the module is used (OpenSSL's default paths,
        which honour E(SSL_CERT_FILE) and E(SSL_CERT_DIR)).
      - A file that also holds a private key is refused, naming this option.
    type: path
  client_cert:
    description:
      - PEM client certificate (optionally followed by its chain) for endpoints that require mutual TLS, as a
        device with an X.509 enrollment presents it.
    type: path
  client_key:
    description:
      - PEM private key of O(client_cert), when it is not in the same file.
    type: path
  client_key_passphrase:
    description:
      - Passphrase of an encrypted O(client_key). Never logged or returned.
    type: str
  expected_roots:
    description:
      - Roots the chain must end in. Each item is a builtin root name (V(digicert_global_root_g2),
        V(microsoft_rsa_root_ca_2017), V(digicert_global_root_g3), V(microsoft_ecc_root_ca_2017)) or a
        SHA-256 fingerprint (64 hex digits, with or without colons, in either case).
      - When the chain verifies but ends in another root, the finding V(unexpected_root) is an error.
      - When omitted, any root the trust store trusts is fine. For a non-Azure endpoint such as the emulator, give
        its root in O(ca_file) and, to pin it, its fingerprint here.
    type: list
    elements: str
  timeout:
    description:
      - Seconds each handshake may take, connection included (more than 0, at most 300).
    type: float
    default: 10
  concurrency:
    description:
      - How many handshakes run at the same time (1 to 64). The default lets every handshake of a DPS audit run at
        once. Use V(1) for endpoints that limit connections.
    type: int
    default: 32
notes:
  - Python's C(ssl) cannot offer TLS 1.3 suites one at a time, so TLS 1.3 is probed as a protocol and
    RV(protocols[].cipher_suite) names the suite the server chose.
  - The handshakes come from the TLS stack of the host running the module (Python's OpenSSL). A device
    application linked with another TLS library may offer different suites; run the module on the device or use
    iotops.dps_tls.tls_readiness there to prove what the device itself can do.
  - The answers agree with C(nmap --script ssl-enum-ciphers) and C(openssl s_client) on the same server; the
    collection's integration tests check this.
seealso:
  - name: Azure IoT Hub Device Provisioning Service TLS support
    description: The policy this module judges against.
    link: https://learn.microsoft.com/azure/iot-dps/tls-support
  - module: iotops.dps_tls.ca_trust
attributes:
  check_mode:
    details:
      - The module changes nothing, so check mode probes exactly as a normal run.
extends_documentation_fragment:
  - iotops.dps_tls.attributes.info_module
  - iotops.dps_tls.attributes.posix
"""

EXAMPLES = r"""
- name: Check the DPS device endpoint on the MQTT port
  iotops.dps_tls.tls_probe:
    host: global.azure-devices-provisioning.net
    expected_roots:
      - digicert_global_root_g2
      - microsoft_rsa_root_ca_2017
  register: dps_tls

- name: Stop unless it meets the DPS policy
  ansible.builtin.assert:
    that: dps_tls.compliant
    fail_msg: "{{ dps_tls.findings | map(attribute='message') | join('; ') }}"

- name: Probe a test gateway that requires a device certificate, trusting its own test root
  iotops.dps_tls.tls_probe:
    host: 10.0.0.5
    port: 8883
    server_name: gateway.example.test
    ca_file: /etc/iot/test-root.pem
    client_cert: /etc/iot/device.pem
    client_key: /etc/iot/device.key
    client_key_passphrase: "{{ device_key_passphrase }}"
    timeout: 5
  register: gateway_tls
"""

RETURN = r"""
host:
  description: The O(host) probed.
  returned: always
  type: str
  sample: global.azure-devices-provisioning.net
port:
  description: The O(port) probed.
  returned: always
  type: int
  sample: 8883
address:
  description: The IP address every handshake went to.
  returned: always
  type: str
  sample: 20.49.109.132
server_name:
  description: The name sent as SNI (when not an IP address) and checked against the certificate.
  returned: always
  type: str
  sample: global.azure-devices-provisioning.net
policy:
  description: The policy the endpoint was judged against.
  returned: always
  type: str
  sample: dps
accepted_protocols:
  description: Protocols the endpoint accepts, among V(TLSv1), V(TLSv1.1), V(TLSv1.2) and V(TLSv1.3).
  returned: always
  type: list
  elements: str
  sample: [TLSv1.2]
rejected_protocols:
  description: Protocols the endpoint refused. A protocol this host cannot offer is in neither list.
  returned: always
  type: list
  elements: str
  sample: [TLSv1, TLSv1.1, TLSv1.3]
protocols:
  description: One entry per protocol, with how its handshake ended.
  returned: always
  type: list
  elements: dict
  contains:
    name:
      description: V(TLSv1), V(TLSv1.1), V(TLSv1.2) or V(TLSv1.3).
      type: str
    accepted:
      description: Whether the server answered this protocol with a ServerHello.
      type: bool
    outcome:
      description: V(accepted), V(rejected), V(not_offered) (this host cannot offer it), V(timeout) or
        V(connect_failed).
      type: str
    reason:
      description: The server's alert or the error, when not accepted.
      type: str
    cipher_suite:
      description: IANA name of the suite the server chose with this protocol.
      type: str
  sample:
    - {name: TLSv1.2, accepted: true, outcome: accepted, reason: null,
       cipher_suite: TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384}
cipher_suites:
  description: The 12 policy suites and the control suites, each offered alone with TLS 1.0 to 1.2.
  returned: always
  type: list
  elements: dict
  contains:
    iana_name:
      description: IANA name of the suite.
      type: str
    openssl_name:
      description: OpenSSL name of the suite.
      type: str
    code:
      description: Code point, as V(0xC030).
      type: str
    accepted:
      description: Whether the server chose this suite when it was the only one offered.
      type: bool
    classification:
      description: V(recommended) or V(legacy) in the policy, or V(not_in_policy).
      type: str
    outcome:
      description: As in RV(protocols[].outcome).
      type: str
    reason:
      description: The server's alert or the error, when not accepted.
      type: str
    protocol:
      description: The protocol it was accepted with.
      type: str
  sample:
    - {iana_name: TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384, openssl_name: ECDHE-RSA-AES256-GCM-SHA384,
       code: "0xC030", accepted: true, classification: recommended, outcome: accepted, reason: null,
       protocol: TLSv1.2}
groups:
  description:
    - The ECDHE groups of the policy (P-256, P-384), each offered alone with the ECDHE policy suites the endpoint
      accepts. Empty when it accepts none.
  returned: always
  type: list
  elements: dict
  contains:
    name:
      description: IANA name of the group, V(secp256r1) or V(secp384r1).
      type: str
    common_name:
      description: V(P-256) or V(P-384).
      type: str
    accepted:
      description: Whether a handshake with only this group succeeded.
      type: bool
    outcome:
      description: As in RV(protocols[].outcome).
      type: str
    reason:
      description: The server's alert or the error, when not accepted.
      type: str
negotiated:
  description: What a client offering everything this host can gets from the endpoint.
  returned: always
  type: dict
  contains:
    protocol:
      description: Protocol chosen by the server.
      type: str
    cipher_suite:
      description: IANA name of the suite chosen by the server.
      type: str
    openssl_name:
      description: OpenSSL name of that suite.
      type: str
    group:
      description: Key exchange group chosen by the server, if any.
      type: str
  sample: {protocol: TLSv1.2, cipher_suite: TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
           openssl_name: ECDHE-RSA-AES256-GCM-SHA384, group: secp256r1}
not_offered_locally:
  description: Protocols and suites this host's TLS stack cannot offer, so they were not tested.
  returned: always
  type: list
  elements: str
  sample: [TLS_RSA_WITH_3DES_EDE_CBC_SHA]
certificate_chain:
  description:
    - The verified chain from the server certificate to the trusted root when it verifies, else the chain as the
      server sent it. Taken from a handshake made like a DPS device (TLS 1.2, the policy suites) when the endpoint
      accepts one.
  returned: always
  type: list
  elements: dict
  contains:
    subject:
      description: Subject, RFC 4514.
      type: str
    issuer:
      description: Issuer, RFC 4514.
      type: str
    sha256:
      description: SHA-256 fingerprint of the DER certificate, colon-separated upper-case hex.
      type: str
    not_before:
      description: Start of validity, ISO 8601 UTC.
      type: str
    not_after:
      description: End of validity, ISO 8601 UTC.
      type: str
    key_type:
      description: V(RSA), V(EC), V(Ed25519), V(Ed448) or V(DSA).
      type: str
    key_bits:
      description: Key size in bits.
      type: int
    key_curve:
      description: Curve of an V(EC) key, such as V(secp384r1).
      type: str
    subject_alt_names:
      description: DNS names and IP addresses the certificate is valid for.
      type: list
      elements: str
    builtin_root:
      description: The builtin root name when this is one of the roots the collection carries.
      type: str
    sent_by_server:
      description: False for a root that came from the trust store.
      type: bool
chain_verified:
  description: Whether the chain verifies against O(ca_file) or the system trust store.
  returned: always
  type: bool
chain_error:
  description: Why the chain does not verify.
  returned: always
  type: str
  sample: "unable to get local issuer certificate"
trust_store:
  description: What the chain was verified against.
  returned: always
  type: str
  sample: the system trust store
trusted_root:
  description: The root the verified chain ends in, by builtin root name when it is one, else by subject.
  returned: always
  type: str
  sample: digicert_global_root_g2
trusted_root_sha256:
  description: SHA-256 fingerprint of RV(trusted_root), colon-separated upper-case hex.
  returned: always
  type: str
hostname_verified:
  description: Whether the server certificate is valid for RV(server_name); null when the chain does not verify.
  returned: always
  type: bool
client_certificate_requested:
  description: Whether the server asked for a client certificate; null when it could not be seen (TLS 1.3).
  returned: always
  type: bool
compliant:
  description: True when no finding has severity V(error).
  returned: always
  type: bool
findings:
  description: What does not meet the policy, or could not be checked.
  returned: always
  type: list
  elements: dict
  contains:
    severity:
      description: V(error), V(warning) or V(info).
      type: str
    code:
      description: A stable code, such as V(protocol_not_allowed) or V(untrusted_root).
      type: str
    message:
      description: What exactly was seen.
      type: str
  sample:
    - {severity: error, code: protocol_not_allowed, message: "TLSv1 is accepted; the dps policy allows only TLSv1.2"}
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.iotops.dps_tls.plugins.module_utils._common.module import run_module
from ansible_collections.iotops.dps_tls.plugins.module_utils._tls.policy import POLICIES
from ansible_collections.iotops.dps_tls.plugins.module_utils._tls.probe import probe_endpoint


def main():
    module = AnsibleModule(
        argument_spec=dict(
            host=dict(type="str", required=True),
            port=dict(type="int", default=8883),
            server_name=dict(type="str"),
            policy=dict(type="str", choices=sorted(POLICIES), default="dps"),
            ca_file=dict(type="path"),
            client_cert=dict(type="path"),
            client_key=dict(type="path"),
            client_key_passphrase=dict(type="str", no_log=True),
            expected_roots=dict(type="list", elements="str"),
            timeout=dict(type="float", default=10),
            concurrency=dict(type="int", default=32),
        ),
        required_by={"client_key": "client_cert", "client_key_passphrase": "client_cert"},
        supports_check_mode=True,
    )
    run_module(module, lambda: probe_endpoint(**module.params))


if __name__ == "__main__":
    main()
