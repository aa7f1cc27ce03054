#!/usr/bin/env bash
# install-test-deps.sh: install what sealstream's tests need on a fresh CI machine.
# Idempotent: a second run with everything present takes <1 s (0.2 s measured) and changes nothing.
set -euo pipefail

# ---- Debian packages (grow this list) ----
# default-jdk-headless: javac and java for the DIGEST-MD5 interop peer (tests/java/DigestPeer.java).
# slapd ldap-utils libsasl2-modules: OpenLDAP with Cyrus SASL DIGEST-MD5, started per test by
#   tests/peers/slapd.sh (ldapsearch for its readiness check; libdigestmd5.so from the modules).
# krb5-kdc krb5-admin-server krb5-user krb5-gss-samples: an MIT Kerberos KDC (krb5kdc, kdb5_util,
#   kadmin.local) started per test by tests/peers/mitkdc.sh, kinit/klist/kvno, and the GSS-API
#   peers gss-server/gss-client.
# libsasl2-modules-gssapi-mit: Cyrus SASL's GSSAPI plugin, so slapd.sh's slapd offers GSSAPI.
# gss-ntlmssp: NTLM as a GSS-API mechanism for MIT's library, so gss-server/gss-client are NTLM
#   peers (tests/tests/ntlm_gss.rs).
# samba, samba-ad-dc, samba-ad-provision, samba-dsdb-modules, winbind: the Active Directory
#   domain controller tests/peers/samba-dc.sh provisions and runs on loopback.
# cyrus-imapd cyrus-clients sasl2-bin: the Cyrus IMAP server tests/peers/cyrus-imapd.sh starts
#   per test (cyrus-common comes with it; it pulls in exim4 as the MTA it wants, which the
#   policy-rc.d below keeps from starting, as it does Debian's own Cyrus), imtest to try it by
#   hand, and saslpasswd2 for its private sasldb.
APT_PACKAGES=(openssl curl pkg-config libssl-dev default-jdk-headless slapd ldap-utils libsasl2-modules
    krb5-kdc krb5-admin-server krb5-user krb5-gss-samples libsasl2-modules-gssapi-mit gss-ntlmssp
    samba samba-ad-dc samba-ad-provision samba-dsdb-modules winbind
    cyrus-imapd cyrus-clients sasl2-bin)

# ---- cargo tools, pinned (both build with rustc 1.95 stable) ----
CARGO_DENY_VERSION="0.20.2" # newest on crates.io at time of writing; rust-version 1.88
CARGO_FUZZ_VERSION="0.13.2" # newest on crates.io at time of writing
# Build jobs for `cargo install` (nothing else runs while it installs; the machine has 2 cores).
CARGO_INSTALL_JOBS="${CARGO_INSTALL_JOBS:-2}"

log() { printf '[install-test-deps] %s\n' "$*" >&2; }

# ---- apt: install only the packages that are missing ----
missing=()
for pkg in "${APT_PACKAGES[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed'; then
        missing+=("$pkg")
    fi
done
if ((${#missing[@]})); then
    log "apt: installing ${missing[*]}"
    as_root=()
    if [ "$(id -u)" -ne 0 ]; then as_root=(sudo); fi
    "${as_root[@]}" apt-get update -qq
    # The packages of servers (slapd, cyrus-common, exim4) would start a system daemon (slapd on
    # port 389 with Debian's own directory, Cyrus IMAP on 143, exim on 25) from their postinst.
    # The tests start private instances and need no system one, so invoke-rc.d is told "action
    # forbidden" (exit 101, see invoke-rc.d(8)) through /usr/sbin/policy-rc.d for the duration of
    # the install, unless the image already has one (Docker images usually do). A file we created
    # is removed again, even on failure.
    policy=/usr/sbin/policy-rc.d
    if [ ! -e "$policy" ]; then
        printf '#!/bin/sh\n# written by sealstream scripts/install-test-deps.sh during apt-get install\nexit 101\n' |
            "${as_root[@]}" tee "$policy" >/dev/null
        "${as_root[@]}" chmod 755 "$policy"
        trap '"${as_root[@]}" rm -f "$policy"' EXIT
    fi
    # noninteractive: slapd, krb5 and exim4-config would otherwise prompt via debconf
    "${as_root[@]}" env DEBIAN_FRONTEND=noninteractive \
        apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
else
    log "apt: all present (${APT_PACKAGES[*]})"
fi

# ---- cargo tools: install only if the subcommand does not already run ----
# Measured on this 2-core Debian 12 machine (other core busy), rustc 1.95, -j 1,
# fresh build dir, wall clock incl. downloading dependency crates:
#   cargo-deny 0.20.2: 265-320 s (~5 min; two runs)
#   cargo-fuzz 0.13.2: 80-82 s
cargo_tool() { # $1 = subcommand, $2 = crate, $3 = version
    local sub="$1" crate="$2" version="$3" start
    if cargo "$sub" --version >/dev/null 2>&1; then
        log "$crate: present ($(cargo "$sub" --version 2>&1 | head -n1))"
        return 0
    fi
    log "$crate: installing $version (cargo install --locked -j $CARGO_INSTALL_JOBS)"
    start=$SECONDS
    cargo install --locked --quiet -j "$CARGO_INSTALL_JOBS" --version "=$version" "$crate"
    log "$crate: installed in $((SECONDS - start)) s"
}
cargo_tool deny cargo-deny "$CARGO_DENY_VERSION"
cargo_tool fuzz cargo-fuzz "$CARGO_FUZZ_VERSION"

log "done"
