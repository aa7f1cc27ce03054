#!/usr/bin/env bash
# slapd.sh: a private OpenLDAP slapd offering SASL DIGEST-MD5 (and, with a KDC, GSSAPI) on
# loopback, for the interop tests (tests/tests/sasl_slapd.rs) and for trying the ldap_search
# example by hand.
#
#   tests/peers/slapd.sh start DIR PORT [MINSSF] [MAXSSF]   # ~0.2 s; prints nothing on stdout
#   tests/peers/slapd.sh stop DIR                           # SIGTERM (SIGKILL after 5 s); no-op if none
#
# `start` serves ldap://127.0.0.1:PORT/ with `sasl-secprops noanonymous,noplain,minssf=MINSSF,
# maxssf=MAXSSF` (defaults 1 and 256: a security layer is forced). Everything lives in DIR
# (created, regenerated on every start): slapd.conf, data.ldif, db/, slapd.pid, slapd.log. It runs
# as the calling user; nothing outside DIR is written (/etc/ldap/sasl2 is not used: passwords are
# cleartext userPassword values read through `sasl-auxprops slapd`). A slapd still running from
# DIR is killed first. SLAPD_DEBUG sets `slapd -d` (default "stats"; -1 dumps every SASL buffer).
#
# GSSAPI: with SLAPD_KRB5_DIR set to the directory of a running tests/peers/mitkdc.sh KDC, slapd
# also offers GSSAPI as ldap/localhost@REALM: it reads that directory's krb5.conf
# (KRB5_CONFIG) and service.keytab (KRB5_KTNAME), and keeps its replay cache in DIR. Clients
# connect to ldap://localhost:PORT/ so that they ask for a ticket to ldap/localhost. The
# principal alice@REALM is the directory's uid=alice. Needs libsasl2-modules-gssapi-mit.
#
# Needs the Debian packages slapd, ldap-utils (ldapsearch, for the readiness check) and
# libsasl2-modules (libdigestmd5.so). This script never installs them:
# scripts/install-test-deps.sh does.
#
# Directory (suffix dc=example,dc=com, SASL realm example.com):
#   uid=alice,ou=people,dc=example,dc=com   password "secret"    (SASL user "alice")
#   uid=bob,ou=people,dc=example,dc=com     password "bobsecret" (SASL user "bob")
#   cn=item1..cn=item5,ou=data,dc=example,dc=com  small entries: objectClass applicationProcess,
#                                           cn itemN, description "small entry number N"
#   cn=large,ou=data,dc=example,dc=com      description = 40000 bytes, byte i = ALNUM[i % 62]
#                                           where ALNUM = A-Z a-z 0-9
#   cn=bulk1..cn=bulk64,ou=bulk,dc=example,dc=com  objectClass applicationProcess, cn bulkN,
#                                           description = 4000 bytes, byte i = ALNUM[(i + N) % 62]
#                                           (a one-level search of ou=bulk returns 259,511 bytes
#                                           of LDIF: more than 200 KiB, many frames)
#   rootdn cn=admin,dc=example,dc=com / rootpw "adminsecret" (simple bind, for maintenance)
#
# Debian 12's Cyrus SASL offers cipher 3des but cannot initialise it (OpenSSL 3 without the
# legacy provider): a DIGEST-MD5 bind choosing 3des fails with result 80,
# "SASL(-1): generic failure: couldn't init cipher '3des'".
set -euo pipefail

SLAPD_BIN=/usr/sbin/slapd
SLAPADD_BIN=/usr/sbin/slapadd
usage() { echo "usage: $0 start DIR PORT [MINSSF] [MAXSSF] | stop DIR" >&2; exit 2; }
# alive PID: running and not a zombie (pid 1 on some CI/VM images reaps orphans only every ~2 s)
alive() { [ -r "/proc/$1/status" ] && ! grep -q '^State:[[:space:]]*Z' "/proc/$1/status" 2>/dev/null; }
# ours PID DIR: the pid is the slapd started from DIR (guards against pid reuse)
ours() { [[ $1 =~ ^[0-9]+$ ]] && tr '\0' ' ' 2>/dev/null <"/proc/$1/cmdline" | grep -qF -- "-f $2/slapd.conf"; }

