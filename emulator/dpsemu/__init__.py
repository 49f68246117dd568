# Copyright: iotops.dps_tls contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Offline emulator of the Azure IoT Hub Device Provisioning Service management plane and Entra ID."""

__version__ = "0.1.0"
