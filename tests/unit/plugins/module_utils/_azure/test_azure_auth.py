# Copyright: iotops.dps_tls contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Which credential is built from which options and environment; no network, no token."""

from __future__ import annotations

import os

import certifi
import pytest

from ansible_collections.iotops.dps_tls.plugins.module_utils._azure import auth
from ansible_collections.iotops.dps_tls.plugins.module_utils._common.errors import DpsTlsError, InvalidInputError
from ansible_collections.iotops.dps_tls.tests.unit.pki import certificate, key_pem, pem

SUB = '00000000-0000-0000-0000-000000000001'
TENANT = '00000000-0000-0000-0000-00000000000t'
CLIENT = '00000000-0000-0000-0000-00000000000c'


@pytest.fixture(autouse=True)
def no_local_credentials(monkeypatch, tmp_path):
    # The host running the tests must not leak into auto: no credentials file, no az.
    monkeypatch.setenv('HOME', str(tmp_path))
    monkeypatch.setattr(auth.shutil, 'which', lambda name: None)


def plan(params=None, environ=None):
    return auth.plan_credential(auth.AzureSettings(dict(params or {}), environ=dict(environ or {})))


def test_secret_from_options():
    p = plan(dict(subscription_id=SUB, tenant=TENANT, client_id=CLIENT, secret='s3cret'))
    assert p.class_name == 'ClientSecretCredential'
    assert p.kwargs['client_secret'] == 's3cret'
    assert p.kwargs['authority'] == 'login.microsoftonline.com'
    assert 'disable_instance_discovery' not in p.kwargs
    assert p.subscription_id == SUB
    assert 's3cret' not in p.describe()


def test_secret_from_azure_identity_environment():
    p = plan(environ=dict(AZURE_SUBSCRIPTION_ID=SUB, AZURE_TENANT_ID=TENANT, AZURE_CLIENT_ID=CLIENT,
                          AZURE_CLIENT_SECRET='x'))
    assert p.class_name == 'ClientSecretCredential'
    assert p.kwargs['tenant_id'] == TENANT


def test_azcollection_environment_names_accepted():
    p = plan(environ=dict(AZURE_SUBSCRIPTION_ID=SUB, AZURE_TENANT=TENANT, AZURE_CLIENT_ID=CLIENT, AZURE_SECRET='x'))
    assert p.class_name == 'ClientSecretCredential'
    assert p.kwargs['tenant_id'] == TENANT
    assert p.kwargs['client_secret'] == 'x'


def test_option_beats_environment():
    p = plan(dict(tenant='from-task'), environ=dict(AZURE_SUBSCRIPTION_ID=SUB, AZURE_TENANT_ID=TENANT,
                                                    AZURE_CLIENT_ID=CLIENT, AZURE_CLIENT_SECRET='x'))
    assert p.kwargs['tenant_id'] == 'from-task'


def test_certificate_in_task_wins_over_secret_in_environment():
    p = plan(dict(client_certificate_path='/tmp/sp.pem'),
             environ=dict(AZURE_SUBSCRIPTION_ID=SUB, AZURE_TENANT_ID=TENANT, AZURE_CLIENT_ID=CLIENT,
                          AZURE_CLIENT_SECRET='x'))
    assert p.class_name == 'CertificateCredential'
    assert p.kwargs['certificate_path'] == '/tmp/sp.pem'
    assert 'client_secret' not in p.kwargs


def test_certificate_from_environment():
    p = plan(environ=dict(AZURE_SUBSCRIPTION_ID=SUB, AZURE_TENANT_ID=TENANT, AZURE_CLIENT_ID=CLIENT,
                          AZURE_CLIENT_CERTIFICATE_PATH='/tmp/sp.pem'))
    assert p.class_name == 'CertificateCredential'


