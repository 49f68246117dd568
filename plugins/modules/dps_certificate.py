#!/usr/bin/python
# Copyright: iotops.dps_tls contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r'''
module: dps_certificate
short_description: Upload a CA certificate to an Azure IoT Hub Device Provisioning Service and prove possession
version_added: 0.1.0
author: IoT Ops (@iotops)
description:
  - Keeps a CA certificate on a DPS instance, for X.509 enrollment groups whose devices authenticate with mutual TLS.
  - With O(verified=true) and the CA's private key, runs the whole proof of possession in one task - it asks DPS for
    a verification code, signs a short-lived certificate whose subject CN is that code with the CA's key, and sends
    it back, so the certificate ends verified. The private key never leaves the host that runs the task.
  - For keys that never leave an HSM, a two-step flow - without a key, the task returns RV(verification_code) (each
    such run asks for a fresh code, which replaces the previous one); sign a certificate with that code as subject
    CN, then run the task again with it as O(verification_certificate).
  - Before any call to Azure it checks that the PEM holds exactly one certificate and no private key (a key in
    O(certificate), O(certificate_path) or O(verification_certificate) fails the task naming the option, and its
    text is masked in every output), that it is a CA (basicConstraints
    CA:TRUE) and not expired (a warning within 30 days of expiry), that the key matches it and that the passphrase
    opens the key.
  - Idempotent by thumbprint and verification state. Every write sends the etag just read (C(If-Match)); when DPS
    answers 412 because someone else changed the certificate, the task reads it again and retries once.
options:
  name:
    description:
      - The name of the certificate on the DPS instance, 1-256 letters, digits, C(.), C(-) and C(_), not starting or
        ending with C(.). It is part of the request path, so C(.), C(..) and anything with C(/) are refused.
    type: str
    required: true
  dps_name:
    description: The name of the DPS instance.
    type: str
    required: true
  resource_group:
    description: The resource group of the DPS instance.
    type: str
    required: true
  certificate:
    description:
      - The CA certificate in PEM form (exactly one certificate). Required with O(state=present), unless
        O(certificate_path) is given.
    type: str
  certificate_path:
    description: A file that holds the CA certificate in PEM form, on the host that runs the task.
    type: path
  verified:
    description:
      - V(true) makes the certificate end verified - by proof of possession with O(private_key) or
        O(private_key_path), with O(verification_certificate), or, without either, by returning
        RV(verification_code) for the two-step flow.
      - V(false) only uploads. It never turns a verified certificate back to unverified.
    type: bool
    default: false
  private_key:
    description: The CA's private key in PEM form, to sign the verification certificate. A secret.
    type: str
  private_key_path:
    description: A file that holds the CA's private key in PEM form.
    type: path
  private_key_passphrase:
    description: The passphrase of an encrypted private key. A secret.
    type: str
  verification_certificate:
    description:
      - The second step of the two-step flow - a PEM certificate whose subject CN is the RV(verification_code) of the
        previous run, signed by the CA's key. Ignored when the certificate is already verified.
      - The certificate must already be uploaded by that previous run; when it is not on the instance yet (or the
        task would replace it), the task fails before any write and says to run without O(verification_certificate)
        first.
    type: str
  state:
    description: V(present) uploads (and verifies); V(absent) deletes the certificate.
    type: str
    default: present
    choices: [present, absent]
extends_documentation_fragment:
  - iotops.dps_tls.azure
  - iotops.dps_tls.attributes
  - iotops.dps_tls.attributes.azure_api
requirements:
  - azure-mgmt-iothubprovisioningservices
  - azure-identity
  - cryptography
seealso:
  - module: iotops.dps_tls.dps_certificate_info
  - module: iotops.dps_tls.dps_instance
attributes:
  check_mode:
    details:
      - Reads, decides exactly as a real run, and writes nothing.
  diff_mode:
    details:
      - Shows the certificate's name, subject, thumbprint, SHA-256, expiry and verification state before and after.
'''

EXAMPLES = r'''
- name: Upload the fleet CA and prove possession in one step
  iotops.dps_tls.dps_certificate:
    name: fleet-ca
    dps_name: fleet-dps-weu
    resource_group: iot-fleet
    certificate_path: pki/fleet-ca.pem
    private_key_path: pki/fleet-ca.key
    private_key_passphrase: "{{ vault_fleet_ca_passphrase }}"
    verified: true

