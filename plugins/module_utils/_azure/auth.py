# Copyright: iotops.dps_tls contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Azure connection settings: the shared options, their environment fallbacks, the cloud, and which credential to use.

Choosing a credential is pure (options + environment in, a CredentialPlan out), so it can be tested without a network
and without azure-identity; build_credential() is the only place that imports azure-identity.
"""

from __future__ import annotations

import configparser
import importlib
import os
import re
import shutil

from ansible_collections.iotops.dps_tls.plugins.module_utils._azure.checks import (
    check_ca_bundle,
    check_client_certificate,
    check_endpoint,
    refused,
)
from ansible_collections.iotops.dps_tls.plugins.module_utils._common.errors import (
    DpsTlsError,
    InvalidInputError,
    MissingDependencyError,
)

AUTH_SOURCES = ('auto', 'env', 'credential_file', 'cli', 'msi', 'workload_identity', 'azure_pipelines')

# Options shared by every Azure module (doc fragment iotops.dps_tls.azure). Environment fallbacks and defaults are
# resolved in AzureSettings, not by the argument spec, so that a value in the task always beats one in the
# environment, and the environment beats the default.
AZURE_ARGUMENT_SPEC = dict(
    auth_source=dict(type='str', choices=list(AUTH_SOURCES)),
    subscription_id=dict(type='str'),
    tenant=dict(type='str'),
    client_id=dict(type='str'),
    secret=dict(type='str', no_log=True),
    client_certificate_path=dict(type='path', aliases=['x509_certificate_path']),
    client_certificate_password=dict(type='str', no_log=True),
    thumbprint=dict(type='str'),
    profile=dict(type='str'),
    cloud_environment=dict(type='str', choices=['AzureCloud', 'AzureUSGovernment', 'AzureChinaCloud']),
    resource_manager_endpoint=dict(type='str'),
    authority_host=dict(type='str'),
    ca_bundle=dict(type='path'),
    credential_scope=dict(type='str'),
    api_version=dict(type='str'),
)

# option -> environment variables, first match wins (azure-identity's names, then azure.azcollection's, then the
# one azure-core's HTTP transport reads for a CA bundle).
ENV_FALLBACKS = dict(
    auth_source=('ANSIBLE_AZURE_AUTH_SOURCE',),
    subscription_id=('AZURE_SUBSCRIPTION_ID',),
    tenant=('AZURE_TENANT_ID', 'AZURE_TENANT'),
    client_id=('AZURE_CLIENT_ID',),
    secret=('AZURE_CLIENT_SECRET', 'AZURE_SECRET'),
    client_certificate_path=('AZURE_CLIENT_CERTIFICATE_PATH',),
    client_certificate_password=('AZURE_CLIENT_CERTIFICATE_PASSWORD',),
    profile=('AZURE_PROFILE',),
    cloud_environment=('AZURE_CLOUD_ENVIRONMENT',),
    resource_manager_endpoint=('AZURE_RESOURCE_MANAGER_ENDPOINT',),
    authority_host=('AZURE_AUTHORITY_HOST',),
    ca_bundle=('REQUESTS_CA_BUNDLE',),
)

# cloud_environment -> (resource manager endpoint, token scope, authority host); the same values azure-mgmt-core's
# get_arm_endpoints() and azure-identity's AzureAuthorityHosts carry (checked by a unit test).
CLOUDS = dict(
    AzureCloud=('https://management.azure.com/', 'https://management.azure.com/.default',
                'login.microsoftonline.com'),
    AzureUSGovernment=('https://management.usgovcloudapi.net/', 'https://management.core.usgovcloudapi.net/.default',
                       'login.microsoftonline.us'),
    AzureChinaCloud=('https://management.chinacloudapi.cn/', 'https://management.chinacloudapi.cn/.default',
                     'login.chinacloudapi.cn'),
)

CREDENTIAL_FILE = '~/.azure/credentials'


class CredentialPlan:
    """Which azure-identity credential class to build, and with which keyword arguments."""

    def __init__(self, source, class_name, kwargs, subscription_id=None):
        self.source = source  # the auth source actually used, as reported to the user
        self.class_name = class_name
        self.kwargs = kwargs
        self.subscription_id = subscription_id
        self.thumbprint = None  # of the client certificate, checked before the credential is built
        self.origin = ''  # where the client certificate path came from, for error messages

    def describe(self):
        """The plan in words, without any secret: used in authentication error messages."""
        parts = ['auth_source %s (%s)' % (self.source, self.class_name)]
        for key in ('tenant_id', 'client_id'):
            if self.kwargs.get(key):
                parts.append('%s %s' % (key.replace('_id', ' id'), self.kwargs[key]))
        return ', '.join(parts)


def _choice(settings, option, choices, default):
    value = settings.get(option) or default
    if value not in choices:
        raise refused(option, settings.origin(option), 'must be one of %s, got %r' % (', '.join(choices), value))
    return value


class AzureSettings:
    """The Azure options of a task with environment fallbacks applied, and the endpoints they imply."""

    def __init__(self, params, environ=None):
        environ = os.environ if environ is None else environ
        self.environ = environ
        self.explicit = dict((k, params.get(k)) for k in AZURE_ARGUMENT_SPEC if params.get(k) not in (None, ''))
        self.values = dict(self.explicit)
        self.from_environment = {}  # option -> the variable its value came from
        for option, names in ENV_FALLBACKS.items():
            if option not in self.values:
                for name in names:
                    if environ.get(name):
                        self.values[option] = environ[name]
                        self.from_environment[option] = name
                        break
        self.auth_source = _choice(self, 'auth_source', AUTH_SOURCES, 'auto')
        self.cloud_environment = _choice(self, 'cloud_environment', sorted(CLOUDS), 'AzureCloud')
        cloud_arm, cloud_scope, cloud_authority = CLOUDS[self.cloud_environment]
        endpoint = self.values.get('resource_manager_endpoint')
        if endpoint:
            endpoint = check_endpoint('resource_manager_endpoint', endpoint, self.origin('resource_manager_endpoint'))
        self.resource_manager_endpoint = (endpoint or cloud_arm).rstrip('/')
        if self.values.get('credential_scope'):
            self.credential_scope = self.values['credential_scope']
        elif endpoint:
            # A custom endpoint (Azure Stack, a sovereign cloud, the emulator) checks tokens issued for itself.
            self.credential_scope = self.resource_manager_endpoint + '/.default'
        else:
            self.credential_scope = cloud_scope
        authority = self.values.get('authority_host')
        if authority:
            authority = check_endpoint('authority_host', authority, self.origin('authority_host'), bare_host=True)
        self.authority_host = authority or cloud_authority
        # Instance discovery asks login.microsoftonline.com about the authority: a private authority would fail it.
        self.custom_authority = bool(authority)
        ca_bundle = self.values.get('ca_bundle')
        self.ca_bundle = check_ca_bundle(ca_bundle, self.origin('ca_bundle')) if ca_bundle else None
        self.api_version = self.values.get('api_version')
        # It goes into every request's query string: only the shape Azure uses for API versions.
        if self.api_version and not re.fullmatch(r'[0-9]{4}-[0-9]{2}-[0-9]{2}(-preview)?', self.api_version):
            raise InvalidInputError('api_version', 'must look like 2025-02-01 or 2025-02-01-preview, got %r'
                                    % self.api_version)

    def get(self, option):
        return self.values.get(option)

    def origin(self, option):
        """Where an environment value came from, for the end of an error message."""
        name = self.from_environment.get(option)
        return ' (the value comes from the environment variable %s)' % name if name else ''

    def transport_kwargs(self):
        """Keyword arguments every azure-core pipeline (credential and client) gets."""
        return dict(connection_verify=self.ca_bundle) if self.ca_bundle else {}

    def identity_kwargs(self):
        kwargs = dict(authority=self.authority_host)
        if self.custom_authority:
            kwargs['disable_instance_discovery'] = True
        kwargs.update(self.transport_kwargs())
        return kwargs


def read_credential_file(profile, path=CREDENTIAL_FILE, origin=''):
    """One profile of the azure.azcollection credentials file (INI: subscription_id, client_id, secret, tenant)."""
    path = os.path.expanduser(path)
    parser = configparser.ConfigParser(interpolation=None)
    try:
        with open(path) as handle:
            parser.read_file(handle)
    except OSError as exc:
        raise refused('profile', origin, 'cannot read the credentials file %s: %s' % (path, exc.strerror or exc))
    except configparser.Error as exc:
        # The parser's message quotes the offending line, which may hold a secret: name the kind of error only.
        raise refused('profile', origin, 'the credentials file %s is not an INI file (%s)' % (
            path, type(exc).__name__))
    if not parser.has_section(profile):
        raise refused('profile', origin, 'the credentials file %s has no [%s] profile (profiles: %s)' % (
            path, profile, ', '.join(parser.sections()) or 'none'))
    return dict(parser.items(profile))


def _secret_or_certificate(settings, values, explicit):
    """'secret', 'certificate' or None. A task's choice beats the environment's; both at one level is refused,
    since using either one silently could sign in as the wrong identity."""
    for level in (explicit, values):
        secret, certificate = level.get('secret'), level.get('client_certificate_path')
        if secret and certificate:
            where = ''
            if level is not explicit and settings.from_environment:
                where = ' (from %s)' % ' and '.join(
                    settings.from_environment.get(key, key) for key in ('secret', 'client_certificate_path'))
            raise InvalidInputError('secret', 'secret and client_certificate_path are both set%s: a service '
                                              'principal signs in with one of them, set only that one' % where)
        if secret:
            return 'secret'
        if certificate:
            return 'certificate'
    return None


def _service_principal_plan(settings, source_label, values, explicit=None, allow_token_file=True):
    """A plan from client_id + tenant + one of secret, certificate or federated token file, or None.

    A secret or certificate given in the task wins over one from the environment, so a task can use a certificate
    while AZURE_CLIENT_SECRET is set.
    """
    explicit = explicit or {}
    tenant, client_id = values.get('tenant'), values.get('client_id')
    if not client_id:
        return None
    common = dict(tenant_id=tenant, client_id=client_id)
    common.update(settings.identity_kwargs())
    method = _secret_or_certificate(settings, values, explicit)
    if method == 'secret':
        plan = CredentialPlan(source_label, 'ClientSecretCredential', dict(common, client_secret=values['secret']))
    elif method == 'certificate':
        kwargs = dict(common, certificate_path=values['client_certificate_path'])
        if values.get('client_certificate_password'):
            kwargs['password'] = values['client_certificate_password']
        plan = CredentialPlan(source_label, 'CertificateCredential', kwargs)
        plan.thumbprint = values.get('thumbprint')
        plan.origin = settings.origin('client_certificate_path') if values is settings.values else ''
    elif allow_token_file and settings.environ.get('AZURE_FEDERATED_TOKEN_FILE'):
        plan = CredentialPlan('workload_identity', 'WorkloadIdentityCredential',
                              dict(common, token_file_path=settings.environ['AZURE_FEDERATED_TOKEN_FILE']))
    else:
        return None
    if not tenant:
        raise InvalidInputError('tenant', 'a service principal (client_id %s) needs a tenant; set tenant or '
                                          'AZURE_TENANT_ID' % client_id)
    return plan


def _plan_credential_file(settings):
    profile = settings.get('profile') or 'default'
    entries = read_credential_file(profile, origin=settings.origin('profile'))
    values = dict(tenant=entries.get('tenant'), client_id=entries.get('client_id'), secret=entries.get('secret'),
                  client_certificate_path=entries.get('x509_certificate_path'), thumbprint=entries.get('thumbprint'))
    plan = _service_principal_plan(settings, 'credential_file', values, allow_token_file=False)
    if plan is None:
        raise InvalidInputError('profile', 'profile [%s] of %s needs client_id, tenant and secret (or '
                                           'x509_certificate_path)%s' % (profile, os.path.expanduser(CREDENTIAL_FILE),
                                                                         settings.origin('profile')))
    cloud = entries.get('cloud_environment')
    if cloud and cloud != settings.cloud_environment:
        # The profile's identity lives in its cloud: signing in to another one would only fail later, less clearly.
        raise InvalidInputError('cloud_environment', 'profile [%s] of %s is for %s, but the task uses %s: set '
                                                     'cloud_environment (or AZURE_CLOUD_ENVIRONMENT) to %s' % (
                                                         profile, os.path.expanduser(CREDENTIAL_FILE), cloud,
                                                         settings.cloud_environment, cloud))
    plan.subscription_id = entries.get('subscription_id')
    return plan


def _plan_workload_identity(settings):
    token_file = settings.environ.get('AZURE_FEDERATED_TOKEN_FILE')
    if not token_file:
        raise InvalidInputError('auth_source', 'workload_identity needs AZURE_FEDERATED_TOKEN_FILE in the environment')
    if not settings.get('client_id') or not settings.get('tenant'):
        raise InvalidInputError('auth_source', 'workload_identity needs client_id and tenant (or AZURE_CLIENT_ID and '
                                               'AZURE_TENANT_ID)')
    kwargs = dict(tenant_id=settings.get('tenant'), client_id=settings.get('client_id'), token_file_path=token_file)
    kwargs.update(settings.identity_kwargs())
    return CredentialPlan('workload_identity', 'WorkloadIdentityCredential', kwargs)


def _plan_msi(settings):
    kwargs = dict(settings.transport_kwargs())
    if settings.get('client_id'):
        kwargs['client_id'] = settings.get('client_id')
    return CredentialPlan('msi', 'ManagedIdentityCredential', kwargs)


def _plan_cli(settings):
    kwargs = {}
    if settings.explicit.get('tenant'):
        kwargs['tenant_id'] = settings.explicit['tenant']
    return CredentialPlan('cli', 'AzureCliCredential', kwargs)


# What the Azure DevOps agent and AzureCLI@2/AzurePowerShell@5 (workload identity service connections) put in a
# step's environment, for AzurePipelinesCredential. SYSTEM_ACCESSTOKEN only when mapped from $(System.AccessToken).
PIPELINES_ENV = dict(
    client_id='AZURESUBSCRIPTION_CLIENT_ID',
    tenant='AZURESUBSCRIPTION_TENANT_ID',
    service_connection_id='AZURESUBSCRIPTION_SERVICE_CONNECTION_ID',
    system_access_token='SYSTEM_ACCESSTOKEN',
    oidc_request_uri='SYSTEM_OIDCREQUESTURI',
)


def _plan_azure_pipelines(settings):
    environ = settings.environ
    client_id = settings.get('client_id') or environ.get(PIPELINES_ENV['client_id'])
    tenant = settings.get('tenant') or environ.get(PIPELINES_ENV['tenant'])
    missing = []
    if not client_id:
        missing.append('client_id (or AZURE_CLIENT_ID, AZURESUBSCRIPTION_CLIENT_ID)')
    if not tenant:
        missing.append('tenant (or AZURE_TENANT_ID, AZURESUBSCRIPTION_TENANT_ID)')
    for key in ('service_connection_id', 'system_access_token', 'oidc_request_uri'):
        if not environ.get(PIPELINES_ENV[key]):
            missing.append(PIPELINES_ENV[key])
    if missing:
        # azure-identity would only notice SYSTEM_OIDCREQUESTURI at the first token request.
        raise InvalidInputError('auth_source', 'azure_pipelines is missing %s (in the pipeline step: map '
                                               '$(System.AccessToken) as SYSTEM_ACCESSTOKEN and the service '
                                               'connection id as AZURESUBSCRIPTION_SERVICE_CONNECTION_ID; the agent '
                                               'sets SYSTEM_OIDCREQUESTURI)' % '; '.join(missing))
    kwargs = dict(tenant_id=tenant, client_id=client_id,
                  service_connection_id=environ[PIPELINES_ENV['service_connection_id']],
                  system_access_token=environ[PIPELINES_ENV['system_access_token']])
    kwargs.update(settings.identity_kwargs())
    return CredentialPlan('azure_pipelines', 'AzurePipelinesCredential', kwargs)


def _plan_auto(settings):
    # Most explicit first: credentials in the task (a profile named in the task too, as in azure.azcollection), then
    # the environment, then the credentials file, then a managed identity the host advertises, then the Azure CLI.
    # Decided without network calls.
    if settings.explicit.get('profile') and not settings.explicit.get('client_id'):
        return _plan_credential_file(settings)
    plan = _service_principal_plan(settings, settings.auth_source, settings.values, settings.explicit)
    if plan:
        return plan
    if settings.get('profile') or os.path.isfile(os.path.expanduser(CREDENTIAL_FILE)):
        return _plan_credential_file(settings)
    if any(settings.environ.get(name) for name in ('IDENTITY_ENDPOINT', 'MSI_ENDPOINT')):
        return _plan_msi(settings)
    if shutil.which('az'):
        return _plan_cli(settings)
    raise DpsTlsError(
        'No Azure credentials found (auth_source auto): set client_id, tenant and secret or client_certificate_path '
        '(or AZURE_CLIENT_ID, AZURE_TENANT_ID and AZURE_CLIENT_SECRET, AZURE_CLIENT_CERTIFICATE_PATH or '
        'AZURE_FEDERATED_TOKEN_FILE), create %s, run on a host with a managed identity, or log in with `az login`; '
        'or choose auth_source explicitly' % CREDENTIAL_FILE, auth_source='auto')


def _plan_env(settings):
    plan = _service_principal_plan(settings, settings.auth_source, settings.values, settings.explicit)
    if plan is None:
        raise InvalidInputError('auth_source', 'env needs client_id and tenant with secret, client_certificate_path '
                                               'or AZURE_FEDERATED_TOKEN_FILE (options or AZURE_* variables)')
    return plan


PLANNERS = dict(
    auto=_plan_auto,
    env=_plan_env,
    credential_file=_plan_credential_file,
    cli=_plan_cli,
    msi=_plan_msi,
    workload_identity=_plan_workload_identity,
    azure_pipelines=_plan_azure_pipelines,
)


def plan_credential(settings):
    """Decide which credential the settings ask for; raises InvalidInputError when they are incomplete."""
    plan = PLANNERS[settings.auth_source](settings)
    subscription_id = settings.get('subscription_id') or plan.subscription_id
    if not subscription_id:
        raise InvalidInputError('subscription_id', 'required: set subscription_id or AZURE_SUBSCRIPTION_ID')
    plan.subscription_id = subscription_id
    return plan


def build_credential(plan, waiter=None):
    """Instantiate the azure-identity credential of a plan (no token is requested yet); with a waiter, its token
    requests are bounded by the task's deadline too."""
    try:
        identity = importlib.import_module('azure.identity')
    except ImportError as exc:
        raise MissingDependencyError('azure-identity', 'to authenticate to Azure', error=exc)
    credential_class = getattr(identity, plan.class_name, None)
    if credential_class is None:
        # AzurePipelinesCredential came with azure-identity 1.17.0
        raise MissingDependencyError('azure-identity>=1.17.0', 'for %s (this host has azure-identity %s)' % (
            plan.describe(), getattr(identity, '__version__', 'of an unknown version')))
    if plan.class_name == 'CertificateCredential':
        # azure-identity would block on a FIFO and read a huge file whole: refuse both by name first.
        check_client_certificate(plan.kwargs['certificate_path'], plan.thumbprint, plan.origin)
    kwargs = dict(plan.kwargs)
    if waiter is not None:
        from ansible_collections.iotops.dps_tls.plugins.module_utils._azure.client import credential_kwargs
        kwargs.update(credential_kwargs(plan.class_name, waiter))
    try:
        return credential_class(**kwargs)
    except (ValueError, OSError, TypeError) as exc:
        # e.g. an unreadable or malformed certificate file
        raise DpsTlsError('Cannot set up Azure credentials (%s): %s' % (plan.describe(), exc),
                          auth_source=plan.source, error_kind='authentication')