def test_workload_identity_in_auto_from_token_file():
    p = plan(environ=dict(AZURE_SUBSCRIPTION_ID=SUB, AZURE_TENANT_ID=TENANT, AZURE_CLIENT_ID=CLIENT,
                          AZURE_FEDERATED_TOKEN_FILE='/var/run/token'))
    assert (p.source, p.class_name) == ('workload_identity', 'WorkloadIdentityCredential')
    assert p.kwargs['token_file_path'] == '/var/run/token'


def test_workload_identity_explicit_needs_token_file():
    with pytest.raises(InvalidInputError) as err:
        plan(dict(auth_source='workload_identity', subscription_id=SUB, tenant=TENANT, client_id=CLIENT))
    assert 'AZURE_FEDERATED_TOKEN_FILE' in err.value.message


def test_msi_with_user_assigned_client_id():
    p = plan(dict(auth_source='msi', subscription_id=SUB, client_id=CLIENT))
    assert p.class_name == 'ManagedIdentityCredential'
    assert p.kwargs == dict(client_id=CLIENT)


def test_auto_picks_msi_when_host_advertises_it():
    p = plan(dict(subscription_id=SUB), environ=dict(IDENTITY_ENDPOINT='http://169.254.1.1/t', IDENTITY_HEADER='h'))
    assert p.class_name == 'ManagedIdentityCredential'


def test_auto_picks_cli_last(monkeypatch):
    monkeypatch.setattr(auth.shutil, 'which', lambda name: '/usr/bin/az' if name == 'az' else None)
    p = plan(dict(subscription_id=SUB))
    assert (p.source, p.class_name) == ('cli', 'AzureCliCredential')


def test_cli_never_gets_secrets():
    p = plan(dict(auth_source='cli', subscription_id=SUB, tenant=TENANT),
             environ=dict(AZURE_CLIENT_SECRET='x', AZURE_CLIENT_ID=CLIENT))
    assert p.class_name == 'AzureCliCredential'
    assert p.kwargs == dict(tenant_id=TENANT)


def test_auto_without_anything_says_where_it_looked():
    with pytest.raises(DpsTlsError) as err:
        plan(dict(subscription_id=SUB))
    assert 'No Azure credentials found' in err.value.message
    assert 'az login' in err.value.message


def test_credential_file_profile(tmp_path):
    (tmp_path / '.azure').mkdir()
    (tmp_path / '.azure' / 'credentials').write_text(
        '[default]\nsubscription_id=%s\nclient_id=a\nsecret=b\ntenant=c\n'
        '[prod]\nsubscription_id=prod-sub\nclient_id=pa\nsecret=pb\ntenant=pc\n' % SUB)
    p = plan(dict(auth_source='credential_file', profile='prod'))
    assert p.source == 'credential_file'
    assert (p.kwargs['client_id'], p.kwargs['client_secret'], p.kwargs['tenant_id']) == ('pa', 'pb', 'pc')
    assert p.subscription_id == 'prod-sub'
    # auto finds the file too, and the default profile
    assert plan().kwargs['client_id'] == 'a'


def test_credential_file_missing_profile(tmp_path):
    (tmp_path / '.azure').mkdir()
    (tmp_path / '.azure' / 'credentials').write_text('[default]\nclient_id=a\n')
    with pytest.raises(InvalidInputError) as err:
        plan(dict(auth_source='credential_file', profile='nope'))
    assert err.value.option == 'profile'
    assert 'no [nope] profile' in err.value.message


PIPELINE_STEP = dict(AZURESUBSCRIPTION_SERVICE_CONNECTION_ID='sc', SYSTEM_ACCESSTOKEN='job-token',
                     SYSTEM_OIDCREQUESTURI='https://dev.azure.com/org/project/_apis/distributedtask/hubs/build/plans/p'
                                           '/jobs/j/oidctoken')


