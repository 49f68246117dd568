#!/usr/bin/env bash
# tls_probe against real openssl s_server variants, cross-checked with nmap and openssl s_client.
# The emulator's device endpoint is probed in the device_endpoint target.
set -eux

source ../setup_tls_servers/files/tls_servers.sh

work="$(mktemp -d)"
tls_servers_init "$work"
tls_servers_start_all

# What the reference tools say about the same servers, for the playbook to compare with (nmap says TLSv1.0).
for name in dps permissive tls13_only; do
    port_var="${name}_port"
    port="${!port_var}"
    nmap -Pn -n -p "$port" --script ssl-enum-ciphers -oX "$work/nmap_$name.xml" 127.0.0.1 > /dev/null
    grep -o '<elem key="name">TLS_[A-Z0-9_]*</elem>' "$work/nmap_$name.xml" \
        | sed 's/<[^>]*>//g' | sort -u > "$work/nmap_${name}_suites.txt"
    grep -o '<table key="TLSv1[.0-9]*">' "$work/nmap_$name.xml" \
        | sed -e 's/.*key="\([^"]*\)".*/\1/' -e 's/^TLSv1\.0$/TLSv1/' | sort -u > "$work/nmap_${name}_protocols.txt"
    : > "$work/openssl_${name}_protocols.txt"
    for flag in tls1:TLSv1 tls1_1:TLSv1.1 tls1_2:TLSv1.2 tls1_3:TLSv1.3; do
        if timeout 20 openssl s_client -connect "127.0.0.1:$port" "-${flag%%:*}" -cipher 'ALL:@SECLEVEL=0' \
                < /dev/null > "$work/s_client.out" 2>&1; then
            echo "${flag##*:}" >> "$work/openssl_${name}_protocols.txt"
        fi
    done
done

# A port nobody listens on: bind one, note it, close it.
closed_port="$("$TLS_SERVERS_PYTHON" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
printf 'closed_port: %s\ntls_work: %s\n' "$closed_port" "$work" >> "$work/servers.yml"

# A server that answers the first handshake and then goes away: every later handshake gets no answer.
tls_server once -cert "$TLS_SERVERS_DIR/pki/leaf_rsa.crt" -key "$TLS_SERVERS_DIR/pki/leaf_rsa.key" -tls1_2 -naccept 1

ansible-playbook -i "${INVENTORY_PATH:-localhost,}" -c local -e "@$work/servers.yml" "$@" probe.yml
