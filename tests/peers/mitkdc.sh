#!/usr/bin/env bash
# mitkdc.sh: a private MIT Kerberos KDC on loopback, for the Kerberos V5 / GSS-API interop tests
# and for trying things by hand.
#
#   tests/peers/mitkdc.sh start DIR PORT [REALM]   # ~0.5 s; prints nothing on stdout
#   tests/peers/mitkdc.sh stop DIR                 # SIGTERM (SIGKILL after 5 s); no-op if none
#
# `start` creates the realm REALM (default SEALSTREAM.TEST) and serves it with `krb5kdc -n` on
# 127.0.0.1:PORT, UDP and TCP. Everything lives in DIR (created, regenerated on every start; a
# KDC still running from DIR is killed first): krb5.conf, kdc.conf, the db2 database (principal*),
# the stash file, service.keytab, alice.keytab, passwords.txt, env, krb5kdc.pid, kdc.log. It runs
# as the calling user and, apart from the MIT binaries and libraries, reads and writes nothing
# outside DIR (/etc/krb5.conf and /etc/krb5kdc are not used: KRB5_CONFIG and KRB5_KDC_PROFILE
# point into DIR). `. DIR/env` sets KRB5_CONFIG, KRB5_KDC_PROFILE, KRB5RCACHEDIR (replay caches of
# acceptors such as gss-server, kept in DIR) and REALM.
#
# Needs the Debian packages krb5-kdc (krb5kdc, kdb5_util), krb5-admin-server (kadmin.local) and
# krb5-user (kinit, for the readiness check). This script never installs them:
# scripts/install-test-deps.sh does.
#
# Principals (passwords also in DIR/passwords.txt, one "principal password" line each):
#   alice@REALM            "alice-password", the four AES enctypes, requires_preauth;
#                          her keys (kvno 1) also in DIR/alice.keytab (ktadd -norandkey)
#   bob@REALM              "bob-password", aes128-cts-hmac-sha256-128 only, requires_preauth
#   carol@REALM            "carol-password", aes256-cts-hmac-sha1-96 only, requires_preauth
#   host/localhost@REALM   random keys, the four AES enctypes, in DIR/service.keytab
#   ldap/localhost@REALM   (same)
#   imap/localhost@REALM   (same)
#   sealcat/localhost@REALM (same; `sealcat listen --sasl gssapi`)
# The four AES enctypes: aes256-cts-hmac-sha1-96 aes128-cts-hmac-sha1-96
# aes256-cts-hmac-sha384-192 aes128-cts-hmac-sha256-128 (no DES, RC4 or Camellia anywhere).
# krb5.conf turns off DNS and reverse-DNS lookups and host name canonicalisation, and maps the
# host "localhost" to REALM, so the GSS host-based name service@localhost is service/localhost@REALM.
# The AS exchange is the classic one: KRB-ERROR PREAUTH_REQUIRED, then PA-ENC-TIMESTAMP (SPAKE is
# not configured; krb5kdc logs "(Error): preauth spake failed to initialize: No SPAKE preauth
# groups configured" at every start, which is harmless). MIT 1.20 puts a PAC in every ticket.
# MITKDC_EXTRA_SERVICES="svc/host ...": more services of REALM, in service.keytab too.
# MITKDC_DOMAIN_REALMS="host=OTHER ...": hosts of other realms, for referrals (RFC 6806).
# MITKDC_CROSS_REALMS="OTHER ...": also create krbtgt/OTHER@REALM and krbtgt/REALM@OTHER, with
# keys from one fixed password, so that two KDCs started with each other's realm trust each other.
# Exit status of start: 0 ready; 1 failed (a message containing "already in use" when PORT is
# taken, over TCP or UDP: pick another port); 2 usage; 3 packages missing.
set -euo pipefail

