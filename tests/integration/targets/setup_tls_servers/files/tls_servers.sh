# shellcheck shell=bash
# Test TLS servers on free loopback ports, for targets that source this file:
#   source ../setup_tls_servers/files/tls_servers.sh
#   tls_servers_init DIR        # test PKI in DIR/pki, cleanup on exit
#   tls_server NAME ARGS...     # openssl s_server ARGS on a free port; "NAME_port: N" into DIR/servers.yml
#   tls_silent_server NAME      # accepts TCP and never answers
# The s_server variants the DPS tests need are started by tls_servers_start_all.

TLS_SERVERS_FILES="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
TLS_SERVERS_PYTHON="${ANSIBLE_TEST_PYTHON_INTERPRETER:-python3}"
TLS_SERVER_PIDS=()
# The 12 suites of the DPS policy, in its order of preference.
DPS_SUITES="ECDHE-RSA-AES256-GCM-SHA384:ECDHE-RSA-AES128-GCM-SHA256:ECDHE-RSA-AES256-SHA384:ECDHE-RSA-AES128-SHA256"
DPS_SUITES="${DPS_SUITES}:ECDHE-RSA-AES256-SHA:ECDHE-RSA-AES128-SHA:AES256-GCM-SHA384:AES128-GCM-SHA256"
DPS_SUITES="${DPS_SUITES}:AES256-SHA256:AES128-SHA256:AES256-SHA:AES128-SHA"

tls_servers_cleanup() {
    local pid
    for pid in "${TLS_SERVER_PIDS[@]}"; do
        kill "$pid" 2>/dev/null || true
    done
    if [ -n "${TLS_SERVERS_DIR:-}" ]; then
        rm -rf "$TLS_SERVERS_DIR"
    fi
}

tls_servers_init() {
    TLS_SERVERS_DIR="$1"
    mkdir -p "$TLS_SERVERS_DIR"
    trap tls_servers_cleanup EXIT
    "$TLS_SERVERS_PYTHON" "$TLS_SERVERS_FILES/make_test_pki.py" "$TLS_SERVERS_DIR/pki"
    printf 'tls_pki: %s\n' "$TLS_SERVERS_DIR/pki" > "$TLS_SERVERS_DIR/servers.yml"
}

# Waits for the "ACCEPT host:port" line both servers print once they listen.
_tls_server_wait() {
    local name="$1" log="$2" pid="$3" port="" tries=0
    while [ -z "$port" ]; do
        if ! kill -0 "$pid" 2>/dev/null || [ "$tries" -ge 100 ]; then
            echo "server $name did not start:" >&2
            cat "$log" >&2
            return 1
        fi
        sleep 0.1
        tries=$((tries + 1))
        port="$(sed -n 's/^ACCEPT .*:\([0-9][0-9]*\)$/\1/p' "$log" | head -n 1)"
    done
    printf '%s_port: %s\n' "$name" "$port" >> "$TLS_SERVERS_DIR/servers.yml"
    eval "${name}_port=$port"
}

tls_server() {
    local name="$1"
    shift
    openssl s_server -accept 127.0.0.1:0 -www "$@" < /dev/null > "$TLS_SERVERS_DIR/$name.log" 2>&1 &
    TLS_SERVER_PIDS+=("$!")
    _tls_server_wait "$name" "$TLS_SERVERS_DIR/$name.log" "$!"
}

tls_silent_server() {
    local name="$1"
    "$TLS_SERVERS_PYTHON" "$TLS_SERVERS_FILES/silent_server.py" > "$TLS_SERVERS_DIR/$name.log" 2>&1 &
    TLS_SERVER_PIDS+=("$!")
    _tls_server_wait "$name" "$TLS_SERVERS_DIR/$name.log" "$!"
}

tls_servers_start_all() {
    local pki="$TLS_SERVERS_DIR/pki"
    local rsa=(-cert "$pki/leaf_rsa.crt" -key "$pki/leaf_rsa.key" -cert_chain "$pki/intermediate.crt")
    local dps=(-tls1_2 -cipher "$DPS_SUITES:@SECLEVEL=0" -serverpref -groups P-256:P-384)
    tls_server dps "${rsa[@]}" "${dps[@]}"
    tls_server permissive "${rsa[@]}" -cipher "ALL:@SECLEVEL=0"
    tls_server tls13_only "${rsa[@]}" -tls1_3
    tls_server p384_only "${rsa[@]}" -tls1_2 -cipher "$DPS_SUITES:@SECLEVEL=0" -serverpref -groups P-384
    tls_server legacy_only "${rsa[@]}" -tls1_2 -cipher "AES256-SHA:AES128-SHA:@SECLEVEL=0"
    tls_server ecdsa_leaf -cert "$pki/leaf_ecdsa.crt" -key "$pki/leaf_ecdsa.key" \
        -cert_chain "$pki/intermediate.crt" -tls1_2
    tls_server expired_leaf -cert "$pki/leaf_expired.crt" -key "$pki/leaf_expired.key" \
        -cert_chain "$pki/intermediate.crt" "${dps[@]}"
    tls_server expiring_leaf -cert "$pki/leaf_expiring.crt" -key "$pki/leaf_expiring.key" \
        -cert_chain "$pki/intermediate.crt" "${dps[@]}"
    tls_server untrusted_root -cert "$pki/leaf_untrusted.crt" -key "$pki/leaf_untrusted.key" "${dps[@]}"
    tls_server mutual_tls "${rsa[@]}" "${dps[@]}" -Verify 1 -verify_return_error \
        -CAfile "$pki/client_ca.crt"
    tls_server sni "${rsa[@]}" "${dps[@]}" -servername other.test \
        -cert2 "$pki/leaf_other_name.crt" -key2 "$pki/leaf_other_name.key"
    tls_silent_server silent
}
