//! Running sealcat as a user does, for the CLI tests: a listener in the background and the
//! address it printed, a connecting client fed from a thread, and checks of failed runs.

#![allow(dead_code)] // each test file uses its own subset

use std::io::{BufRead, BufReader, Write};
use std::path::PathBuf;
use std::process::{Child, ChildStderr, Command, Output, Stdio};
use std::time::Duration;

pub(crate) fn sealcat() -> Command {
    Command::new(env!("CARGO_BIN_EXE_sealcat"))
}

pub(crate) fn temp_path(name: &str) -> PathBuf {
    std::env::temp_dir().join(format!("sealcat-{}-{name}", std::process::id()))
}

/// Bytes that show any loss, reordering or duplication.
pub(crate) fn pattern(seed: u8, len: usize) -> Vec<u8> {
    (0..len).map(|i| (i % 251) as u8 ^ seed).collect()
}

/// A running `sealcat listen`, the address it printed and the rest of its stderr.
pub(crate) struct Listener {
    pub(crate) child: Child,
    pub(crate) addr: String,
    /// The first line it printed.
    pub(crate) banner: String,
    pub(crate) stderr: BufReader<ChildStderr>,
}

impl Drop for Listener {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Listener {
    /// The next line the listener prints on stderr.
    pub(crate) fn next_line(&mut self) -> String {
        let mut line = String::new();
        self.stderr.read_line(&mut line).unwrap();
        line
    }
}

/// `sealcat listen 127.0.0.1:0 SEAL... ARGS...`, once it is listening.
pub(crate) fn listen(seal: &[&str], args: &[&str], env: &[(&str, &str)]) -> Listener {
    let mut child = sealcat()
        .args(["listen", "127.0.0.1:0"])
        .args(seal)
        .args(args)
        .envs(env.iter().copied())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("sealcat listen starts");
    let mut stderr = BufReader::new(child.stderr.take().unwrap());
    // Other lines (the tokio-console server's, say) may come first: the banner is the
    // "listening on" line, and everything read up to it is kept in `banner`.
    let mut banner = String::new();
    let addr = loop {
        let mut line = String::new();
        if stderr.read_line(&mut line).unwrap() == 0 {
            panic!("sealcat listen ended before listening: {banner:?}");
        }
        banner.push_str(&line);
        if let Some(rest) = line.split("listening on ").nth(1) {
            break rest
                .split_whitespace()
                .next()
                .unwrap_or_else(|| panic!("no address in {line:?}"))
                .to_string();
        }
    };
    Listener {
        child,
        addr,
        banner,
        stderr,
    }
}

/// Run `sealcat connect ADDR SEAL... ARGS...` with `input` on stdin.
pub(crate) fn connect(
    addr: &str,
    seal: &[&str],
    args: &[&str],
    env: &[(&str, &str)],
    input: Vec<u8>,
) -> Output {
    let mut child = sealcat()
        .args(["connect", addr])
        .args(seal)
        .args(args)
        .envs(env.iter().copied())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("sealcat connect starts");
    let mut stdin = child.stdin.take().unwrap();
    let feeder = std::thread::spawn(move || {
        let _ = stdin.write_all(&input);
    });
    let out = wait_with_deadline(child, Duration::from_secs(30));
    feeder.join().unwrap();
    out
}

/// Run sealcat with `args` and nothing on stdin.
pub(crate) fn run(args: &[&str]) -> Output {
    wait_with_deadline(
        sealcat()
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap(),
        Duration::from_secs(20),
    )
}

pub(crate) fn wait_with_deadline(child: Child, deadline: Duration) -> Output {
    let id = child.id();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(child.wait_with_output());
    });
    rx.recv_timeout(deadline)
        .unwrap_or_else(|_| {
            let _ = Command::new("kill").arg(id.to_string()).status();
            panic!("sealcat did not finish within {deadline:?}")
        })
        .unwrap()
}

pub(crate) fn stderr_of(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// A failed run: exit `code`, one line on stderr containing `expected`, no panic.
pub(crate) fn assert_fails(out: &Output, code: i32, expected: &str) {
    let err = stderr_of(out);
    assert_eq!(out.status.code(), Some(code), "stderr: {err}");
    assert!(err.contains(expected), "expected {expected:?} in {err:?}");
    assert!(!err.contains("panicked"), "{err}");
    assert_eq!(err.trim_end().lines().count(), 1, "one line: {err:?}");
}