stop() {
    [ $# -eq 1 ] || usage
    [ -d "$1" ] || exit 0
    DIR=$(cd "$1" && pwd)
    [ -s "$DIR/slapd.pid" ] || exit 0
    pid=$(cat "$DIR/slapd.pid")
    if ours "$pid" "$DIR"; then
        kill "$pid" 2>/dev/null || true
        for _ in $(seq 250); do alive "$pid" || break; sleep 0.02; done
        if alive "$pid"; then kill -9 "$pid" 2>/dev/null || true; sleep 0.05; fi
    fi
    rm -f "$DIR/slapd.pid"
}

start() {
[ $# -ge 2 ] && [ $# -le 4 ] || usage
DIR=$1 PORT=$2 MINSSF=${3:-1} MAXSSF=${4:-256}
[[ $PORT =~ ^[0-9]+$ ]] && [ "$PORT" -ge 1 ] && [ "$PORT" -le 65535 ] || { echo "bad PORT: $PORT" >&2; exit 2; }
[[ $MINSSF =~ ^[0-9]+$ ]] && [[ $MAXSSF =~ ^[0-9]+$ ]] || { echo "MINSSF/MAXSSF must be integers" >&2; exit 2; }
case "$DIR" in ""|/) echo "refusing DIR='$DIR'" >&2; exit 2;; esac
SLAPD_DEBUG=${SLAPD_DEBUG:-stats}
missing=()
[ -x "$SLAPD_BIN" ] && [ -x "$SLAPADD_BIN" ] || missing+=(slapd)
command -v ldapsearch >/dev/null 2>&1 || missing+=(ldap-utils)
compgen -G "/usr/lib/*/sasl2/libdigestmd5.so*" >/dev/null || missing+=(libsasl2-modules)
KRB5_DIR=${SLAPD_KRB5_DIR:-}
if [ -n "$KRB5_DIR" ]; then
    compgen -G "/usr/lib/*/sasl2/libgssapiv2.so*" >/dev/null || missing+=(libsasl2-modules-gssapi-mit)
fi
if [ ${#missing[@]} -gt 0 ]; then
    echo "slapd.sh: missing packages: ${missing[*]} (scripts/install-test-deps.sh installs them)" >&2
    exit 3
fi

# ---- stop a previous instance from this DIR --------------------------------------------------
mkdir -p "$DIR"
DIR=$(cd "$DIR" && pwd)
# (only a pid whose command line is our slapd with this DIR's config is touched; its data is
#  thrown away anyway, so SIGKILL)
if [ -s "$DIR/slapd.pid" ]; then
    oldpid=$(cat "$DIR/slapd.pid")
    if ours "$oldpid" "$DIR"; then
        kill -9 "$oldpid" 2>/dev/null || true
        for _ in $(seq 100); do alive "$oldpid" || break; sleep 0.02; done
    fi
fi
rm -rf "$DIR/db" "$DIR/slapd.conf" "$DIR/data.ldif" "$DIR/slapd.pid" "$DIR/slapd.args" "$DIR/slapd.log"
mkdir -p "$DIR/db"
if [ -n "$KRB5_DIR" ]; then
    KRB5_DIR=$(cd "$KRB5_DIR" && pwd)
    for f in krb5.conf service.keytab; do
        [ -r "$KRB5_DIR/$f" ] || { echo "slapd.sh: no $f in SLAPD_KRB5_DIR=$KRB5_DIR" >&2; exit 2; }
    done
    mkdir -p "$DIR/rcache"
    export KRB5_CONFIG="$KRB5_DIR/krb5.conf" KRB5_KTNAME="FILE:$KRB5_DIR/service.keytab"
    export KRB5RCACHEDIR="$DIR/rcache"
fi

# ---- refuse a port that is already taken (slapd would otherwise die with a bind error) --------
if (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null; then
    echo "slapd.sh: 127.0.0.1:$PORT is already in use" >&2; exit 1
fi

# ---- slapd.conf ------------------------------------------------------------------------------
MODULEPATH=/usr/lib/ldap
cat >"$DIR/slapd.conf" <<EOF
# generated by tests/peers/slapd.sh
include         /etc/ldap/schema/core.schema
include         /etc/ldap/schema/cosine.schema
include         /etc/ldap/schema/inetorgperson.schema

pidfile         "$DIR/slapd.pid"
argsfile        "$DIR/slapd.args"
modulepath      $MODULEPATH
moduleload      back_mdb

# SASL: DIGEST-MD5 against cleartext userPassword via slapd's own auxprop plugin
sasl-auxprops   slapd
sasl-realm      example.com
# sasl-host fixes Cyrus's serverFQDN (default: the machine's hostname): DIGEST-MD5 checks only
# the "ldap/" service part of digest-uri, never the host; GSSAPI accepts as ldap/localhost.
sasl-host       localhost
sasl-secprops   noanonymous,noplain,minssf=$MINSSF,maxssf=$MAXSSF
# authcid "alice" (realm example.com) arrives as
#   uid=alice,cn=example.com,cn=digest-md5,cn=auth  or  uid=alice,cn=digest-md5,cn=auth,
# and alice@REALM over GSSAPI as uid=alice,cn=REALM,cn=gssapi,cn=auth (lower-cased)
authz-regexp    "^uid=([^,]+),(cn=[^,]+,)?cn=(digest-md5|gssapi),cn=auth\$" "uid=\$1,ou=people,dc=example,dc=com"
authz-policy    none

database        mdb
suffix          "dc=example,dc=com"
rootdn          "cn=admin,dc=example,dc=com"
rootpw          adminsecret
directory       "$DIR/db"
maxsize         67108864
index           objectClass eq
index           uid eq

access to dn.base="" by * read
access to dn.base="cn=Subschema" by * read
access to attrs=userPassword
        by anonymous auth
        by self read
        by * none
access to *
        by dn.exact="uid=alice,ou=people,dc=example,dc=com" read
        by users read
        by anonymous auth
        by * none
EOF

# ---- data ------------------------------------------------------------------------------------
ALNUM=ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789
big=""
while [ ${#big} -lt 40000 ]; do big+=$ALNUM; done
big=${big:0:40000}
{
cat <<'EOF'
dn: dc=example,dc=com
objectClass: dcObject
objectClass: organization
dc: example
o: Example

dn: ou=people,dc=example,dc=com
objectClass: organizationalUnit
ou: people

dn: ou=data,dc=example,dc=com
objectClass: organizationalUnit
ou: data

dn: uid=alice,ou=people,dc=example,dc=com
objectClass: inetOrgPerson
uid: alice
cn: Alice Example
sn: Example
mail: alice@example.com
userPassword: secret

dn: uid=bob,ou=people,dc=example,dc=com
objectClass: inetOrgPerson
uid: bob
cn: Bob Example
sn: Example
mail: bob@example.com
userPassword: bobsecret

EOF
for i in 1 2 3 4 5; do
    printf 'dn: cn=item%d,ou=data,dc=example,dc=com\nobjectClass: applicationProcess\ncn: item%d\ndescription: small entry number %d\n\n' "$i" "$i" "$i"
done
printf 'dn: cn=large,ou=data,dc=example,dc=com\nobjectClass: applicationProcess\ncn: large\ndescription: %s\n\n' "$big"
printf 'dn: ou=bulk,dc=example,dc=com\nobjectClass: organizationalUnit\nou: bulk\n\n'
for i in $(seq 1 64); do
    printf 'dn: cn=bulk%d,ou=bulk,dc=example,dc=com\nobjectClass: applicationProcess\ncn: bulk%d\ndescription: %s\n\n' "$i" "$i" "${big:$i:4000}"
done
} >"$DIR/data.ldif"

"$SLAPADD_BIN" -q -f "$DIR/slapd.conf" -l "$DIR/data.ldif" >"$DIR/slapadd.log" 2>&1 || {
    echo "slapd.sh: slapadd failed:" >&2; cat "$DIR/slapadd.log" >&2; exit 1; }

# ---- start in the background ------------------------------------------------------------------
# -d keeps slapd in the foreground (logging to stderr -> slapd.log) so $! is its pid; all three
# fds are redirected so a caller reading our stdout/stderr (Rust Command::output) sees EOF at once.
URL="ldap://127.0.0.1:$PORT/"
"$SLAPD_BIN" -d "$SLAPD_DEBUG" -h "$URL" -f "$DIR/slapd.conf" \
    </dev/null >>"$DIR/slapd.log" 2>&1 &
pid=$!
echo "$pid" >"$DIR/slapd.pid"   # slapd rewrites the same pid once it has started

# ---- wait until it answers -------------------------------------------------------------------
for _ in $(seq 200); do
    if ! alive "$pid"; then
        echo "slapd.sh: slapd exited; log:" >&2; tail -n 30 "$DIR/slapd.log" >&2; exit 1
    fi
    if LDAPCONF=/dev/null LDAPNOINIT=1 ldapsearch -x -LLL -o nettimeout=1 -H "$URL" -s base -b "" \
            supportedSASLMechanisms >/dev/null 2>&1; then
        echo "slapd.sh: slapd pid $pid listening on $URL (minssf=$MINSSF maxssf=$MAXSSF)" >&2
        exit 0
    fi
    sleep 0.05
done
echo "slapd.sh: slapd did not answer within 10 s; log:" >&2
tail -n 30 "$DIR/slapd.log" >&2
kill "$pid" 2>/dev/null || true
exit 1
}

case "${1:-}" in
    start) shift; start "$@" ;;
    stop) shift; stop "$@" ;;
    *) usage ;;
esac
