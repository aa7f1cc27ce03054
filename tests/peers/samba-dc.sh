#!/usr/bin/env bash
# samba-dc.sh: a Samba Active Directory domain controller on loopback, for the interop tests that
# bind to AD with Kerberos (and for trying things by hand).
#
#   tests/peers/samba-dc.sh start DIR    # ~10 s (provisioning 5-25 s on a loaded machine)
#   tests/peers/samba-dc.sh stop DIR     # SIGTERM (SIGKILL after 10 s); no-op if none
#
# `start` provisions the domain SEALSTREAM.TEST (NetBIOS SEALSTREAM, DC dc1.sealstream.test) into
# DIR (created; regenerated on every start, a DC still running from DIR is stopped first) and runs
# `samba` with only its LDAP, CLDAP and KDC services, on 127.0.0.1: LDAP on 389 and the KDC on 88
# (Samba cannot move them, so one DC runs per machine at a time), and LDAPS on 636. It enforces
# "LDAP server signing required" as Active Directory does (`ldap server require strong auth =
# allow_sasl_over_tls`): without TLS a simple bind is refused with result 8, "BindSimple:
# Transport encryption required.", and a SASL bind without a signing or sealing layer with
# result 8 (which Samba words "not allowed if TLS is used"); over TLS (a certificate made here for
# dc1.sealstream.test and 127.0.0.1, its CA in DIR/ca.pem) simple binds and SASL binds without a
# layer work, and a SASL bind with a layer is refused with result 53, "Sign or Seal are not
# allowed if TLS is used". (With `= yes`, Samba 4.17 also refuses SASL without a layer over TLS,
# which Active Directory allows.)
#
# Samba must resolve its own name dc1.sealstream.test; it runs in a mount namespace of its own
# (`unshare -m`) with DIR/hosts and DIR/resolv.conf bind-mounted over /etc/hosts and
# /etc/resolv.conf, so nothing outside changes and no lookup leaves loopback. Clients need no
# resolution: connect to 127.0.0.1 and ask for ldap/dc1.sealstream.test. That needs root (the
# mount namespace, and ports 88 and 389).
#
# DIR afterwards: krb5.conf (for clients: the realm's KDC at 127.0.0.1:88), ca.pem (the LDAPS
# certificate), env (`. DIR/env` sets
# KRB5_CONFIG and REALM), dc/ (Samba's own: smb.conf, private/, state/, log/; run/session.pid
# the leader of the session and process group samba runs in).
#
# Accounts (passwords also in DIR/passwords.txt, one "user password" line each):
#   alice     "Alice-Pass-1234"; her jpegPhoto is 300,000 bytes, byte i = ALNUM[i % 62]
#             where ALNUM = A-Z a-z 0-9 (a search result of many frames)
#   Administrator  "Admin-Pass-1234"
# The DC's account has the SPNs ldap/dc1.sealstream.test, HOST/dc1.sealstream.test and the rest
# `samba_spnupdate` adds (provisioning leaves them out when the dnsupdate task is off).
#
# Needs the Debian packages samba, samba-ad-dc, samba-ad-provision, samba-dsdb-modules and
# winbind, and krb5-user (kinit, for the readiness check). This script never installs them:
# scripts/install-test-deps.sh does.
# Exit status of start: 0 ready; 1 failed (a message containing "already in use" when port 88 or
# 389 is taken); 2 usage; 3 packages missing or not root.
set -euo pipefail

REALM=SEALSTREAM.TEST
DOMAIN=SEALSTREAM
HOST=dc1
FQDN=dc1.sealstream.test
BASE_DN=DC=sealstream,DC=test
ALICE_PASSWORD=Alice-Pass-1234
ADMIN_PASSWORD=Admin-Pass-1234
SYSTEM_PYTHON=/usr/bin/python3 # Samba's bindings are for Debian's python, not another on PATH
usage() { echo "usage: $0 start DIR | stop DIR" >&2; exit 2; }
alive() { [ -r "/proc/$1/status" ] && ! grep -q '^State:[[:space:]]*Z' "/proc/$1/status" 2>/dev/null; }
# ours PID DIR: the pid leads the session `start` put samba in, for DIR (guards against pid reuse;
# samba rewrites its own command line, so the session leader's, which names DIR, is checked)
ours() { [[ $1 =~ ^[0-9]+$ ]] && tr '\0' ' ' 2>/dev/null <"/proc/$1/cmdline" | grep -qF -- "$2/dc/smb.conf"; }
# group_alive PGID: some process of the group is still running
group_alive() { pgrep -g "$1" >/dev/null 2>&1; }