def test_azure_pipelines_reads_service_connection_from_environment():
    p = plan(dict(auth_source='azure_pipelines', subscription_id=SUB, tenant=TENANT, client_id=CLIENT),
             environ=PIPELINE_STEP)
    assert p.class_name == 'AzurePipelinesCredential'
    assert p.kwargs['service_connection_id'] == 'sc'
    assert p.kwargs['system_access_token'] == 'job-token'
    assert 'job-token' not in p.describe()


def test_azure_pipelines_takes_the_ids_azurecli_task_exports():
    # AzureCLI@2 and AzurePowerShell@5 export the service connection's ids under these names.
    p = plan(dict(auth_source='azure_pipelines', subscription_id=SUB),
             environ=dict(PIPELINE_STEP, AZURESUBSCRIPTION_CLIENT_ID=CLIENT, AZURESUBSCRIPTION_TENANT_ID=TENANT))
    assert (p.kwargs['client_id'], p.kwargs['tenant_id']) == (CLIENT, TENANT)


def test_azure_pipelines_prefers_options_and_azure_names():
    p = plan(dict(auth_source='azure_pipelines', subscription_id=SUB, tenant='from-task'),
             environ=dict(PIPELINE_STEP, AZURE_CLIENT_ID=CLIENT, AZURESUBSCRIPTION_CLIENT_ID='other',
                          AZURESUBSCRIPTION_TENANT_ID='other'))
    assert (p.kwargs['client_id'], p.kwargs['tenant_id']) == (CLIENT, 'from-task')


def test_azure_pipelines_custom_authority():
    p = plan(dict(auth_source='azure_pipelines', subscription_id=SUB, tenant=TENANT, client_id=CLIENT,
                  authority_host='https://127.0.0.1:8443'), environ=PIPELINE_STEP)
    assert p.kwargs['authority'] == 'https://127.0.0.1:8443'
    assert p.kwargs['disable_instance_discovery'] is True


@pytest.mark.parametrize('missing', sorted(PIPELINE_STEP))
def test_azure_pipelines_names_what_is_missing(missing):
    environ = dict(PIPELINE_STEP)
    del environ[missing]
    with pytest.raises(InvalidInputError) as err:
        plan(dict(auth_source='azure_pipelines', subscription_id=SUB, tenant=TENANT, client_id=CLIENT),
             environ=environ)
    assert err.value.option == 'auth_source'
    assert 'is missing %s (' % missing in err.value.message
    assert 'job-token' not in err.value.message


def test_azure_pipelines_without_ids():
    with pytest.raises(InvalidInputError) as err:
        plan(dict(auth_source='azure_pipelines', subscription_id=SUB), environ=PIPELINE_STEP)
    assert 'missing client_id (or AZURE_CLIENT_ID, AZURESUBSCRIPTION_CLIENT_ID); tenant (' in err.value.message


def test_subscription_required():
    with pytest.raises(InvalidInputError) as err:
        plan(dict(tenant=TENANT, client_id=CLIENT, secret='x'))
    assert err.value.option == 'subscription_id'


def test_service_principal_needs_tenant():
    with pytest.raises(InvalidInputError) as err:
        plan(dict(subscription_id=SUB, client_id=CLIENT, secret='x'))
    assert err.value.option == 'tenant'


def test_custom_cloud_audience_and_instance_discovery():
    ca = certifi.where()
    settings = auth.AzureSettings(dict(resource_manager_endpoint='https://127.0.0.1:8443/',
                                       authority_host='https://127.0.0.1:8443', ca_bundle=str(ca)), environ={})
    assert settings.resource_manager_endpoint == 'https://127.0.0.1:8443'
    assert settings.credential_scope == 'https://127.0.0.1:8443/.default'
    kwargs = settings.identity_kwargs()
    assert kwargs['disable_instance_discovery'] is True
    assert kwargs['authority'] == 'https://127.0.0.1:8443'
    assert kwargs['connection_verify'] == str(ca)


