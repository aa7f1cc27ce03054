#!/usr/bin/env bash
# cyrus-imapd.sh: a private Cyrus IMAP 3.6 server on loopback, whose SASL security layers
# (DIGEST-MD5, GSSAPI) wrap the whole IMAP stream after AUTHENTICATE, for the interop tests
# (tests/src/cyrus.rs) and for trying things by hand.
#
#   tests/peers/cyrus-imapd.sh start DIR PORT [MINLAYER]   # ~0.5-1 s; prints nothing on stdout
#   tests/peers/cyrus-imapd.sh stop DIR                    # SIGTERM (SIGKILL after 5 s); no-op if none
#
# `start` serves IMAP on 127.0.0.1:PORT (STARTTLS offered; `allowplaintext: no`) and IMAPS on
# 127.0.0.1:PORT+1, `servername: localhost`. MINLAYER (default 0) is `sasl_minimum_layer`: 0
# lets a client choose no layer; 1 (or more) requires a layer of at least that SSF, unless TLS
# already provides it. Mechanisms (`sasl_mech_list`): DIGEST-MD5 SCRAM-SHA-256 PLAIN, plus GSSAPI
# and GSS-SPNEGO with a KDC (below). Ready = mail delivered (below), then the greeting `* OK`
# read on PORT and, over TLS verified against DIR/ca.pem for the name localhost, on PORT+1.
#
# Everything lives in DIR (created; regenerated on every start, a server still running from DIR
# is killed first); nothing outside it is read or written: /etc/imapd.conf, /etc/cyrus.conf,
# /var/lib/cyrus, /run/cyrus and /etc/sasl2 are never used (every Cyrus program gets
# -C DIR/imapd.conf, the master also -M DIR/cyrus.conf -p DIR/master.pid, every cmd= line of
# cyrus.conf carries -C; SASL_CONF_PATH=DIR/conf). In DIR afterwards:
#   ca.pem          the CA to trust (made per start, RSA 2048); the leaf (CA:FALSE, serverAuth,
#                   DNS:localhost, IP:127.0.0.1) and both keys are in tls/
#   imapd.conf cyrus.conf master.pid (the master: leader of the session and process group
#                   everything runs in) master.log (its stdout/stderr: normally empty)
#   sasldb2         the SASL users
#   expected/N.eml  N = 1..5: the bytes Cyrus stored for the message with UID N, which is what
#                   FETCH BODY[] returns, copied from the spool after delivery
#   inbox-path      one line: alice's INBOX spool directory (Cyrus 3.6 keeps it by mailbox id,
#                   DIR/spool/uuid/X/Y/ID), whose files `N.` are the messages; a message a test
#                   APPENDs appears there as the next `UID.`, stored verbatim
#   syslog.log      what Cyrus sent to syslog (root only, see Logging)
#   setup.log       the output of openssl, saslpasswd2, deliver and mbpath
#   conf/ spool/ sieve/ socket/ tls/ mail/ (the input messages) krb5/ ns-dev/ syslog.py
#
# User: alice, password "alice-imap-password", in DIR/sasldb2 (`saslpasswd2 -u localhost`), so
# the DIGEST-MD5 realm is "localhost" (the realm= the challenge offers; digest-uri
# imap/localhost). The sasldb holds only her cleartext userPassword (saslpasswd2 stores no SCRAM
# secrets here); the SCRAM-SHA-256 plugin derives them from it (iteration count i=4096).
# PLAIN and LOGIN work over TLS only.
#
# Mail in alice's INBOX (internal name user.alice), delivered with Cyrus `deliver` over LMTP
# (`autocreate_post` creates the INBOX) from deterministic input. lmtpd adds Return-Path:,
# Received: (with the delivery time), X-Cyrus-Session-Id: and X-Sieve: in front, so compare
# against DIR/expected, not against constants. Headers: Date 0N Jan 2024 12:00:00 +0000 (Mon-Fri),
# From sender@localhost, To alice@localhost, Message-ID <sealstream-test-N@localhost>.
#   UID 1  Subject "sealstream test 1: hello"   text/plain us-ascii, 3 short lines
#   UID 2  Subject "sealstream test 2: utf-8"   text/plain utf-8, 8bit: one line with non-ASCII
#                                               bytes (Grüße, Café, an em dash)
#   UID 3  Subject "sealstream test 3: large"   text/plain us-ascii: 3300 lines of 76 characters
#                                               + CRLF, line i = "%05d " i and 70 characters of
#                                               ALNUM = A-Z a-z 0-9 from index i % 62 (wrapping):
#                                               257,400-byte body, ~257,910 bytes stored
#   UID 4  Subject "sealstream test 4: flags"   text/plain us-ascii, one line
#   UID 5  Subject "sealstream test 5: last"    text/plain us-ascii, one line
#
# Kerberos: with CYRUS_KRB5_DIR set to the directory of a running tests/peers/mitkdc.sh KDC,
# the server also offers GSSAPI and GSS-SPNEGO as imap/localhost@REALM: that directory's
# krb5.conf and service.keytab are copied into DIR/krb5/ (readable by the Cyrus user), and the
# master, hence every imapd, runs with KRB5_CONFIG, KRB5_KTNAME and KRB5RCACHEDIR
# (DIR/krb5/rcache) pointing there. Clients ask for imap@localhost. alice@REALM logs in as the
# user "alice", the same INBOX as the sasldb alice: Cyrus SASL's GSSAPI plugin drops the realm
# when it is the default_realm of that krb5.conf (no `loginrealms` needed; a principal of
# another realm would stay user@OTHER and be refused, "cross-realm login ... denied").
# Needs libsasl2-modules-gssapi-mit.
#
# Wire facts (Cyrus 3.6.1, Cyrus SASL 2.1.28):
#   - greeting on PORT: [CAPABILITY IMAP4rev1 LITERAL+ ID ENABLE STARTTLS LOGINDISABLED
#     AUTH=DIGEST-MD5 AUTH=SCRAM-SHA-256 (AUTH=GSSAPI AUTH=GSS-SPNEGO) SASL-IR]; with MINLAYER
#     >= 1 only the mechanisms with layers (DIGEST-MD5, GSSAPI, GSS-SPNEGO) are listed.
#   - after STARTTLS and on PORT+1: no STARTTLS or LOGINDISABLED; AUTH=DIGEST-MD5
#     AUTH=SCRAM-SHA-256-PLUS AUTH=SCRAM-SHA-256 AUTH=PLAIN (AUTH=GSSAPI-PLUS AUTH=GSSAPI
#     AUTH=GSS-SPNEGO-PLUS AUTH=GSS-SPNEGO) SASL-IR. TLS's SSF uses up sasl_maximum_layer, so
#     over TLS DIGEST-MD5 offers qop="auth" only: no SASL layer on top of TLS.
#   - DIGEST-MD5 challenge without TLS: realm="localhost", qop="auth,auth-int,auth-conf",
#     cipher="rc4-40,rc4-56,rc4,des,3des", maxbuf=4096, charset=utf-8, algorithm=md5-sess; with
#     MINLAYER 1, qop="auth-int,auth-conf", and a response with qop=auth gets
#     `NO generic failure` (syslog: "client requested invalid qop"). Do not choose 3des: it
#     fails with OpenSSL 3 (see tests/peers/slapd.sh).
#   - The tagged OK of AUTHENTICATE carries [CAPABILITY ...] only when no layer was chosen; with
#     one it is `OK Success (integrity protection)` / `(privacy protection)`. A CAPABILITY asked
#     after authenticating still lists AUTH= mechanisms (and LOGINDISABLED), plus
#     COMPRESS=DEFLATE, IDLE and the like.
#
# Runs as the `cyrus` user when started as root: DIR's Cyrus state is chowned to cyrus:mail,
# and DIR and every directory above it must be searchable by cyrus, so a 0700 temporary
# directory (Rust's tempfile::TempDir) will not do; start fails saying "cannot reach". As
# another user, Cyrus runs as that user (CYRUS_USER, CYRUS_GROUP) and nothing else changes,
# except Logging.
#
# Logging: Cyrus logs only through syslog(3), and there may be no /dev/log. As root (when
# `unshare -m` works and python3 is there) the master runs in a mount namespace of its own whose
# /dev is a small tmpfs (null, zero, full, random, urandom, tty bound from the real /dev; fd,
# std*) with /dev/log a link to DIR/socket/syslog, a datagram socket which a python3 receiver,
# running as the Cyrus user in the master's process group, appends to DIR/syslog.log, one
# message a line ("<PRI>date cyrus-test/imap[pid]: ..."; login lines say who logged in with
# which mechanism, `badlogin:` lines why not). Otherwise, and for programs run outside the
# namespace (deliver, mbpath: their errors go to setup.log), syslog goes nowhere.
#
# Needs the Debian packages cyrus-imapd (imapd), cyrus-common (master, lmtpd, deliver, mbpath,
# ctl_cyrusdb; creates the user cyrus), sasl2-bin (saslpasswd2), libsasl2-modules (DIGEST-MD5,
# SCRAM, PLAIN) and openssl; python3 is optional (syslog). This script never installs them:
# scripts/install-test-deps.sh does (cyrus-common pulls in exim4 as its MTA; nothing here
# starts it). Cyrus's own client for trying things: /usr/lib/cyrus/bin/imtest (cyrus-clients),
# e.g. `imtest -p PORT -m DIGEST-MD5 -a alice -w alice-imap-password -r localhost -k 1 -l 1
# localhost`, `-t "" -m SCRAM-SHA-256` for STARTTLS (it does not verify the certificate),
# `-m GSSAPI -k 1 -l 256` after kinit. (imtest's own GSS-SPNEGO with a layer breaks after a
# response or two: "Protection error: decoding error: generic failure; SASL(-1): generic
# failure: Unable to find a callback: 32775"; without a layer it reads everything.)
# Exit status of start: 0 ready; 1 failed (a message containing "already in use" when PORT or
# PORT+1 is taken: pick another port); 2 usage; 3 packages missing.
set -euo pipefail
umask 022

