//! `sealcat connect|listen --sasl ntlm` and `--sasl gss-spnego` with NTLM, as a user runs
//! them: both layers end to end with data far larger than a frame, the start-up and connection
//! lines, and what a wrong password or missing option gives. (Against other implementations:
//! the interop tests with gss-ntlmssp, Cyrus SASL and Samba; Kerberos inside GSS-SPNEGO is in
//! `gssapi.rs`, which has a KDC.)

mod common;

use common::{Listener, assert_fails, pattern, stderr_of};

const USER: &str = r"SEALCAT\alice";
const PASSWORD: &str = "alice-password";

fn listen(mech: &str, args: &[&str]) -> Listener {
    common::listen(
        &["--sasl", mech, "--user", USER],
        args,
        &[("SEALCAT_PASSWORD", PASSWORD)],
    )
}

fn connect(
    addr: &str,
    mech: &str,
    password: &str,
    args: &[&str],
    input: Vec<u8>,
) -> std::process::Output {
    common::connect(
        addr,
        &["--sasl", mech, "--user", USER],
        args,
        &[("SEALCAT_PASSWORD", password)],
        input,
    )
}

#[test]
fn both_layers_echo_through_ntlm_and_gss_spnego() {
    for (i, mech) in ["ntlm", "gss-spnego"].into_iter().enumerate() {
        let name = if mech == "ntlm" { "NTLM" } else { "GSS-SPNEGO" };
        for (j, (qop, expected)) in [
            ("auth-int", "layer auth-int, SSF 1"),
            ("auth-conf", "layer auth-conf (rc4), SSF 128"),
        ]
        .into_iter()
        .enumerate()
        {
            let mut server = listen(mech, &["--echo", "--once", "-v"]);
            assert!(
                server.banner.contains(&format!(
                    "SASL {}",
                    if mech == "ntlm" {
                        "NTLM for SEALCAT\\alice".to_owned()
                    } else {
                        "GSS-SPNEGO (NTLM for SEALCAT\\alice)".to_owned()
                    }
                )),
                "{}",
                server.banner
            );
            let data = pattern((2 * i + j) as u8, 300_000);
            let out = connect(
                &server.addr,
                mech,
                PASSWORD,
                &["--qop", qop, "-v"],
                data.clone(),
            );
            let err = stderr_of(&out);
            assert!(out.status.success(), "{mech} {qop}: {err}");
            assert!(out.stdout == data, "{mech} {qop}: echoed bytes differ");
            assert!(
                err.contains(&format!("{name} as {USER}, {expected}")),
                "{mech} {qop}: {err}"
            );
            let line = server.next_line();
            assert!(line.contains(expected), "the server agrees: {line}");
            assert!(server.child.wait().unwrap().success());
        }
    }
}

#[test]
fn a_upn_names_the_same_account() {
    let mut server = listen("ntlm", &["--echo", "--once", "-v"]);
    let out = common::connect(
        &server.addr,
        &["--sasl", "ntlm", "--user", "alice@sealcat"],
        &["--qop", "auth-conf", "-v"],
        &[("SEALCAT_PASSWORD", PASSWORD)],
        b"hello\n".to_vec(),
    );
    assert!(out.status.success(), "{}", stderr_of(&out));
    assert_eq!(out.stdout, b"hello\n");
    assert!(server.next_line().contains("NTLM as alice@sealcat"));
    assert!(server.child.wait().unwrap().success());
}

#[test]
fn wrong_passwords_and_missing_options_fail_with_one_line() {
    for mech in ["ntlm", "gss-spnego"] {
        let server = listen(mech, &["--echo"]);
        let out = connect(
            &server.addr,
            mech,
            "not her password",
            &["--qop", "auth-conf"],
            Vec::new(),
        );
        assert_fails(&out, 1, "wrong password");
        let out = connect(
            &server.addr,
            mech,
            PASSWORD,
            &["--cipher", "rc4"],
            Vec::new(),
        );
        assert_fails(&out, 1, "--cipher");
    }
    let out = common::run(&["listen", "127.0.0.1:0", "--sasl", "ntlm"]);
    assert_fails(&out, 1, "--sasl ntlm needs --user and --password");
    let out = common::run(&["listen", "127.0.0.1:0", "--sasl", "gss-spnego"]);
    assert_fails(&out, 1, "--keytab");
}