def test_custom_cloud_from_environment():
    settings = auth.AzureSettings({}, environ=dict(AZURE_RESOURCE_MANAGER_ENDPOINT='https://arm.local',
                                                   AZURE_AUTHORITY_HOST='https://login.local'))
    assert settings.credential_scope == 'https://arm.local/.default'
    assert settings.identity_kwargs()['disable_instance_discovery'] is True


def test_credential_scope_option_wins():
    settings = auth.AzureSettings(dict(resource_manager_endpoint='https://arm.local',
                                       credential_scope='https://management.core.windows.net/.default'), environ={})
    assert settings.credential_scope == 'https://management.core.windows.net/.default'


@pytest.mark.parametrize('cloud', sorted(auth.CLOUDS))
def test_cloud_table_matches_the_sdk(cloud):
    from azure.core import AzureClouds
    from azure.identity import AzureAuthorityHosts
    from azure.mgmt.core.tools import get_arm_endpoints
    sdk_cloud = dict(AzureCloud=AzureClouds.AZURE_PUBLIC_CLOUD, AzureUSGovernment=AzureClouds.AZURE_US_GOVERNMENT,
                     AzureChinaCloud=AzureClouds.AZURE_CHINA_CLOUD)[cloud]
    authority = dict(AzureCloud=AzureAuthorityHosts.AZURE_PUBLIC_CLOUD,
                     AzureUSGovernment=AzureAuthorityHosts.AZURE_GOVERNMENT,
                     AzureChinaCloud=AzureAuthorityHosts.AZURE_CHINA)[cloud]
    endpoints = get_arm_endpoints(sdk_cloud)
    assert auth.CLOUDS[cloud] == (endpoints['resource_manager'], endpoints['credential_scopes'][0], authority)
    settings = auth.AzureSettings(dict(cloud_environment=cloud), environ={})
    assert settings.credential_scope == endpoints['credential_scopes'][0]
    assert 'disable_instance_discovery' not in settings.identity_kwargs()


def test_bad_endpoint_and_missing_ca_bundle():
    with pytest.raises(InvalidInputError) as err:
        auth.AzureSettings(dict(resource_manager_endpoint='http://arm.local'), environ={})
    assert err.value.option == 'resource_manager_endpoint'
    with pytest.raises(InvalidInputError) as err:
        auth.AzureSettings(dict(ca_bundle='/nonexistent/ca.pem'), environ={})
    assert err.value.option == 'ca_bundle'


def test_build_credential_makes_the_planned_class(tmp_path):
    from azure.identity import ClientSecretCredential
    p = plan(dict(subscription_id=SUB, tenant=TENANT, client_id=CLIENT, secret='x'))
    assert isinstance(auth.build_credential(p), ClientSecretCredential)


def test_build_credential_bad_certificate_is_refused_by_name(tmp_path):
    bad = tmp_path / 'sp.pem'
    bad.write_text('not a certificate')
    p = plan(dict(subscription_id=SUB, tenant=TENANT, client_id=CLIENT, client_certificate_path=str(bad)))
    with pytest.raises(InvalidInputError) as err:
        auth.build_credential(p)
    assert err.value.option == 'client_certificate_path'
    assert 'holds no PEM certificate' in err.value.message


def test_build_credential_certificate_that_azure_identity_rejects_is_an_authentication_error(tmp_path):
    bad = tmp_path / 'sp.pem'
    bad.write_text('-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n')
    p = plan(dict(subscription_id=SUB, tenant=TENANT, client_id=CLIENT, client_certificate_path=str(bad)))
    with pytest.raises(DpsTlsError) as err:
        auth.build_credential(p)
    assert err.value.details['error_kind'] == 'authentication'
    assert 'CertificateCredential' in err.value.message


def test_client_certificate_that_is_a_fifo_is_refused_before_azure_identity_reads_it(tmp_path):
    fifo = tmp_path / 'sp.pem'
    os.mkfifo(str(fifo))
    p = plan(dict(SP, client_certificate_path=str(fifo)))
    with pytest.raises(InvalidInputError) as err:
        auth.build_credential(p)
    assert err.value.option == 'client_certificate_path' and 'not a regular file' in err.value.message