CYRUS_BIN=/usr/lib/cyrus/bin
PASSWORD=alice-imap-password
usage() { echo "usage: $0 start DIR PORT [MINLAYER] | stop DIR" >&2; exit 2; }
# alive PID: running and not a zombie (pid 1 on some CI/VM images reaps orphans only every ~2 s)
alive() { [ -r "/proc/$1/status" ] && ! grep -q '^State:[[:space:]]*Z' "/proc/$1/status" 2>/dev/null; }
# group_alive PGID: some process of the group is still running (zombies do not count)
group_alive() {
    local p
    for p in $(pgrep -g "$1" 2>/dev/null); do alive "$p" && return 0; done
    return 1
}
# ours PID DIR: PID leads the session and process group started for DIR (guards against pid
# reuse): its command line (the master's, or that of the shells it is exec'd from) names
# DIR/cyrus.conf, or, once it is gone, a process left in its group names DIR/imapd.conf or
# DIR/syslog.py (a pid stays unused while its process group has members)
ours() {
    local p
    [[ $1 =~ ^[0-9]+$ ]] || return 1
    tr '\0' ' ' 2>/dev/null <"/proc/$1/cmdline" | grep -qF -- "$2/cyrus.conf" && return 0
    for p in $(pgrep -g "$1" 2>/dev/null); do
        tr '\0' ' ' 2>/dev/null <"/proc/$p/cmdline" |
            grep -qF -e "$2/imapd.conf" -e "$2/syslog.py" && return 0
    done
    return 1
}

