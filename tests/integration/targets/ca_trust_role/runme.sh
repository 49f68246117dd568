#!/usr/bin/env bash
# The root_ca_trust role on this host, in a private mount namespace: /etc gets a writable overlay (for
# /etc/environment and /etc/aziot), then the private trust store of setup_trust_store sits on top of it.
# Java runs the real keytool on a JDK home with its own keystore; IoT Edge is a stand-in `iotedge` that
# records its arguments (the real one needs the aziot daemons).
set -eux
case "${1:-}" in
  --in-overlay)
    shift
    work=$(mktemp -d /tmp/root-ca-trust.XXXXXX)
    mkdir -p "$work/etc-up" "$work/etc-work"
    mount -t overlay overlay -o "lowerdir=/etc,upperdir=$work/etc-up,workdir=$work/etc-work" /etc
    exec ../setup_trust_store/files/private_trust_store.sh "$0" --in-store "$work" "$@"
    ;;
  --in-store)
    work=$2
    shift 2
    keytool=$(readlink -f "$(command -v keytool)")
    for home in jdk-own jdk-os; do mkdir -p "$work/$home/bin" "$work/$home/lib/security"; ln -s "$keytool" "$work/$home/bin/keytool"; done
    keytool -importcert -noprompt -alias seed -file /usr/share/ca-certificates/mozilla/ISRG_Root_X1.crt \
      -keystore "$work/jdk-own/lib/security/cacerts" -storepass changeit
    # a distribution JDK: its keystore is a link to the one the OS store feeds
    ln -s /etc/ssl/certs/java/cacerts "$work/jdk-os/lib/security/cacerts"
    mkdir -p /etc/aziot "$work/bin"
    printf '# IoT Edge\nhostname = "gateway"\n\n[provisioning]\nsource = "dps"\n' > /etc/aziot/config.toml
    printf '#!/bin/sh\necho "$@" >> %s/iotedge.log\n' "$work" > "$work/bin/iotedge"
    chmod +x "$work/bin/iotedge"
    export PATH="$work/bin:$PATH"
    ansible-playbook role.yml -e work="$work" "$@"
    ansible-playbook role_again.yml -e work="$work" "$@" | tee "$work/again.log"
    grep -qE '^localhost .* changed=0 .*failed=0' "$work/again.log"
    ;;
  *)
    source ../setup_collection/collection_root.sh
    ansible-playbook windows_without_facts.yml -e collection_root="$(collection_root)" "$@"
    exec unshare -m --propagation private "$0" --in-overlay "$@"
    ;;
esac