- name: HSM-held key, step 1 - upload and get a verification code
  iotops.dps_tls.dps_certificate:
    name: hsm-ca
    dps_name: fleet-dps-weu
    resource_group: iot-fleet
    certificate_path: pki/hsm-ca.pem
    verified: true
  register: hsm_ca

- name: HSM-held key, step 2 - send the certificate the HSM signed with CN = the code
  iotops.dps_tls.dps_certificate:
    name: hsm-ca
    dps_name: fleet-dps-weu
    resource_group: iot-fleet
    certificate_path: pki/hsm-ca.pem
    verified: true
    verification_certificate: "{{ lookup('ansible.builtin.file', 'pki/verification.pem') }}"

- name: Remove a retired CA
  iotops.dps_tls.dps_certificate:
    name: old-ca
    dps_name: fleet-dps-weu
    resource_group: iot-fleet
    state: absent
'''

RETURN = r'''
certificate:
  description: The certificate as DPS holds it after the task (empty after O(state=absent)).
  returned: always
  type: dict
  contains:
    name:
      description: The certificate's name on the instance.
      type: str
    subject:
      description: The certificate's subject.
      type: str
    thumbprint:
      description:
        - SHA-1 fingerprint of the certificate (how DPS identifies it), colon-separated upper-case hex like every
          fingerprint the collection returns.
        - Azure CLI and the portal show it without colons; compare with C(thumbprint | replace(':', '')).
      type: str
    sha256:
      description: SHA-256 fingerprint of the certificate, colon-separated upper-case hex.
      type: str
    expiry:
      description: When the certificate expires (ISO 8601, UTC).
      type: str
    is_verified:
      description: Whether DPS accepts the certificate for X.509 enrollments (possession proven).
      type: bool
    etag:
      description: The certificate's etag on DPS; null in check mode for a certificate not uploaded yet.
      type: str
    created:
      description: When the certificate was uploaded (ISO 8601, UTC), as DPS reports it.
      type: str
      returned: when DPS reports it
    updated:
      description: When the certificate last changed on DPS (ISO 8601, UTC), as DPS reports it.
      type: str
      returned: when DPS reports it
    verification_code:
      description: The code to put in the verification certificate's subject CN (two-step flow, while pending).
      type: str
      returned: when a code was issued
  sample:
    name: fleet-ca
    subject: CN=Fleet Root CA,O=Contoso
    thumbprint: "9F:3C:1A:0E:4B:5D:6C:7F:80:91:A2:B3:C4:D5:E6:F7:08:19:2A:3B"
    sha256: "0B:8E:31:C0:D9:F2:A6:B4:E8:C7:D5:F3:A1:B9:E7:C5:D3:F1:A9:B7:E5:C3:D1:F9:A7:B5:E3:C1:D9:F7:A5:B3"
    expiry: "2036-11-29T05:00:00+00:00"
    is_verified: true
    etag: AAAAAAFD6M4=
verification_code:
  description: The code DPS issued for the two-step flow; sign a certificate with it as subject CN.
  returned: when a code was issued
  type: str
  sample: 8A2F6E0C1D3B5A7948E6F0C2A4B6D8E0F1A3C5E7092B4D6F
steps:
  description: What the task did (or would do in check mode), in order - V(upload), V(prove), V(code), V(verify), V(delete).
  returned: always
  type: list
  elements: str
  sample: [upload, prove]
'''

from ansible_collections.iotops.dps_tls.plugins.module_utils._azure.module import AzureModule
from ansible_collections.iotops.dps_tls.plugins.module_utils._dps import certificate


def manage_certificate(azure):
    desired = certificate.DesiredCertificate(azure.params)
    azure.credential_plan()
    api = certificate.DpsCertificates(client=azure.dps_client(), azure_errors=azure.azure_errors,
                                      resource_group=desired.resource_group, dps_name=desired.dps_name,
                                      waiter=azure.waiter())
    return certificate.ensure_certificate(api, desired, check_mode=azure.check_mode, diff=azure.diff)


def main():
    azure = AzureModule(certificate.DPS_CERTIFICATE_ARGUMENT_SPEC, supports_check_mode=True,
                        mutually_exclusive=certificate.MUTUALLY_EXCLUSIVE, required_if=certificate.REQUIRED_IF)
    azure.run(manage_certificate)


if __name__ == '__main__':
    main()
