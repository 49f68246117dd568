#!/usr/bin/env bash
# The emulator's device endpoint with real clients: the azure-iot-device SDK (MQTT on the fixed port 8883),
# Python's ssl, and tls_probe. The SDK cannot use another port, so this target needs 8883 for itself.
set -euo pipefail
cd "$(dirname "$0")"
# shellcheck source=../setup_emulator/emulator.sh
source ../setup_emulator/emulator.sh
# Another emulator started without --device-port holds 8883 while it runs (a short test run, usually): try for
# up to 2 minutes, then fail and say why.
# The device endpoint answers "assigning" with this retry-after; the SDK must wait it out twice.
DEVICE_RETRY_AFTER=1
export DEVICE_RETRY_AFTER
waited=0
until start_emulator --provisioning-delay 0 --retry-after 0 --device-retry-after "$DEVICE_RETRY_AFTER" --device-port 8883 \
    --device-websocket-port 443 2>/dev/null; do
    if [ "$waited" -ge 120 ]; then
        echo "device_endpoint: port 8883 on 127.0.0.1 stayed busy for 2 minutes (another emulator or MQTT" \
             "broker?); this target needs it because the device SDK's MQTT port is fixed." >&2
        ss -ltnp 'sport = :8883' >&2 || true
        exit 1
    fi
    sleep 2
    waited=$((waited + 2))
done
DEVICES_DIR="$DPSEMU_WORK_DIR/devices"
export DEVICES_DIR
ansible-playbook -i "${INVENTORY_PATH:-localhost,}" runme.yml "$@"