stop() {
    [ $# -eq 1 ] || usage
    [ -d "$1" ] || exit 0
    DIR=$(cd "$1" && pwd)
    pidfile="$DIR/dc/run/session.pid"
    [ -s "$pidfile" ] || exit 0
    pid=$(cat "$pidfile")
    if ours "$pid" "$DIR"; then
        # samba and all its workers are in the session's process group
        kill -TERM -- "-$pid" 2>/dev/null || true
        for _ in $(seq 500); do group_alive "$pid" || break; sleep 0.02; done
        if group_alive "$pid"; then kill -9 -- "-$pid" 2>/dev/null || true; sleep 0.1; fi
    fi
    rm -f "$pidfile"
}

start() {
[ $# -eq 1 ] || usage
DIR=$1
case "$DIR" in ""|/) echo "refusing DIR='$DIR'" >&2; exit 2;; esac
missing=()
command -v samba >/dev/null 2>&1 || missing+=(samba samba-ad-dc)
command -v samba-tool >/dev/null 2>&1 || missing+=(samba-ad-provision)
command -v samba_spnupdate >/dev/null 2>&1 || missing+=(samba-dsdb-modules)
command -v kinit >/dev/null 2>&1 || missing+=(krb5-user)
if [ ${#missing[@]} -gt 0 ]; then
    echo "samba-dc.sh: missing packages: ${missing[*]} (scripts/install-test-deps.sh installs them)" >&2
    exit 3
fi
if [ "$(id -u)" -ne 0 ]; then
    echo "samba-dc.sh: needs root (a mount namespace for its name, ports 88 and 389)" >&2
    exit 3
fi

mkdir -p "$DIR"
DIR=$(cd "$DIR" && pwd)
case "$DIR" in *[[:space:]\"\'\\]*) echo "samba-dc.sh: DIR must not contain blanks or quotes: $DIR" >&2; exit 2;; esac
(stop "$DIR")
for port in 88 389; do
    if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
        echo "samba-dc.sh: 127.0.0.1:$port is already in use" >&2; exit 1
    fi
done
rm -rf "$DIR/dc" "$DIR/krb5.conf" "$DIR/env" "$DIR/passwords.txt" "$DIR/probe.ccache"
D="$DIR/dc"
mkdir -p "$D/run" "$D/log"

# ---- provision, from an empty configuration (not Debian's /etc/samba/smb.conf) -----------------
: >"$D/empty.conf"
samba-tool domain provision -s "$D/empty.conf" --targetdir="$D" --realm="$REALM" \
    --domain="$DOMAIN" --server-role=dc --use-rfc2307 --dns-backend=NONE --host-name="$HOST" \
    --host-ip=127.0.0.1 --adminpass="$ADMIN_PASSWORD" >"$D/log/provision.log" 2>&1 || {
    echo "samba-dc.sh: provisioning failed; last lines of $D/log/provision.log:" >&2
    tail -n 20 "$D/log/provision.log" >&2
    exit 1
}

# A certificate for LDAPS, named as clients reach the DC, from a CA made here (DIR/ca.pem).
tls_failed() { echo "samba-dc.sh: making the TLS certificate failed:" >&2; cat "$D/log/tls.log" >&2; exit 1; }
openssl req -x509 -newkey rsa:2048 -nodes -days 7 -subj "/CN=sealstream test CA" \
    -keyout "$D/private/ca-key.pem" -out "$DIR/ca.pem" >"$D/log/tls.log" 2>&1 || tls_failed
openssl req -newkey rsa:2048 -nodes -subj "/CN=$FQDN" -keyout "$D/private/tls-key.pem" \
    -out "$D/private/tls.csr" >>"$D/log/tls.log" 2>&1 || tls_failed
printf 'subjectAltName=DNS:%s,IP:127.0.0.1\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n' \
    "$FQDN" >"$D/private/tls.ext"
openssl x509 -req -in "$D/private/tls.csr" -CA "$DIR/ca.pem" -CAkey "$D/private/ca-key.pem" \
    -CAcreateserial -days 7 -extfile "$D/private/tls.ext" -out "$D/private/tls-cert.pem" \
    >>"$D/log/tls.log" 2>&1 || tls_failed
chmod 600 "$D/private/tls-key.pem"

cat >"$D/smb.conf" <<EOF
# generated by tests/peers/samba-dc.sh
[global]
	netbios name = ${HOST^^}
	realm = $REALM
	workgroup = $DOMAIN
	server role = active directory domain controller
	server services = ldap, cldap, kdc
	binddns dir = $D/bind-dns
	cache directory = $D/cache
	lock directory = $D
	private dir = $D/private
	state directory = $D/state
	pid directory = $D/run
	ncalrpc dir = $D/run/ncalrpc
	log file = $D/log/samba.log
	log level = 1
	interfaces = 127.0.0.1/8
	bind interfaces only = yes
	disable netbios = yes
	ldap server require strong auth = allow_sasl_over_tls
	tls enabled = yes
	tls keyfile = $D/private/tls-key.pem
	tls certfile = $D/private/tls-cert.pem
	tls cafile = $DIR/ca.pem
	idmap_ldb:use rfc2307 = yes
EOF
printf '127.0.0.1 localhost\n127.0.0.1 %s %s\n' "$FQDN" "$HOST" >"$D/hosts"
printf 'nameserver 127.0.0.1\n' >"$D/resolv.conf"
# in_namespace CMD...: run CMD where dc1.sealstream.test is 127.0.0.1 and nothing else changed
in_namespace() {
    unshare -m sh -c 'mount --bind "$1/hosts" /etc/hosts && mount --bind "$1/resolv.conf" /etc/resolv.conf && shift && exec "$@"' \
        sh "$D" "$@"
}

# ---- accounts and names ----------------------------------------------------------------------
samba-tool user create alice "$ALICE_PASSWORD" -s "$D/smb.conf" >"$D/log/users.log" 2>&1
"$SYSTEM_PYTHON" - "$D/smb.conf" "$D/private/sam.ldb" "CN=alice,CN=Users,$BASE_DN" \
    >>"$D/log/users.log" 2>&1 <<'EOF'
import sys
import ldb
from samba.auth import system_session
from samba.param import LoadParm
from samba.samdb import SamDB

conf, url, dn = sys.argv[1:]
lp = LoadParm()
lp.load(conf)
db = SamDB(url=url, lp=lp, session_info=system_session())
alnum = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
photo = bytes(alnum[i % 62] for i in range(300000))
message = ldb.Message()
message.dn = ldb.Dn(db, dn)
message["jpegPhoto"] = ldb.MessageElement(photo, ldb.FLAG_MOD_REPLACE, "jpegPhoto")
db.modify(message)
EOF
in_namespace samba_spnupdate -s "$D/smb.conf" >"$D/log/spnupdate.log" 2>&1 || {
    echo "samba-dc.sh: samba_spnupdate failed:" >&2; tail -n 20 "$D/log/spnupdate.log" >&2; exit 1
}
printf 'alice %s\nAdministrator %s\n' "$ALICE_PASSWORD" "$ADMIN_PASSWORD" >"$DIR/passwords.txt"

cat >"$DIR/krb5.conf" <<EOF
# generated by tests/peers/samba-dc.sh
[libdefaults]
    default_realm = $REALM
    dns_lookup_kdc = false
    dns_lookup_realm = false
    dns_canonicalize_hostname = false
    rdns = false

[realms]
    $REALM = {
        kdc = 127.0.0.1:88
    }

[domain_realm]
    $FQDN = $REALM
EOF
printf 'export KRB5_CONFIG=%s/krb5.conf\nexport REALM=%s\n' "$DIR" "$REALM" >"$DIR/env"

# ---- start, in a session of its own, and wait for LDAP and the KDC ---------------------------
setsid bash -c "$(declare -f in_namespace); D='$D'; in_namespace samba -F -M prefork -s '$D/smb.conf'" \
    >"$D/log/stdout.log" 2>&1 </dev/null &
# setsid runs in a child of this script, so it execs bash without forking: $! is the session's
# (and its process group's) leader.
echo $! >"$D/run/session.pid"
for _ in $(seq 300); do
    if ! group_alive "$(cat "$D/run/session.pid")"; then
        break
    fi
    if [ -s "$D/run/samba.pid" ] &&
            (exec 3<>"/dev/tcp/127.0.0.1/389") 2>/dev/null &&
            printf '%s\n' "$ALICE_PASSWORD" | KRB5_CONFIG="$DIR/krb5.conf" \
                KRB5CCNAME="FILE:$DIR/probe.ccache" kinit alice >/dev/null 2>&1; then
        rm -f "$DIR/probe.ccache"
        echo "samba-dc.sh: samba pid $(cat "$D/run/samba.pid") serving $REALM (LDAP 127.0.0.1:389, KDC 127.0.0.1:88); . $DIR/env" >&2
        return 0
    fi
    sleep 0.2
done
echo "samba-dc.sh: the DC exited or did not answer within 60 s; last lines of its logs:" >&2
tail -n 20 "$D/log/stdout.log" "$D/log/samba.log" >&2 || true
(stop "$DIR")
exit 1
}

case "${1:-}" in
    start) shift; start "$@" ;;
    stop) shift; stop "$@" ;;
    *) usage ;;
esac
