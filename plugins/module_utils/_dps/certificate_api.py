# Copyright: iotops.dps_tls contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The API calls on the CA certificates of a DPS instance: errors mapped, absent told apart from every other 404,
a 412 reported as EtagConflict, and every write sent through errors.Writes."""

from __future__ import annotations

from ansible_collections.iotops.dps_tls.plugins.module_utils._azure.errors import Writes, read_or_none


class EtagConflict(Exception):
    """DPS answered 412: the certificate changed since it was read. done: the steps that went through before."""

    done = ()


class DpsCertificates:
    """The certificate operations of an IotDpsClient, with errors mapped and 412 reported as EtagConflict.

    writes records whether Azure accepted a write of this task (errors.Writes), so that a later failure is
    reported as changed.
    """

    def __init__(self, client, azure_errors, resource_group, dps_name, waiter=None):
        self.ops = client.dps_certificate
        self.instances = client.iot_dps_resource
        self.azure_errors = azure_errors
        self.writes = Writes(azure_errors, waiter)
        self.where = dict(resource_group_name=resource_group, provisioning_service_name=dps_name)
        self.dps_name = dps_name

    def _write(self, operation, method, **kwargs):
        from azure.core.exceptions import HttpResponseError
        with self.writes.sending(operation):
            try:
                result = method(**dict(self.where, **kwargs))
            except HttpResponseError as exc:
                if exc.status_code == 412:
                    raise EtagConflict(operation)
                raise
        return result.as_dict() if hasattr(result, 'as_dict') else result

    @staticmethod
    def _if_match(etag):
        from azure.core import MatchConditions
        return dict(etag=etag, match_condition=MatchConditions.IfNotModified)

    def get(self, name):
        """The certificate as a plain dict, or None when DPS says it does not exist (and only then)."""
        found = read_or_none(self.azure_errors, 'reading certificate %s of DPS instance %s' % (name, self.dps_name),
                             lambda: self.ops.get(certificate_name=name, **self.where))
        return found.as_dict() if found is not None else None

    def instance_exists(self):
        return read_or_none(self.azure_errors, 'reading DPS instance %s' % self.dps_name,
                            lambda: self.instances.get(**self.where)) is not None

    def list(self):
        with self.azure_errors('listing the certificates of DPS instance %s' % self.dps_name):
            result = self.ops.list(**self.where)
        return [item.as_dict() for item in (result.value or [])]

    def upload(self, name, body, etag=None):
        kwargs = self._if_match(etag) if etag else {}
        return self._write('uploading certificate %s to DPS instance %s' % (name, self.dps_name),
                           self.ops.create_or_update, certificate_name=name, certificate_description=body, **kwargs)

    def generate_code(self, name, etag):
        return self._write('generating a verification code for certificate %s' % name,
                           self.ops.generate_verification_code, certificate_name=name, **self._if_match(etag))

    def verify(self, name, etag, verification_pem):
        return self._write('verifying certificate %s' % name, self.ops.verify_certificate, certificate_name=name,
                           request={'certificate': verification_pem}, **self._if_match(etag))

    def delete(self, name, etag):
        return self._write('deleting certificate %s from DPS instance %s' % (name, self.dps_name),
                           self.ops.delete, certificate_name=name, **self._if_match(etag))
