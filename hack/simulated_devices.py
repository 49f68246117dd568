# Copyright: iotops.dps_tls contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The simulated devices tool ships in the collection as emulator/simdevices (`python -m simdevices`); this path
keeps the checkout's scripts and tests working."""

import os
import runpy
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), os.pardir, "emulator"))
runpy.run_module("simdevices", run_name="__main__", alter_sys=True)
