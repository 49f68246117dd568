# Copyright: iotops.dps_tls contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The steps that bring a CA certificate on DPS to the desired state, and what check mode predicts of them."""

from __future__ import annotations

from ansible_collections.iotops.dps_tls.plugins.module_utils._common.errors import InvalidInputError


def plan(desired, current):
    """The steps that bring `current` (a view, or None) to `desired`: upload, prove, code, delete."""
    if desired.state == 'absent':
        return ['delete'] if current is not None else []
    steps = []
    same = current is not None and current['thumbprint'] == desired.thumbprint
    if not same:
        steps.append('upload')
    verified_now = same and current['is_verified']
    if desired.verified and not verified_now:
        if desired.key is not None:
            steps.append('prove')
        elif desired.proof is not None:
            steps.append('verify')
        else:
            steps.append('code')
    return steps


def predicted(desired, current, steps):
    """What check mode reports: the reading as it would be after the steps."""
    if 'delete' in steps:
        return None
    view = dict(current or {}, **desired.view())
    view.setdefault('etag', None)
    if 'upload' in steps:
        view.update(is_verified=False, etag=None)
    if 'prove' in steps or 'verify' in steps:
        view['is_verified'] = True
    return view


def refuse_verify_without_code(desired, current):
    """A verification certificate proves a code DPS issued for the certificate as uploaded now; an upload voids it."""
    if current is None:
        why = 'is not uploaded to DPS instance %s yet' % desired.dps_name
    else:
        why = 'on DPS instance %s holds another certificate that this task would replace' % desired.dps_name
    raise InvalidInputError(
        'verification_certificate',
        'certificate %s %s, so DPS has no verification code it could prove. Run the task without '
        'verification_certificate first: it uploads the certificate and returns the verification code; then issue '
        'the verification certificate with that code as its subject CN and run again with it. Nothing was changed.' % (
            desired.name, why))