KRB5KDC_BIN=/usr/sbin/krb5kdc
KDB5_UTIL_BIN=/usr/sbin/kdb5_util
KADMIN_LOCAL_BIN=/usr/sbin/kadmin.local
MASTER_PASSWORD=sealstream-master-password
AES_ENCTYPES="aes256-cts-hmac-sha1-96 aes128-cts-hmac-sha1-96 aes256-cts-hmac-sha384-192 aes128-cts-hmac-sha256-128"
AES_KEYSALTS="aes256-cts-hmac-sha1-96:normal,aes128-cts-hmac-sha1-96:normal,aes256-cts-hmac-sha384-192:normal,aes128-cts-hmac-sha256-128:normal"
usage() { echo "usage: $0 start DIR PORT [REALM] | stop DIR" >&2; exit 2; }
# alive PID: running and not a zombie (pid 1 on some CI/VM images reaps orphans only every ~2 s)
alive() { [ -r "/proc/$1/status" ] && ! grep -q '^State:[[:space:]]*Z' "/proc/$1/status" 2>/dev/null; }
# ours PID DIR: the pid is the krb5kdc started from DIR (guards against pid reuse)
ours() { [[ $1 =~ ^[0-9]+$ ]] && tr '\0' ' ' 2>/dev/null <"/proc/$1/cmdline" | grep -qF -- "-P $2/krb5kdc.pid"; }