stop() {
    [ $# -eq 1 ] || usage
    [ -d "$1" ] || exit 0
    DIR=$(cd "$1" && pwd)
    [ -s "$DIR/master.pid" ] || exit 0
    pid=$(cat "$DIR/master.pid")
    if ours "$pid" "$DIR"; then
        # the whole process group: the master, its children and the syslog receiver
        kill -TERM -- "-$pid" 2>/dev/null || true
        for _ in $(seq 250); do group_alive "$pid" || break; sleep 0.02; done
        if group_alive "$pid"; then kill -9 -- "-$pid" 2>/dev/null || true; sleep 0.05; fi
    fi
    rm -f "$DIR/master.pid"
}

start() {
[ $# -ge 2 ] && [ $# -le 3 ] || usage
DIR=$1 PORT=$2 MINLAYER=${3:-0}
[[ $PORT =~ ^[0-9]+$ ]] && [ "$PORT" -ge 1 ] && [ "$PORT" -le 65534 ] || { echo "bad PORT: $PORT" >&2; exit 2; }
[[ $MINLAYER =~ ^[0-9]+$ ]] || { echo "MINLAYER must be an integer" >&2; exit 2; }
case "$DIR" in ""|/) echo "refusing DIR='$DIR'" >&2; exit 2;; esac
SPORT=$((PORT + 1))
missing=()
[ -x "$CYRUS_BIN/imapd" ] || missing+=(cyrus-imapd)
for b in master lmtpd deliver mbpath ctl_cyrusdb; do
    [ -x "$CYRUS_BIN/$b" ] || { missing+=(cyrus-common); break; }
done
command -v saslpasswd2 >/dev/null 2>&1 || missing+=(sasl2-bin)
compgen -G "/usr/lib/*/sasl2/libdigestmd5.so*" >/dev/null &&
    compgen -G "/usr/lib/*/sasl2/libscram.so*" >/dev/null || missing+=(libsasl2-modules)
command -v openssl >/dev/null 2>&1 || missing+=(openssl)
KRB5_DIR=${CYRUS_KRB5_DIR:-}
if [ -n "$KRB5_DIR" ]; then
    compgen -G "/usr/lib/*/sasl2/libgssapiv2.so*" >/dev/null || missing+=(libsasl2-modules-gssapi-mit)
fi
if [ ${#missing[@]} -gt 0 ]; then
    echo "cyrus-imapd.sh: missing packages: ${missing[*]} (scripts/install-test-deps.sh installs them)" >&2
    exit 3
fi
if [ "$(id -u)" -eq 0 ]; then
    getent passwd cyrus >/dev/null || {
        echo "cyrus-imapd.sh: no user cyrus (the cyrus-common package creates it)" >&2; exit 3; }
    RUN_USER=cyrus RUN_GROUP=$(id -gn cyrus)
    as_cyrus() { setpriv --reuid=cyrus --regid="$RUN_GROUP" --init-groups -- "$@"; }
else
    RUN_USER=$(id -un) RUN_GROUP=$(id -gn)
    as_cyrus() { "$@"; }
fi
# Cyrus takes its user from these (over the compiled-in "cyrus") before it reads imapd.conf
export CYRUS_USER=$RUN_USER CYRUS_GROUP=$RUN_GROUP
unset CYRUS_VERBOSE KRB5_CONFIG KRB5_KTNAME KRB5RCACHEDIR KRB5CCNAME KRB5_TRACE

# ---- stop a previous instance from this DIR --------------------------------------------------
mkdir -p "$DIR"
DIR=$(cd "$DIR" && pwd)
case "$DIR" in *[[:space:]\"\'\\]*) echo "cyrus-imapd.sh: DIR must not contain blanks or quotes: $DIR" >&2; exit 2;; esac
if [ "$(id -u)" -eq 0 ]; then
    chmod 755 "$DIR"
    as_cyrus test -x "$DIR" || {
        echo "cyrus-imapd.sh: user $RUN_USER cannot reach $DIR (a directory above it is not" \
            "searchable by others, e.g. a 0700 temporary directory): use a DIR elsewhere" >&2
        exit 1
    }
fi
if [ -s "$DIR/master.pid" ]; then
    oldpid=$(cat "$DIR/master.pid")
    if ours "$oldpid" "$DIR"; then
        # its data is thrown away anyway, so SIGKILL the whole process group
        kill -9 -- "-$oldpid" 2>/dev/null || true
        for _ in $(seq 100); do group_alive "$oldpid" || break; sleep 0.02; done
    fi
fi
rm -rf "$DIR/conf" "$DIR/spool" "$DIR/sieve" "$DIR/socket" "$DIR/tls" "$DIR/mail" "$DIR/ns-dev" \
    "$DIR/krb5" "$DIR/expected" "$DIR/imapd.conf" "$DIR/cyrus.conf" "$DIR/master.pid" \
    "$DIR/sasldb2" "$DIR/ca.pem" "$DIR/inbox-path" "$DIR/syslog.log" "$DIR/syslog.py" \
    "$DIR/master.log" "$DIR/setup.log"

# ---- refuse ports that are already taken (the master would only log a bind error) ------------
for p in "$PORT" "$SPORT"; do
    if (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
        echo "cyrus-imapd.sh: 127.0.0.1:$p is already in use" >&2; exit 1
    fi
done

mkdir -p "$DIR/spool" "$DIR/sieve" "$DIR/socket" "$DIR/tls" "$DIR/mail" "$DIR/expected"
# configdirectory and the subdirectories Cyrus expects (as tools/mkimap makes them)
mkdir -p "$DIR/conf"/{db,socket,proc,lock,log,msg,quota,user,ptclient,tmp}
LOG="$DIR/setup.log"
: >"$LOG"
fail() { echo "cyrus-imapd.sh: $1; last lines of $LOG:" >&2; tail -n 20 "$LOG" >&2; exit 1; }

# ---- TLS: a CA and a leaf for localhost / 127.0.0.1 -------------------------------------------
T="$DIR/tls"
openssl req -x509 -newkey rsa:2048 -nodes -days 7 -subj "/CN=sealstream cyrus test CA" \
    -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign \
    -keyout "$T/ca-key.pem" -out "$DIR/ca.pem" >>"$LOG" 2>&1 || fail "making the CA failed"
openssl req -newkey rsa:2048 -nodes -subj "/CN=localhost" -keyout "$T/key.pem" \
    -out "$T/leaf.csr" >>"$LOG" 2>&1 || fail "making the server key failed"
printf '%s\n' "subjectAltName=DNS:localhost,IP:127.0.0.1" "basicConstraints=critical,CA:FALSE" \
    "keyUsage=critical,digitalSignature,keyEncipherment" "extendedKeyUsage=serverAuth" >"$T/leaf.ext"
openssl x509 -req -in "$T/leaf.csr" -CA "$DIR/ca.pem" -CAkey "$T/ca-key.pem" -CAcreateserial -CAserial "$T/ca.srl" \
    -days 7 -extfile "$T/leaf.ext" -out "$T/cert.pem" >>"$LOG" 2>&1 || fail "signing the server certificate failed"
chmod 600 "$T/key.pem" "$T/ca-key.pem"
chmod 644 "$DIR/ca.pem"

# ---- Kerberos (optional) ---------------------------------------------------------------------
MECHS="DIGEST-MD5 SCRAM-SHA-256 PLAIN"
if [ -n "$KRB5_DIR" ]; then
    KRB5_DIR=$(cd "$KRB5_DIR" && pwd)
    for f in krb5.conf service.keytab; do
        [ -r "$KRB5_DIR/$f" ] || { echo "cyrus-imapd.sh: no $f in CYRUS_KRB5_DIR=$KRB5_DIR" >&2; exit 2; }
    done
    mkdir -p "$DIR/krb5/rcache"
    cp "$KRB5_DIR/krb5.conf" "$DIR/krb5/krb5.conf"
    cp "$KRB5_DIR/service.keytab" "$DIR/krb5/service.keytab"
    chmod 600 "$DIR/krb5/service.keytab"
    MECHS="$MECHS GSSAPI GSS-SPNEGO"
fi

# ---- configuration ---------------------------------------------------------------------------
cat >"$DIR/imapd.conf" <<EOF
# generated by tests/peers/cyrus-imapd.sh
configdirectory: $DIR/conf
defaultpartition: default
partition-default: $DIR/spool
sievedir: $DIR/sieve
proc_path: $DIR/conf/proc
mboxname_lockpath: $DIR/conf/lock
temp_path: $DIR/conf/tmp
lmtpsocket: $DIR/socket/lmtp
idlesocket: $DIR/socket/idle
notifysocket: $DIR/socket/notify
servername: localhost
altnamespace: yes
unixhierarchysep: yes
umask: 022
syslog_prefix: cyrus-test
autocreate_post: yes
autocreate_quota: 0
lmtp_downcase_rcpt: yes
allowplaintext: no
allowanonymouslogin: no
sasl_pwcheck_method: auxprop
sasl_auxprop_plugin: sasldb
sasl_sasldb_path: $DIR/sasldb2
sasl_mech_list: $MECHS
sasl_minimum_layer: $MINLAYER
tls_server_cert: $T/cert.pem
tls_server_key: $T/key.pem
tls_sessions_db_path: $DIR/conf/tls_sessions.db
EOF
C="-C $DIR/imapd.conf"
cat >"$DIR/cyrus.conf" <<EOF
# generated by tests/peers/cyrus-imapd.sh
START {
    recover     cmd="$CYRUS_BIN/ctl_cyrusdb $C -r"
}
SERVICES {
    imap        cmd="$CYRUS_BIN/imapd $C" listen="127.0.0.1:$PORT" prefork=0 maxchild=50
    imaps       cmd="$CYRUS_BIN/imapd -s $C" listen="127.0.0.1:$SPORT" prefork=0 maxchild=50
    lmtpunix    cmd="$CYRUS_BIN/lmtpd $C" listen="$DIR/socket/lmtp" prefork=0 maxchild=5
}
EVENTS {
}
DAEMON {
}
EOF

# ---- the user --------------------------------------------------------------------------------
printf '%s' "$PASSWORD" | saslpasswd2 -p -c -f "$DIR/sasldb2" -u localhost alice >>"$LOG" 2>&1 ||
    fail "saslpasswd2 failed"

# ---- ownership -------------------------------------------------------------------------------
if [ "$(id -u)" -eq 0 ]; then
    chown -R "$RUN_USER:$RUN_GROUP" "$DIR/conf" "$DIR/spool" "$DIR/sieve" "$DIR/socket" "$DIR/tls" \
        "$DIR/sasldb2"
    [ -z "$KRB5_DIR" ] || chown -R "$RUN_USER:$RUN_GROUP" "$DIR/krb5"
    as_cyrus test -w "$DIR/conf" -a -r "$DIR/imapd.conf" || fail "user $RUN_USER cannot use $DIR"
fi

# ---- syslog receiver (root only: /dev/log exists only inside the master's mount namespace) -----
PYTHON=""
if [ "$(id -u)" -eq 0 ] && unshare -m true 2>/dev/null; then
    for py in /usr/bin/python3 "$(command -v python3 2>/dev/null || true)"; do
        if [ -n "$py" ] && [ -x "$py" ]; then PYTHON=$py; break; fi
    done
fi
if [ -n "$PYTHON" ]; then
    cat >"$DIR/syslog.py" <<'EOF'
# generated by tests/peers/cyrus-imapd.sh: appends every datagram sent to SOCKET to LOG, one a line
import os, socket, sys
sock_path, log_path = sys.argv[1], sys.argv[2]
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sock_path)
os.chmod(sock_path, 0o666)
with open(log_path, "ab", buffering=0) as log:
    while True:
        log.write(s.recv(65536).rstrip(b"\0\n") + b"\n")
EOF
    : >"$DIR/syslog.log"
    chown "$RUN_USER:$RUN_GROUP" "$DIR/syslog.log"
    mkdir -p "$DIR/ns-dev"
fi

# ---- start, in a session of its own ----------------------------------------------------------
# (libsasl would also read Cyrus.conf from /etc/sasl2 and the like: there is none in DIR/conf)
export SASL_CONF_PATH="$DIR/conf"
MASTER=("$CYRUS_BIN/master" -C "$DIR/imapd.conf" -M "$DIR/cyrus.conf" -p "$DIR/master.pid")
if [ -n "$KRB5_DIR" ]; then
    export KRB5_CONFIG="$DIR/krb5/krb5.conf" KRB5_KTNAME="FILE:$DIR/krb5/service.keytab"
    export KRB5RCACHEDIR="$DIR/krb5/rcache"
fi
if [ -n "$PYTHON" ]; then
    # Start the receiver (as the Cyrus user, so that the master's SIGTERM to its process group
    # reaches it), wait for its socket DIR/socket/syslog, then run the master in a mount
    # namespace whose /dev is a tmpfs of our own with /dev/log -> that socket.
    setsid sh -c '
        D=$1 U=$2 G=$3 PY=$4; shift 4
        setpriv --reuid="$U" --regid="$G" --init-groups -- \
            "$PY" "$D/syslog.py" "$D/socket/syslog" "$D/syslog.log" </dev/null &
        i=0; while [ ! -S "$D/socket/syslog" ] && [ $i -lt 300 ]; do sleep 0.01; i=$((i + 1)); done
        exec unshare -m sh -c '\''
            D=$1; shift
            N=$D/ns-dev
            mount -t tmpfs -o mode=0755,size=64k cyrus-dev "$N" || exit 1
            for n in null zero full random urandom tty; do
                [ -e "/dev/$n" ] || continue
                : >"$N/$n" && mount --bind "/dev/$n" "$N/$n" || exit 1
            done
            ln -s /proc/self/fd "$N/fd"; ln -s fd/0 "$N/stdin"; ln -s fd/1 "$N/stdout"; ln -s fd/2 "$N/stderr"
            ln -s "$D/socket/syslog" "$N/log"
            mount --move "$N" /dev || exit 1
            exec "$@"'\'' sh "$D" "$@"' sh "$DIR" "$RUN_USER" "$RUN_GROUP" "$PYTHON" "${MASTER[@]}" \
        </dev/null >>"$DIR/master.log" 2>&1 &
else
    setsid "${MASTER[@]}" </dev/null >>"$DIR/master.log" 2>&1 &
fi
# setsid runs in a child of this script, not a process group leader, so it execs without forking:
# $! is the session's (and process group's) leader, which ends up exec'ing the master
pid=$!
echo "$pid" >"$DIR/master.pid"   # the master writes the same pid once it runs

master_failed() {
    echo "cyrus-imapd.sh: $1; last lines of master.log, syslog.log and setup.log:" >&2
    tail -n 20 "$DIR/master.log" "$DIR/syslog.log" "$LOG" >&2 2>/dev/null || true
    (stop "$DIR")
    exit 1
}

# ---- wait for the greeting on PORT -----------------------------------------------------------
greeting() { # PORT: read the first line the server sends
    local line
    exec 3<>"/dev/tcp/127.0.0.1/$1" || return 1
    IFS= read -r -t 2 line <&3 || { exec 3<&-; return 1; }
    printf 'a LOGOUT\r\n' >&3 2>/dev/null || true
    exec 3<&-
    [[ $line == "* OK"* ]]
}
ready=""
for _ in $(seq 250); do
    alive "$pid" || master_failed "the master exited"
    if greeting "$PORT" 2>/dev/null; then ready=1; break; fi
    sleep 0.02
done
[ -n "$ready" ] || master_failed "no IMAP greeting on 127.0.0.1:$PORT within 5 s"

# ---- mail: five messages for alice, over LMTP ------------------------------------------------
M="$DIR/mail"
msg_header() { # N SUBJECT [extra header lines]: the RFC 5322 header of message N, CRLF lines
    local days=(Mon Tue Wed Thu Fri)
    printf 'Date: %s, 0%d Jan 2024 12:00:00 +0000\r\n' "${days[$1 - 1]}" "$1"
    printf 'From: Sender <sender@localhost>\r\nTo: Alice <alice@localhost>\r\n'
    printf 'Subject: %s\r\n' "$2"
    printf 'Message-ID: <sealstream-test-%d@localhost>\r\nMIME-Version: 1.0\r\n' "$1"
    shift 2
    local h
    for h in "$@"; do printf '%s\r\n' "$h"; done
    printf '\r\n'
}
{
    msg_header 1 "sealstream test 1: hello" "Content-Type: text/plain; charset=us-ascii"
    printf 'Hello Alice,\r\n\r\nthis is the first test message.\r\n'
} >"$M/1.eml"
{
    msg_header 2 "sealstream test 2: utf-8" "Content-Type: text/plain; charset=utf-8" \
        "Content-Transfer-Encoding: 8bit"
    printf 'Gr\303\274\303\237e aus dem Caf\303\251 \342\200\224 UTF-8 in the body.\r\n'
} >"$M/2.eml"
{
    msg_header 3 "sealstream test 3: large" "Content-Type: text/plain; charset=us-ascii"
    # 3300 lines of 76 characters + CRLF: "%05d " and 70 characters of ALNUM from i % 62
    awk 'BEGIN {
        a = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
        a = a a a
        for (i = 1; i <= 3300; i++) printf "%05d %s\r\n", i, substr(a, (i % 62) + 1, 70)
    }'
} >"$M/3.eml"
{
    msg_header 4 "sealstream test 4: flags" "Content-Type: text/plain; charset=us-ascii"
    printf 'The fourth message.\r\n'
} >"$M/4.eml"
{
    msg_header 5 "sealstream test 5: last" "Content-Type: text/plain; charset=us-ascii"
    printf 'The fifth and last message.\r\n'
} >"$M/5.eml"
chmod 644 "$M"/*.eml
for n in 1 2 3 4 5; do
    as_cyrus "$CYRUS_BIN/deliver" -C "$DIR/imapd.conf" -r sender@localhost alice <"$M/$n.eml" \
        >>"$LOG" 2>&1 || master_failed "delivering message $n to alice failed (deliver exit $?)"
done
INBOX=$(as_cyrus "$CYRUS_BIN/mbpath" -C "$DIR/imapd.conf" -u alice 2>>"$LOG") ||
    master_failed "mbpath -u alice failed"
echo "$INBOX" >"$DIR/inbox-path"
for n in 1 2 3 4 5; do
    cp "$INBOX/$n." "$DIR/expected/$n.eml" 2>>"$LOG" || master_failed "no message file $INBOX/$n."
done
chmod 644 "$DIR/expected"/*.eml "$DIR/inbox-path"

# ---- IMAPS: the greeting over TLS, with the certificate verified for localhost ----------------
tls_greeting() {
    local out
    out=$(printf 'a LOGOUT\r\n' | timeout 5 openssl s_client -quiet -ign_eof -connect "127.0.0.1:$SPORT" \
        -servername localhost -CAfile "$DIR/ca.pem" -verify_return_error -verify_hostname localhost \
        2>>"$LOG") || true
    [[ $out == "* OK"* ]]
}
ready=""
for _ in $(seq 50); do
    alive "$pid" || master_failed "the master exited"
    if tls_greeting; then ready=1; break; fi
    sleep 0.1
done
[ -n "$ready" ] || master_failed "no IMAPS greeting on 127.0.0.1:$SPORT"
echo "cyrus-imapd.sh: master pid $pid serving IMAP on 127.0.0.1:$PORT and IMAPS on 127.0.0.1:$SPORT (sasl_minimum_layer $MINLAYER; $MECHS)" >&2
}

case "${1:-}" in
    start) shift; start "$@" ;;
    stop) shift; stop "$@" ;;
    *) usage ;;
esac