def test_thumbprint_of_azure_azcollection_is_checked(tmp_path):
    import hashlib
    import ssl
    cert, key = certificate('sp', ca=None, key_type='rsa')
    path = tmp_path / 'sp.pem'
    path.write_text(key_pem(key) + pem(cert))
    thumbprint = hashlib.sha1(ssl.PEM_cert_to_DER_cert(pem(cert))).hexdigest()
    p = plan(dict(SP, client_certificate_path=str(path), thumbprint=thumbprint.lower()))
    assert auth.build_credential(p) is not None
    p = plan(dict(SP, client_certificate_path=str(path), thumbprint='00' * 20))
    with pytest.raises(InvalidInputError) as err:
        auth.build_credential(p)
    assert err.value.option == 'thumbprint' and thumbprint.upper() in err.value.message


def test_missing_sdk_is_named_by_its_pip_package(monkeypatch):
    import sys
    from ansible_collections.iotops.dps_tls.plugins.module_utils._azure import client
    from ansible_collections.iotops.dps_tls.plugins.module_utils._common.errors import MissingDependencyError
    monkeypatch.setitem(sys.modules, 'azure.identity', None)
    monkeypatch.setitem(sys.modules, 'azure.mgmt.iothubprovisioningservices', None)
    p = plan(dict(subscription_id=SUB, tenant=TENANT, client_id=CLIENT, secret='x'))
    with pytest.raises(MissingDependencyError) as err:
        auth.build_credential(p)
    assert 'pip install azure-identity' in err.value.message
    with pytest.raises(MissingDependencyError) as err:
        client.dps_client(auth.AzureSettings({}, environ={}), object(), SUB, 60)
    assert 'pip install azure-mgmt-iothubprovisioningservices' in err.value.message


def test_an_azure_identity_without_the_planned_credential_names_the_version_needed(monkeypatch):
    # azure-identity before 1.17.0 has no AzurePipelinesCredential: say which version, not an AttributeError
    import azure.identity
    from ansible_collections.iotops.dps_tls.plugins.module_utils._common.errors import MissingDependencyError
    monkeypatch.delattr(azure.identity, 'AzurePipelinesCredential')
    p = plan(dict(auth_source='azure_pipelines', subscription_id=SUB, tenant=TENANT, client_id=CLIENT),
             environ=PIPELINE_STEP)
    with pytest.raises(MissingDependencyError) as err:
        auth.build_credential(p)
    assert 'azure-identity>=1.17.0' in err.value.message and 'azure_pipelines' in err.value.message
    assert 'job-token' not in err.value.message


# Issue class: every error is a sentence naming the option, never a traceback or a silent choice.

SP = dict(subscription_id=SUB, tenant=TENANT, client_id=CLIENT)


def test_secret_and_certificate_in_the_task_are_refused_by_name():
    with pytest.raises(InvalidInputError) as err:
        plan(dict(SP, secret='s3cret', client_certificate_path='/tmp/sp.pem'))
    assert 'secret and client_certificate_path are both set' in err.value.message
    assert 's3cret' not in err.value.message


def test_secret_and_certificate_in_the_environment_are_refused_naming_the_variables():
    with pytest.raises(InvalidInputError) as err:
        plan(environ=dict(AZURE_SUBSCRIPTION_ID=SUB, AZURE_TENANT_ID=TENANT, AZURE_CLIENT_ID=CLIENT,
                          AZURE_CLIENT_SECRET='s3cret', AZURE_CLIENT_CERTIFICATE_PATH='/tmp/sp.pem'))
    assert 'AZURE_CLIENT_SECRET and AZURE_CLIENT_CERTIFICATE_PATH' in err.value.message
    assert 's3cret' not in err.value.message


