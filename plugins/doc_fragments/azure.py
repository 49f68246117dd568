# Copyright: iotops.dps_tls contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Options shared by the Azure modules: authentication, cloud endpoints, API version."""

from __future__ import annotations


class ModuleDocFragment:

    DOCUMENTATION = r'''
options:
  auth_source:
    description:
      - Where the Azure credentials come from.
      - When not set, C(ANSIBLE_AZURE_AUTH_SOURCE) (the variable azure.azcollection reads), else V(auto).
      - V(auto) picks, without any network call, the first that applies - a service principal given in the task
        (O(client_id) with O(secret) or O(client_certificate_path)), a O(profile) given in the task, one given by C(AZURE_*) environment variables
        (a secret, a certificate or a workload identity token file C(AZURE_FEDERATED_TOKEN_FILE)), the credentials file
        C(~/.azure/credentials), a managed identity the host advertises (C(IDENTITY_ENDPOINT) or C(MSI_ENDPOINT)),
        then the Azure CLI when C(az) is on the E(PATH).
      - V(env) uses a service principal from the options or the C(AZURE_*) environment variables - a secret, a
        certificate, or a federated token file.
      - V(credential_file) reads the O(profile) section of C(~/.azure/credentials), the file azure.azcollection uses
        (keys C(subscription_id), C(client_id), C(secret), C(tenant)).
      - V(cli) asks the Azure CLI (the C(az) executable, already logged in) for tokens.
      - V(msi) uses the managed identity of the host; set O(client_id) for a user-assigned identity.
      - V(workload_identity) exchanges the token in the file named by C(AZURE_FEDERATED_TOKEN_FILE) (Kubernetes
        workload identity, GitHub or other OIDC federation) for an Azure token, with O(client_id) and O(tenant).
      - V(azure_pipelines) uses an Azure DevOps service connection with workload identity federation
        (azure-identity's C(AzurePipelinesCredential), which asks Azure DevOps for a fresh OIDC token for every new
        access token); needs O(client_id) and O(tenant) (else C(AZURESUBSCRIPTION_CLIENT_ID) and
        C(AZURESUBSCRIPTION_TENANT_ID), which C(AzureCLI@2) exports) and the environment variables
        C(AZURESUBSCRIPTION_SERVICE_CONNECTION_ID), C(SYSTEM_ACCESSTOKEN) and C(SYSTEM_OIDCREQUESTURI) (set by the agent).
    type: str
    choices: [auto, env, credential_file, cli, msi, workload_identity, azure_pipelines]
  subscription_id:
    description:
      - The Azure subscription that holds the DPS instances.
      - Defaults to the environment variable C(AZURE_SUBSCRIPTION_ID), or to the profile's C(subscription_id) with
        O(auth_source=credential_file).
    type: str
  tenant:
    description:
      - The Microsoft Entra tenant (directory) ID of the service principal.
      - Defaults to C(AZURE_TENANT_ID), then C(AZURE_TENANT).
    type: str
  client_id:
    description:
      - The application (client) ID of the service principal or user-assigned managed identity.
      - Defaults to C(AZURE_CLIENT_ID).
    type: str
  secret:
    description:
      - The client secret of the service principal.
      - Defaults to C(AZURE_CLIENT_SECRET), then C(AZURE_SECRET).
      - Mutually exclusive with O(client_certificate_path) at the same level - both in the task, or both in the
        environment, is refused rather than one of them silently chosen. One given in the task beats one from the
        environment.
    type: str
  client_certificate_path:
    description:
      - A PEM file with the service principal's certificate and private key, used instead of a secret.
      - Defaults to C(AZURE_CLIENT_CERTIFICATE_PATH).
      - Must be a regular file that holds a PEM certificate; anything else is refused before azure-identity reads it.
      - O(x509_certificate_path) is the name azure.azcollection uses; the C(~/.azure/credentials) file may also give
        C(x509_certificate_path).
    type: path
    aliases: [x509_certificate_path]
  client_certificate_password:
    description:
      - The password of the private key in O(client_certificate_path), when it is encrypted.
      - Defaults to C(AZURE_CLIENT_CERTIFICATE_PASSWORD), the variable azure-identity reads.
    type: str
  thumbprint:
    description:
      - The SHA-1 thumbprint (hex, colons allowed) of the certificate in O(client_certificate_path), as
        azure.azcollection takes it. Not needed to sign in; when given, a certificate with another thumbprint is
        refused before any request.
      - A C(~/.azure/credentials) profile may give C(thumbprint) too.
    type: str
  profile:
    description:
      - The section of C(~/.azure/credentials) to read with O(auth_source=credential_file) (default C(default)).
      - Defaults to C(AZURE_PROFILE), as in azure.azcollection. With O(auth_source=auto), a profile makes the
        credentials file the source unless the task or the environment names a service principal.
    type: str
  cloud_environment:
    description:
      - The Azure cloud whose Resource Manager endpoint, token audience and sign-in authority to use.
      - O(resource_manager_endpoint) and O(authority_host) override its endpoints.
      - When not set, C(AZURE_CLOUD_ENVIRONMENT) (as in azure.azcollection, a name only; for a custom cloud set
        O(resource_manager_endpoint) and O(authority_host)), else V(AzureCloud).
    type: str
    choices: [AzureCloud, AzureUSGovernment, AzureChinaCloud]
  resource_manager_endpoint:
    description:
      - The Azure Resource Manager URL for a custom cloud (Azure Stack Hub, a private cloud, the bundled emulator).
      - Tokens are then requested for C(<resource_manager_endpoint>/.default), the audience the endpoint checks,
        unless O(credential_scope) says otherwise.
      - Defaults to C(AZURE_RESOURCE_MANAGER_ENDPOINT).
      - An C(https://) URL with a host name or IP address and an optional port, and nothing else; a path, query,
        space or malformed host name is refused.
    type: str
  authority_host:
    description:
      - The sign-in authority, for example C(https://login.microsoftonline.us) or a private one.
      - With a custom authority, instance discovery (a call to the public cloud) is turned off.
      - Defaults to C(AZURE_AUTHORITY_HOST).
      - A host name or an C(https://) URL with no path (the tenant is O(tenant), not part of this URL).
    type: str
  ca_bundle:
    description:
      - A PEM file of CA certificates to verify the Resource Manager and authority endpoints with, instead of the
        default trust store. Needed for private clouds and the emulator.
      - Defaults to C(REQUESTS_CA_BUNDLE), the variable the Azure SDK's HTTP transport reads.
      - A file that is empty, not a regular file, holds no PEM certificate or holds a private key is refused.
    type: path
  credential_scope:
    description:
      - The scope tokens are requested for, when it is not the Resource Manager endpoint's own C(/.default).
    type: str
  api_version:
    description:
      - The DPS management API version to call, such as C(2022-02-05) (C(-preview) allowed). Defaults to the SDK's.
    type: str
requirements:
  - azure-identity >= 1.15.0
  - azure-mgmt-iothubprovisioningservices >= 2.0.0
notes:
  - Requests that get HTTP 429 or 5xx are retried, waiting as long as the service asks with C(Retry-After).
  - An authentication failure is reported as one, never as a missing resource.
'''