stop() {
    [ $# -eq 1 ] || usage
    [ -d "$1" ] || exit 0
    DIR=$(cd "$1" && pwd)
    [ -s "$DIR/krb5kdc.pid" ] || exit 0
    pid=$(cat "$DIR/krb5kdc.pid")
    if ours "$pid" "$DIR"; then
        kill "$pid" 2>/dev/null || true
        for _ in $(seq 250); do alive "$pid" || break; sleep 0.02; done
        if alive "$pid"; then kill -9 "$pid" 2>/dev/null || true; sleep 0.05; fi
    fi
    rm -f "$DIR/krb5kdc.pid"
}

start() {
[ $# -ge 2 ] && [ $# -le 3 ] || usage
DIR=$1 PORT=$2 REALM=${3:-SEALSTREAM.TEST}
[[ $PORT =~ ^[0-9]+$ ]] && [ "$PORT" -ge 1 ] && [ "$PORT" -le 65535 ] || { echo "bad PORT: $PORT" >&2; exit 2; }
[[ $REALM =~ ^[A-Za-z0-9][A-Za-z0-9.-]*$ ]] || { echo "bad REALM: $REALM" >&2; exit 2; }
case "$DIR" in ""|/) echo "refusing DIR='$DIR'" >&2; exit 2;; esac
missing=()
[ -x "$KRB5KDC_BIN" ] && [ -x "$KDB5_UTIL_BIN" ] || missing+=(krb5-kdc)
[ -x "$KADMIN_LOCAL_BIN" ] || missing+=(krb5-admin-server)
command -v kinit >/dev/null 2>&1 || missing+=(krb5-user)
if [ ${#missing[@]} -gt 0 ]; then
    echo "mitkdc.sh: missing packages: ${missing[*]} (scripts/install-test-deps.sh installs them)" >&2
    exit 3
fi

# ---- stop a previous instance from this DIR --------------------------------------------------
mkdir -p "$DIR"
DIR=$(cd "$DIR" && pwd)
case "$DIR" in *[[:space:]\"\'\\]*) echo "mitkdc.sh: DIR must not contain blanks or quotes: $DIR" >&2; exit 2;; esac
# (only a pid whose command line is our krb5kdc with this DIR's pid file is touched; its database
#  is thrown away anyway, so SIGKILL)
if [ -s "$DIR/krb5kdc.pid" ]; then
    oldpid=$(cat "$DIR/krb5kdc.pid")
    if ours "$oldpid" "$DIR"; then
        kill -9 "$oldpid" 2>/dev/null || true
        for _ in $(seq 100); do alive "$oldpid" || break; sleep 0.02; done
    fi
fi
rm -f "$DIR"/principal* "$DIR/stash" "$DIR/kdc.conf" "$DIR/krb5.conf" "$DIR/kadm5.acl" \
    "$DIR/service.keytab" "$DIR/alice.keytab" "$DIR/passwords.txt" "$DIR/env" "$DIR/krb5kdc.pid" \
    "$DIR/kdc.log" "$DIR/kadmin.log" "$DIR/kdb5_util.log" "$DIR/probe.ccache" "$DIR/probe.log"

# ---- refuse a port that is already taken (krb5kdc would otherwise fail to bind) ---------------
if (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null; then
    echo "mitkdc.sh: 127.0.0.1:$PORT is already in use" >&2; exit 1
fi
if command -v ss >/dev/null 2>&1 &&
        ss -Hlnu "( sport = :$PORT )" 2>/dev/null | grep -q .; then
    echo "mitkdc.sh: UDP port $PORT is already in use" >&2; exit 1
fi

# ---- configuration ---------------------------------------------------------------------------
cat >"$DIR/krb5.conf" <<EOF
# generated by tests/peers/mitkdc.sh
[libdefaults]
    default_realm = $REALM
    dns_lookup_kdc = false
    dns_lookup_realm = false
    dns_canonicalize_hostname = false
    rdns = false
    allow_weak_crypto = false
    default_tkt_enctypes = $AES_ENCTYPES
    default_tgs_enctypes = $AES_ENCTYPES
    permitted_enctypes = $AES_ENCTYPES
    ticket_lifetime = 10h
    renew_lifetime = 7d
    forwardable = true

[realms]
    $REALM = {
        kdc = 127.0.0.1:$PORT
    }

[domain_realm]
    localhost = $REALM
    127.0.0.1 = $REALM
EOF
# MITKDC_DOMAIN_REALMS="host=REALM ...": hosts of other realms, which this KDC answers with a
# referral (RFC 6806) when asked for a host-based service on them.
for mapping in ${MITKDC_DOMAIN_REALMS:-}; do
    [[ $mapping =~ ^[A-Za-z0-9.-]+=[A-Za-z0-9][A-Za-z0-9.-]*$ ]] || { echo "bad mapping in MITKDC_DOMAIN_REALMS: $mapping" >&2; exit 2; }
    printf '    %s = %s\n' "${mapping%%=*}" "${mapping#*=}" >>"$DIR/krb5.conf"
done

cat >"$DIR/kdc.conf" <<EOF
# generated by tests/peers/mitkdc.sh
[kdcdefaults]
    kdc_listen = 127.0.0.1:$PORT
    kdc_tcp_listen = 127.0.0.1:$PORT

[realms]
    $REALM = {
        database_name = $DIR/principal
        key_stash_file = $DIR/stash
        acl_file = $DIR/kadm5.acl
        admin_keytab = FILE:$DIR/kadm5.keytab
        kdc_listen = 127.0.0.1:$PORT
        kdc_tcp_listen = 127.0.0.1:$PORT
        master_key_type = aes256-cts-hmac-sha1-96
        supported_enctypes = ${AES_KEYSALTS//,/ }
        max_life = 10h 0m 0s
        max_renewable_life = 7d 0h 0m 0s
    }

[logging]
    kdc = FILE:$DIR/kdc.log
    admin_server = FILE:$DIR/kadmin.log
    default = FILE:$DIR/kdc.log
EOF
: >"$DIR/kadm5.acl"

export KRB5_CONFIG="$DIR/krb5.conf" KRB5_KDC_PROFILE="$DIR/kdc.conf" KRB5RCACHEDIR="$DIR"
unset KRB5CCNAME KRB5_KTNAME KRB5_CLIENT_KTNAME KRB5_TRACE

# ---- database and principals -----------------------------------------------------------------
"$KDB5_UTIL_BIN" -r "$REALM" create -s -P "$MASTER_PASSWORD" >"$DIR/kdb5_util.log" 2>&1 || {
    echo "mitkdc.sh: kdb5_util create failed:" >&2; cat "$DIR/kdb5_util.log" >&2; exit 1; }

kadmin() { # kadmin.local query; its output goes to kadmin.log, a failure shows it
    if ! "$KADMIN_LOCAL_BIN" -r "$REALM" -q "$1" >>"$DIR/kadmin.log" 2>&1 ||
            grep -qiE 'error|failed|unable|usage' "$DIR/kadmin.log"; then
        echo "mitkdc.sh: kadmin.local -q '${1%%-pw *}...' failed:" >&2; tail -n 20 "$DIR/kadmin.log" >&2
        exit 1
    fi
}
kadmin "addprinc +requires_preauth -e $AES_KEYSALTS -pw alice-password alice@$REALM"
kadmin "addprinc +requires_preauth -e aes128-cts-hmac-sha256-128:normal -pw bob-password bob@$REALM"
kadmin "addprinc +requires_preauth -e aes256-cts-hmac-sha1-96:normal -pw carol-password carol@$REALM"
services="host/localhost@$REALM ldap/localhost@$REALM imap/localhost@$REALM sealcat/localhost@$REALM"
for extra in ${MITKDC_EXTRA_SERVICES:-}; do
    [[ $extra =~ ^[a-z]+/[A-Za-z0-9.-]+$ ]] || { echo "bad service in MITKDC_EXTRA_SERVICES: $extra" >&2; exit 2; }
    services+=" $extra@$REALM"
done
for svc in $services; do
    kadmin "addprinc -randkey -e $AES_KEYSALTS $svc"
done
kadmin "ktadd -k $DIR/service.keytab -e $AES_KEYSALTS $services"
kadmin "ktadd -k $DIR/alice.keytab -norandkey alice@$REALM"
# Cross-realm trust: the same keys for krbtgt/OTHER@REALM and krbtgt/REALM@OTHER in every KDC
# started with the other realm in MITKDC_CROSS_REALMS (both derive them from one password and
# the default salt), so each realm's users can get tickets in the other.
for other in ${MITKDC_CROSS_REALMS:-}; do
    [[ $other =~ ^[A-Za-z0-9][A-Za-z0-9.-]*$ ]] || { echo "bad realm in MITKDC_CROSS_REALMS: $other" >&2; exit 2; }
    kadmin "addprinc -e $AES_KEYSALTS -pw cross-realm-password krbtgt/$other@$REALM"
    kadmin "addprinc -e $AES_KEYSALTS -pw cross-realm-password krbtgt/$REALM@$other"
done
printf '%s\n' "alice@$REALM alice-password" "bob@$REALM bob-password" "carol@$REALM carol-password" \
    >"$DIR/passwords.txt"
{
    printf 'export KRB5_CONFIG=%q\n' "$DIR/krb5.conf"
    printf 'export KRB5_KDC_PROFILE=%q\n' "$DIR/kdc.conf"
    printf 'export KRB5RCACHEDIR=%q\n' "$DIR"
    printf 'export REALM=%q\n' "$REALM"
} >"$DIR/env"

# ---- start in the background ------------------------------------------------------------------
# -n keeps krb5kdc in the foreground (no fork) so $! is its pid; -P puts DIR on its command line
# (for `ours`) and makes it write the same pid. All three fds are redirected so a caller reading
# our stdout/stderr (Rust Command::output) sees EOF at once.
"$KRB5KDC_BIN" -n -r "$REALM" -P "$DIR/krb5kdc.pid" </dev/null >>"$DIR/kdc.log" 2>&1 &
pid=$!
echo "$pid" >"$DIR/krb5kdc.pid"

# ---- wait until it issues a TGT to alice (an AS exchange with pre-authentication) -------------
deadline=$((SECONDS + 10))
while [ $SECONDS -lt $deadline ]; do
    if ! alive "$pid"; then
        if grep -q 'Address already in use' "$DIR/kdc.log" 2>/dev/null; then
            echo "mitkdc.sh: 127.0.0.1:$PORT is already in use (krb5kdc could not bind it); log:" >&2
        else
            echo "mitkdc.sh: krb5kdc exited; log:" >&2
        fi
        tail -n 30 "$DIR/kdc.log" >&2; rm -f "$DIR/krb5kdc.pid"; exit 1
    fi
    if echo alice-password | KRB5CCNAME="FILE:$DIR/probe.ccache" timeout 3 kinit "alice@$REALM" \
            >"$DIR/probe.log" 2>&1; then
        rm -f "$DIR/probe.ccache" "$DIR/probe.log"
        echo "mitkdc.sh: krb5kdc pid $pid serving $REALM on 127.0.0.1:$PORT (udp+tcp); . $DIR/env" >&2
        exit 0
    fi
    sleep 0.05
done
echo "mitkdc.sh: krb5kdc did not issue a ticket within 10 s; kinit said:" >&2
cat "$DIR/probe.log" >&2 2>/dev/null || true
echo "kdc.log:" >&2; tail -n 30 "$DIR/kdc.log" >&2
kill "$pid" 2>/dev/null || true
rm -f "$DIR/probe.ccache" "$DIR/krb5kdc.pid"
exit 1
}

case "${1:-}" in
    start) shift; start "$@" ;;
    stop) shift; stop "$@" ;;
    *) usage ;;
esac