def test_secret_in_the_task_beats_a_certificate_in_the_environment():
    p = plan(dict(SP, secret='x'), environ=dict(AZURE_CLIENT_CERTIFICATE_PATH='/tmp/sp.pem'))
    assert p.class_name == 'ClientSecretCredential'


def test_certificate_password_from_the_environment_is_honoured():
    p = plan(dict(SP, client_certificate_path='/tmp/sp.pem'),
             environ=dict(AZURE_CLIENT_CERTIFICATE_PASSWORD='pfx-pass'))
    assert p.kwargs['password'] == 'pfx-pass'
    assert 'pfx-pass' not in p.describe()
    p = plan(dict(SP, client_certificate_path='/tmp/sp.pem', client_certificate_password='task-pass'),
             environ=dict(AZURE_CLIENT_CERTIFICATE_PASSWORD='pfx-pass'))
    assert p.kwargs['password'] == 'task-pass'


def test_certificate_password_is_no_log_and_x509_certificate_path_is_an_alias():
    spec = auth.AZURE_ARGUMENT_SPEC
    assert spec['client_certificate_password']['no_log'] is True
    assert 'x509_certificate_path' in spec['client_certificate_path']['aliases']


def test_encrypted_certificate_builds_with_its_password(tmp_path):
    from azure.identity import CertificateCredential
    cert, key = certificate('sp', ca=None, key_type='rsa')
    path = tmp_path / 'sp.pem'
    path.write_text(key_pem(key, 'pfx-pass') + pem(cert))
    p = plan(dict(SP, client_certificate_path=str(path)), environ=dict(AZURE_CLIENT_CERTIFICATE_PASSWORD='pfx-pass'))
    assert isinstance(auth.build_credential(p), CertificateCredential)
    p = plan(dict(SP, client_certificate_path=str(path)))
    with pytest.raises(DpsTlsError) as err:
        auth.build_credential(p)
    assert err.value.details['error_kind'] == 'authentication'


@pytest.mark.parametrize('value', [
    'https://login.example.com/tenant-id',
    'https://login.example.com/?x=1',
    'https://login.example.com/#frag',
    'https://login.example .com',
    'https://login..example.com',
    'https://.example.com',
    'login.example.com/path',
    'http://login.example.com',
    'https://user@login.example.com',
    'https://login.example.com:notaport',
    '',
])
def test_bad_authority_host_is_refused_by_name(value):
    if not value:
        value = 'https://'
    with pytest.raises(InvalidInputError) as err:
        auth.AzureSettings(dict(authority_host=value), environ={})
    assert err.value.option == 'authority_host'


@pytest.mark.parametrize('value', ['login.microsoftonline.us', 'https://login.microsoftonline.us/',
                                   'https://127.0.0.1:8443', 'https://[::1]:8443'])
def test_good_authority_host(value):
    assert auth.AzureSettings(dict(authority_host=value), environ={}).authority_host == value.rstrip('/')


@pytest.mark.parametrize('value', [
    'https://arm .local', 'https:// arm.local', 'https://arm.local\n', 'https://arm..local', 'https://-arm.local',
    'https://arm.local/extra/path', 'https://arm.local?api-version=1', 'https://',
    'https://xn--' + 'a' * 70 + '.local',
])
def test_bad_resource_manager_endpoint_is_refused_by_name(value):
    with pytest.raises(InvalidInputError) as err:
        auth.AzureSettings(dict(resource_manager_endpoint=value), environ={})
    assert err.value.option == 'resource_manager_endpoint'


@pytest.mark.parametrize('option, variable, value', [
    ('authority_host', 'AZURE_AUTHORITY_HOST', 'https://login.local/tenant'),
    ('cloud_environment', 'AZURE_CLOUD_ENVIRONMENT', 'https://stack.local/metadata/endpoints'),
])
def test_bad_value_from_the_environment_names_the_option_and_the_variable(option, variable, value):
    with pytest.raises(InvalidInputError) as err:
        auth.AzureSettings({}, environ={variable: value})
    assert err.value.option == option
    assert variable in err.value.message


