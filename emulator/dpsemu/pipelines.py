# Copyright: iotops.dps_tls contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Azure DevOps stand-in: one pipeline job with an Azure Resource Manager service connection (workload identity
federation), and the job's OIDC token endpoint that azure-identity's AzurePipelinesCredential calls.

The agent gives a job SYSTEM_OIDCREQUESTURI and $(System.AccessToken); the credential POSTs to
`SYSTEM_OIDCREQUESTURI?api-version=7.1&serviceConnectionId=<id>` with `Authorization: Bearer <System.AccessToken>`
and gets `{"oidcToken": <JWT>}`, which the Entra ID token endpoint accepts as a client assertion for the app
registration, because the app trusts the service connection's issuer and subject (see auth.py).
"""

import hmac
import os
import secrets
import time
import uuid

from dpsemu import tokens
from dpsemu.server import Response
from dpsemu.store import read_json, write_json

AUDIENCE = "api://AzureADTokenExchange"
# About as long as the idToken AzureCLI@2 hands a step; settable through /_emulator/config.
OIDC_TOKEN_LIFETIME = 600
ORGANIZATION = "dpsemu"
PROJECT = "fleet"
SERVICE_CONNECTION_NAME = "dps-tls-wif"
OIDC_PATH = "/{organization}/{project_id}/_apis/distributedtask/hubs/build/plans/{plan_id}/jobs/{job_id}/oidctoken"


class AzureDevOps:
    """The organization, project, pipeline job and service connection (pipelines.json in the state dir)."""

    def __init__(self, state_dir):
        path = os.path.join(state_dir, "pipelines.json")
        self.data = read_json(path) or {
            "organization": ORGANIZATION,
            "organization_id": str(uuid.uuid4()),
            "project": PROJECT,
            "project_id": str(uuid.uuid4()),
            "plan_id": str(uuid.uuid4()),
            "job_id": str(uuid.uuid4()),
            "service_connection_id": str(uuid.uuid4()),
            "service_connection_name": SERVICE_CONNECTION_NAME,
            "system_access_token": secrets.token_urlsafe(40),
        }
        write_json(path, self.data)

    def __getattr__(self, name):
        try:
            return self.__dict__["data"][name]
        except KeyError as exc:
            raise AttributeError(name) from exc

    @property
    def issuer(self):
        return "https://vstoken.dev.azure.com/%s" % self.organization_id

    @property
    def subject(self):
        # The subject Azure DevOps puts in a service connection's tokens, and the federated credential matches.
        return "sc://%s/%s/%s" % (self.organization, self.project, self.service_connection_name)

    def oidc_request_uri(self, base_url):
        return base_url + OIDC_PATH.format(**self.data)


def _error(status, type_key, message):
    # Shaped like an Azure DevOps error; azure-identity fails on the status and quotes the message.
    return Response(status, {"$id": "1", "innerException": None, "message": message,
                             "typeName": "Microsoft.TeamFoundation.%s" % type_key, "typeKey": type_key,
                             "errorCode": 0, "eventId": 3000})


def create_oidc_token(app, request, organization, project_id, plan_id, job_id):
    """POST {SYSTEM_OIDCREQUESTURI}?api-version=7.1&serviceConnectionId=<id> (Distributed Task, Oidctoken Create)."""
    devops = app.pipelines
    scheme, _sep, presented = (request.headers.get("Authorization") or "").partition(" ")
    expected = devops.system_access_token.encode()
    if scheme.lower() != "bearer" or not hmac.compare_digest(presented.strip().encode(), expected):
        # What Azure DevOps answers a wrong or expired System.AccessToken (with X-TFS-FedAuthRedirect: Suppress).
        return _error(401, "UnauthorizedRequestException",
                      "TF400813: The user '' is not authorized to access this resource.")
    job = (organization.lower(), project_id.lower(), plan_id.lower(), job_id.lower())
    if job != (devops.organization, devops.project_id, devops.plan_id, devops.job_id):
        return _error(404, "TaskOrchestrationJobNotFoundException",
                      "The job %s of plan %s was not found." % (job_id, plan_id))
    if not request.query.get("api-version"):
        return _error(400, "VssVersionNotSpecifiedException", "No api-version was supplied for the POST request.")
    connection = request.query.get("serviceConnectionId") or ""
    if connection.lower() != devops.service_connection_id:
        return _error(404, "ServiceEndpointNotFoundException",
                      "Service connection '%s' does not exist or is not authorized for this pipeline." % connection)
    now = int(time.time())
    claims = {"iss": devops.issuer, "sub": devops.subject, "aud": AUDIENCE, "iat": now, "nbf": now,
              "exp": now + int(app.config["oidc_token_lifetime"]), "jti": str(uuid.uuid4())}
    token = tokens.encode(claims, app.identity.signing_key, headers={"kid": app.identity.signing_kid})
    return Response(200, {"oidcToken": token}, {"Cache-Control": "no-store"})


def register(router):
    router.add("POST", r"/(?P<organization>[^/]+)/(?P<project_id>[^/]+)/_apis/distributedtask/hubs/build/plans/"
                       r"(?P<plan_id>[^/]+)/jobs/(?P<job_id>[^/]+)/oidctoken", create_oidc_token)
