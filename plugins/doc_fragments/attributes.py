# Copyright: iotops.dps_tls contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The attributes every module of the collection documents: check mode, diff mode and where it runs."""

from __future__ import annotations


class ModuleDocFragment:

    # A module that changes something: a check-mode run decides as a real run and writes nothing.
    DOCUMENTATION = r'''
options: {}
attributes:
  check_mode:
    description: Can run in check_mode and return changed status prediction without modifying target.
    support: full
  diff_mode:
    description: Will return details on what has changed (or possibly needs changing in check_mode), when in diff mode.
    support: full
'''

    # A module that only reads.
    INFO_MODULE = r'''
options: {}
attributes:
  check_mode:
    description: Can run in check_mode and return changed status prediction without modifying target.
    support: full
    details:
      - The module only reads, so check mode runs it unchanged.
  diff_mode:
    description: Will return details on what has changed (or possibly needs changing in check_mode), when in diff mode.
    support: N/A
    details:
      - The module changes nothing, so there is nothing to compare.
'''

    # A module that talks to Azure from wherever it runs (usually the controller).
    AZURE_API = r'''
options: {}
attributes:
  platform:
    description: Target OS/families that can be operated against.
    support: full
    platforms: posix
    details:
      - Runs on the controller (or any host with the Azure SDK) and talks to Azure over HTTPS.
'''

    # A module that works on the managed host itself.
    POSIX = r'''
options: {}
attributes:
  platform:
    description: Target OS/families that can be operated against.
    support: full
    platforms: posix
'''

    # A module whose work is on the controller: its action plugin runs it in the controller's own process.
    CONTROLLER = r'''
options: {}
attributes:
  action:
    description: Indicates this has a corresponding action plugin so some parts of the options can be executed on the controller.
    support: full
  platform:
    description: Target OS/families that can be operated against.
    support: full
    platforms: posix
    details:
      - Runs on the controller, in the controller's own process, whatever host the task is for (C(delegate_to) and
        the connection do not apply).
'''