def test_empty_ca_bundle_is_refused_by_name(tmp_path):
    empty = tmp_path / 'ca.pem'
    empty.write_text('')
    with pytest.raises(InvalidInputError) as err:
        auth.AzureSettings(dict(ca_bundle=str(empty)), environ={})
    assert err.value.option == 'ca_bundle'
    assert 'empty' in err.value.message


@pytest.mark.parametrize('content', ['not a certificate\n', '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n'])
def test_ca_bundle_without_a_loadable_certificate_is_refused(tmp_path, content):
    bad = tmp_path / 'ca.pem'
    bad.write_text(content)
    with pytest.raises(InvalidInputError) as err:
        auth.AzureSettings(dict(ca_bundle=str(bad)), environ={})
    assert err.value.option == 'ca_bundle'


def test_ca_bundle_with_a_private_key_is_refused_without_showing_it(tmp_path):
    cert, key = certificate('sp', ca=None, key_type='rsa')
    bundle = key_pem(key) + pem(cert)
    path = tmp_path / 'ca.pem'
    path.write_text(bundle)
    with pytest.raises(InvalidInputError) as err:
        auth.AzureSettings(dict(ca_bundle=str(path)), environ={})
    assert 'private key' in err.value.message
    assert bundle.splitlines()[1] not in err.value.message


def test_ca_bundle_that_is_not_a_regular_file_is_refused(tmp_path):
    fifo = tmp_path / 'ca.fifo'
    os.mkfifo(str(fifo))
    with pytest.raises(InvalidInputError) as err:
        auth.AzureSettings(dict(ca_bundle=str(fifo)), environ={})
    assert 'not a regular file' in err.value.message
    with pytest.raises(InvalidInputError) as err:
        auth.AzureSettings(dict(ca_bundle=str(tmp_path)), environ={})
    assert err.value.option == 'ca_bundle'


def test_ca_bundle_from_the_environment_azure_core_reads():
    settings = auth.AzureSettings({}, environ=dict(REQUESTS_CA_BUNDLE=certifi.where()))
    assert settings.transport_kwargs() == dict(connection_verify=certifi.where())


# Issue: the conventions azure.azcollection users already have.

def test_auth_source_from_ansible_azure_auth_source():
    p = plan(dict(subscription_id=SUB), environ=dict(ANSIBLE_AZURE_AUTH_SOURCE='cli', AZURE_CLIENT_ID=CLIENT,
                                                     AZURE_CLIENT_SECRET='x', AZURE_TENANT_ID=TENANT))
    assert p.class_name == 'AzureCliCredential'
    p = plan(dict(SP, auth_source='env', secret='x'), environ=dict(ANSIBLE_AZURE_AUTH_SOURCE='cli'))
    assert p.class_name == 'ClientSecretCredential'


def test_bad_ansible_azure_auth_source_is_refused_naming_the_variable():
    with pytest.raises(InvalidInputError) as err:
        plan(dict(SP), environ=dict(ANSIBLE_AZURE_AUTH_SOURCE='magic'))
    assert err.value.option == 'auth_source'
    assert 'ANSIBLE_AZURE_AUTH_SOURCE' in err.value.message


def test_azure_profile_selects_the_credentials_file_section(tmp_path):
    (tmp_path / '.azure').mkdir()
    (tmp_path / '.azure' / 'credentials').write_text(
        '[default]\nsubscription_id=d\nclient_id=a\nsecret=b\ntenant=c\n'
        '[prod]\nsubscription_id=prod-sub\nclient_id=pa\nsecret=p%%b\ntenant=pc\n')
    p = plan(environ=dict(AZURE_PROFILE='prod'))
    assert (p.source, p.kwargs['client_id'], p.subscription_id) == ('credential_file', 'pa', 'prod-sub')
    assert p.kwargs['client_secret'] == 'p%%b'
    with pytest.raises(InvalidInputError) as err:
        plan(environ=dict(AZURE_PROFILE='staging'))
    assert err.value.option == 'profile' and 'AZURE_PROFILE' in err.value.message


def test_credentials_file_with_x509_certificate_path(tmp_path):
    (tmp_path / '.azure').mkdir()
    (tmp_path / '.azure' / 'credentials').write_text(
        '[default]\nsubscription_id=s\nclient_id=a\nx509_certificate_path=/tmp/sp.pem\ntenant=c\n')
    p = plan(dict(auth_source='credential_file'))
    assert (p.class_name, p.kwargs['certificate_path']) == ('CertificateCredential', '/tmp/sp.pem')


def test_unparseable_credentials_file_never_quotes_its_lines(tmp_path):
    (tmp_path / '.azure').mkdir()
    (tmp_path / '.azure' / 'credentials').write_text('secret=leaked-value\n')
    with pytest.raises(InvalidInputError) as err:
        plan(dict(auth_source='credential_file'))
    assert 'leaked-value' not in err.value.message
    assert err.value.option == 'profile'


def test_cloud_environment_from_azure_cloud_environment():
    settings = auth.AzureSettings({}, environ=dict(AZURE_CLOUD_ENVIRONMENT='AzureUSGovernment'))
    assert settings.resource_manager_endpoint == 'https://management.usgovcloudapi.net'
    assert settings.authority_host == 'login.microsoftonline.us'
    settings = auth.AzureSettings(dict(cloud_environment='AzureCloud'),
                                  environ=dict(AZURE_CLOUD_ENVIRONMENT='AzureUSGovernment'))
    assert settings.authority_host == 'login.microsoftonline.com'


def test_credentials_file_profile_of_another_cloud_is_not_used_in_this_one(tmp_path):
    (tmp_path / '.azure').mkdir()
    (tmp_path / '.azure' / 'credentials').write_text(
        '[gov]\nsubscription_id=s\nclient_id=a\nsecret=b\ntenant=c\ncloud_environment=AzureUSGovernment\n')
    with pytest.raises(InvalidInputError) as err:
        plan(environ=dict(AZURE_PROFILE='gov'))
    assert err.value.option == 'cloud_environment' and 'AzureUSGovernment' in err.value.message
    p = plan(environ=dict(AZURE_PROFILE='gov', AZURE_CLOUD_ENVIRONMENT='AzureUSGovernment'))
    assert p.kwargs['authority'] == 'login.microsoftonline.us'


@pytest.mark.parametrize('value', ['2022-02-05', '2023-03-01-preview'])
def test_api_version_of_azure_shape(value):
    assert auth.AzureSettings(dict(api_version=value), environ={}).api_version == value


@pytest.mark.parametrize('value', ['latest', '2022-02-05\n', '2022-02-05&x=1', '2022-02-05 '])
def test_api_version_that_would_change_the_query_is_refused(value):
    with pytest.raises(InvalidInputError) as err:
        auth.AzureSettings(dict(api_version=value), environ={})
    assert err.value.option == 'api_version'


def test_profile_named_in_the_task_beats_a_service_principal_in_the_environment(tmp_path):
    (tmp_path / '.azure').mkdir()
    (tmp_path / '.azure' / 'credentials').write_text('[prod]\nsubscription_id=s\nclient_id=pa\nsecret=pb\ntenant=pc\n')
    environ = dict(AZURE_SUBSCRIPTION_ID=SUB, AZURE_TENANT_ID=TENANT, AZURE_CLIENT_ID=CLIENT, AZURE_CLIENT_SECRET='x')
    p = plan(dict(profile='prod'), environ=environ)
    assert (p.source, p.kwargs['client_id']) == ('credential_file', 'pa')
    # from the environment, a profile still comes after the environment's service principal
    assert plan(environ=dict(environ, AZURE_PROFILE='prod')).kwargs['client_id'] == CLIENT
