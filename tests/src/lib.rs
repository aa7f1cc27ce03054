//! Helpers shared by the end-to-end and interop tests in `tests/`: loopback connections and,
//! as sealers land, the real peers those tests start.

use tokio::net::{TcpListener, TcpStream};

pub mod cyrus;
pub mod mitkdc;
pub mod samba;
pub mod slapd;

/// A connected pair of loopback TCP sockets: (client side, server side).
pub async fn tcp_pair() -> std::io::Result<(TcpStream, TcpStream)> {
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let (client, accepted) = tokio::join!(TcpStream::connect(addr), listener.accept());
    let client = client?;
    let (server, _) = accepted?;
    client.set_nodelay(true)?;
    server.set_nodelay(true)?;
    Ok((client, server))
}

/// A deterministic byte pattern that differs between streams, so a byte delivered to the wrong
/// connection or at the wrong offset is caught.
pub fn pattern(seed: u64, len: usize) -> Vec<u8> {
    let mut state = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    (0..len)
        .map(|_| {
            // xorshift64
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state as u8
        })
        .collect()
}

pub mod tls {
    //! Certificates and rustls configurations for TLS tests: one self-signed `localhost`
    //! certificate, and client/server configs pinned to one version and one cipher suite.

    use std::sync::Arc;

    use rustls::crypto::aws_lc_rs;
    use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer, ServerName};
    use rustls::{
        ClientConfig, RootCertStore, ServerConfig, SupportedCipherSuite, SupportedProtocolVersion,
    };

    /// A self-signed certificate for `localhost` and `127.0.0.1`, with its key.
    pub struct Identity {
        /// The certificate, DER.
        pub cert: CertificateDer<'static>,
        /// The PKCS#8 private key, DER.
        pub key: PrivatePkcs8KeyDer<'static>,
        /// The certificate, PEM (for openssl and curl).
        pub cert_pem: String,
        /// The key, PEM.
        pub key_pem: String,
    }

    impl std::fmt::Debug for Identity {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.debug_struct("Identity").finish_non_exhaustive()
        }
    }

    /// A fresh identity (ECDSA P-256 with SHA-256).
    pub fn identity() -> Identity {
        identity_signed_with(&rcgen::PKCS_ECDSA_P256_SHA256)
    }

    /// A fresh identity whose key and self-signature use `algorithm`.
    pub fn identity_signed_with(algorithm: &'static rcgen::SignatureAlgorithm) -> Identity {
        let key = rcgen::KeyPair::generate_for(algorithm).expect("key generation");
        let params = rcgen::CertificateParams::new(vec!["localhost".into(), "127.0.0.1".into()])
            .expect("valid names");
        let cert = params.self_signed(&key).expect("self-signed certificate");
        Identity {
            cert: cert.der().clone(),
            key: PrivatePkcs8KeyDer::from(key.serialize_der()),
            cert_pem: cert.pem(),
            key_pem: key.serialize_pem(),
        }
    }

    /// The protocol versions by name.
    pub fn version(tls13: bool) -> &'static SupportedProtocolVersion {
        if tls13 {
            &rustls::version::TLS13
        } else {
            &rustls::version::TLS12
        }
    }

    /// The three AEAD suites of `version`.
    pub fn suites(tls13: bool) -> Vec<SupportedCipherSuite> {
        use aws_lc_rs::cipher_suite::*;
        if tls13 {
            vec![
                TLS13_AES_128_GCM_SHA256,
                TLS13_AES_256_GCM_SHA384,
                TLS13_CHACHA20_POLY1305_SHA256,
            ]
        } else {
            vec![
                TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
                TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
                TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
            ]
        }
    }

    fn provider(suite: Option<SupportedCipherSuite>) -> Arc<rustls::crypto::CryptoProvider> {
        let mut provider = aws_lc_rs::default_provider();
        if let Some(suite) = suite {
            provider.cipher_suites = vec![suite];
        }
        Arc::new(provider)
    }

    /// A server config for `id`, limited to `suite` (any of the version's if `None`).
    pub fn server(
        id: &Identity,
        tls13: bool,
        suite: Option<SupportedCipherSuite>,
    ) -> Arc<ServerConfig> {
        Arc::new(
            ServerConfig::builder_with_provider(provider(suite))
                .with_protocol_versions(&[version(tls13)])
                .expect("version and suite agree")
                .with_no_client_auth()
                .with_single_cert(
                    vec![id.cert.clone()],
                    PrivateKeyDer::Pkcs8(id.key.clone_key()),
                )
                .expect("certificate and key match"),
        )
    }

    /// A client config trusting `id`, limited to `suite` (any of the version's if `None`).
    pub fn client(
        id: &Identity,
        tls13: bool,
        suite: Option<SupportedCipherSuite>,
    ) -> Arc<ClientConfig> {
        let mut roots = RootCertStore::empty();
        roots.add(id.cert.clone()).expect("valid certificate");
        Arc::new(
            ClientConfig::builder_with_provider(provider(suite))
                .with_protocol_versions(&[version(tls13)])
                .expect("version and suite agree")
                .with_root_certificates(roots)
                .with_no_client_auth(),
        )
    }

    /// The name our test certificate is valid for.
    pub fn localhost() -> ServerName<'static> {
        ServerName::try_from("localhost").expect("valid name")
    }
}

pub mod gss_sample {
    //! The token framing of MIT's gss-sample programs (`gss-misc.c`, protocol version 2): a
    //! flags byte, a 4-byte big-endian length, the token. `gss-server` and `gss-client` speak
    //! it with any GSS-API mechanism the system library has (Kerberos; NTLM with gss-ntlmssp).

    /// No token: the end of the session, or (with [`CONTEXT_NEXT`]) "a context follows".
    pub const NOOP: u8 = 1;
    /// A context-establishment token.
    pub const CONTEXT: u8 = 2;
    /// An application message.
    pub const DATA: u8 = 4;
    /// A MIC token over the last message.
    pub const MIC: u8 = 8;
    /// With [`NOOP`] first: context tokens follow.
    pub const CONTEXT_NEXT: u8 = 16;
    /// The message is a Wrap token.
    pub const WRAPPED: u8 = 32;
    /// The sender asked for confidentiality.
    pub const ENCRYPTED: u8 = 64;
    /// The sender wants a MIC back.
    pub const SEND_MIC: u8 = 128;

    /// Send one token.
    pub fn send(s: &mut impl std::io::Write, flags: u8, token: &[u8]) {
        let mut out = vec![flags];
        out.extend_from_slice(&(token.len() as u32).to_be_bytes());
        out.extend_from_slice(token);
        s.write_all(&out).unwrap();
    }

    /// Start `gss-server` with `args` (which should include `-port 0` and `-once`) and `env`:
    /// the process, its stdout and stderr piped, and the port it listens on.
    pub async fn gss_server(
        args: &[&std::ffi::OsStr],
        env: &[(&str, &std::ffi::OsStr)],
    ) -> (std::process::Child, u16) {
        use std::io::Read;
        let mut server = std::process::Command::new("gss-server")
            .args(args)
            .envs(env.iter().copied())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("gss-server runs");
        let Some(port) = crate::peer::listening_port(server.id()).await else {
            let mut err = String::new();
            let _ = server.stderr.take().map(|mut e| e.read_to_string(&mut err));
            panic!("gss-server exited before it listened: {err}");
        };
        (server, port)
    }

    /// Receive one token: its flags and bytes.
    pub fn recv(s: &mut impl std::io::Read) -> (u8, Vec<u8>) {
        let mut header = [0u8; 5];
        s.read_exact(&mut header).unwrap();
        let len = u32::from_be_bytes(header[1..].try_into().unwrap()) as usize;
        let mut token = vec![0u8; len];
        s.read_exact(&mut token).unwrap();
        (header[0], token)
    }
}

pub mod peer {
    //! Real peers started by the tests on loopback.

    use std::net::{Ipv4Addr, SocketAddrV4, TcpListener};
    use std::path::PathBuf;
    use std::time::Duration;

    /// The path of `tool`, or `None` when it is missing and this is not CI. Under `CI=true` a
    /// missing peer fails the test: `scripts/install-test-deps.sh` must have installed it.
    pub fn require(tool: &str) -> Option<PathBuf> {
        let found = std::env::var_os("PATH").and_then(|paths| {
            std::env::split_paths(&paths)
                .map(|dir| dir.join(tool))
                .find(|p| p.is_file())
        });
        if found.is_none() {
            assert!(
                std::env::var("CI").as_deref() != Ok("true"),
                "{tool} is not installed; scripts/install-test-deps.sh installs it"
            );
            eprintln!(
                "skipping: {tool} is not installed (scripts/install-test-deps.sh installs it)"
            );
        }
        found
    }

    /// The exit status of a tests/peers script whose packages are missing.
    const MISSING_PACKAGES: i32 = 3;

    /// Start the peer of `script` (a tests/peers starter: `start DIR PORT ...`, exit status 3
    /// when its packages are missing, "already in use" in its message when the port was taken)
    /// on a free port, in a fresh directory named after `name`, the process and the port.
    /// `command` builds the start command for a port and directory. A port another process
    /// took before the peer bound it is retried on another (four times). The directory and
    /// port; `None` when the packages are missing outside CI (under `CI=true` that fails).
    pub fn start_script(
        script: &str,
        name: &str,
        command: impl Fn(u16, &std::path::Path) -> std::process::Command,
    ) -> Option<(PathBuf, u16)> {
        for attempt in 1.. {
            let port = free_port();
            let dir = std::env::temp_dir()
                .join(format!("sealstream-{name}-{}-{port}", std::process::id()));
            let out = command(port, &dir)
                .output()
                .unwrap_or_else(|e| panic!("{script} runs: {e}"));
            let stderr = String::from_utf8_lossy(&out.stderr);
            if out.status.code() == Some(MISSING_PACKAGES) {
                assert!(std::env::var("CI").as_deref() != Ok("true"), "{stderr}");
                eprintln!("skipping: {stderr}");
                return None;
            }
            if out.status.success() {
                return Some((dir, port));
            }
            assert!(
                stderr.contains("already in use") && attempt < 5,
                "{name} did not start (attempt {attempt}): {stderr}"
            );
            eprintln!("port {port} was taken before {name} bound it; trying another");
            let _ = std::fs::remove_dir_all(&dir);
        }
        unreachable!("the loop returns or fails")
    }

    /// A free TCP port on 127.0.0.1 below the ephemeral range (32768-60999 here), so a client
    /// socket cannot take it between this check and the peer's bind. A port is handed out once
    /// per process: tests run in parallel, and two peers told the same port would have one of
    /// them fail to bind and its client talk to the other's peer.
    ///
    /// Another process can still bind it between this check and the peer's bind: a peer that
    /// can listen on port 0 is better started so and found with [`listening_port`]; one that
    /// cannot must be retried on another port when its bind fails.
    pub fn free_port() -> u16 {
        static HANDED_OUT: std::sync::Mutex<Vec<u16>> = std::sync::Mutex::new(Vec::new());
        let mut handed_out = HANDED_OUT.lock().unwrap_or_else(|e| e.into_inner());
        let seed = std::process::id() as u64
            ^ std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_nanos() as u64)
                .unwrap_or(0);
        let mut state = seed | 1;
        for _ in 0..1000 {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            let port = 20000 + (state % 12000) as u16;
            if !handed_out.contains(&port)
                && TcpListener::bind(SocketAddrV4::new(Ipv4Addr::LOCALHOST, port)).is_ok()
            {
                handed_out.push(port);
                return port;
            }
        }
        panic!("no free port between 20000 and 32000");
    }

    /// Compile the Java peer `tests/java/{class}.java` with `javac` into a fresh directory under
    /// the system temp dir; the directory to put on `java -cp`. `None` when the JDK is missing
    /// outside CI (see [`require`]).
    pub fn compile_java(class: &str) -> Option<PathBuf> {
        let javac = require("javac")?;
        require("java")?;
        let source = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("java")
            .join(format!("{class}.java"));
        let out = std::env::temp_dir().join(format!(
            "sealstream-java-{class}-{}-{:?}",
            std::process::id(),
            std::thread::current().id()
        ));
        std::fs::create_dir_all(&out).expect("temp dir for Java classes");
        let status = std::process::Command::new(javac)
            .arg("-d")
            .arg(&out)
            .arg(&source)
            .status()
            .expect("javac runs");
        assert!(status.success(), "javac failed on {}", source.display());
        Some(out)
    }

    /// The TCP port the process `pid` listens on, once it does (at most 10 s): for a peer told
    /// to listen on port 0, so that no port is chosen by us and then lost to someone else before
    /// the peer binds it. Read from `/proc`: the listening sockets of the peer's network
    /// namespace (`/proc/PID/net/tcp`, `tcp6`) whose inodes are among the peer's open files.
    /// `None` if the process exits first (or has exited and waits to be reaped).
    pub async fn listening_port(pid: u32) -> Option<u16> {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
        loop {
            let proc = PathBuf::from(format!("/proc/{pid}"));
            // "PID (COMM) STATE ...": gone, or a zombie, means it will never listen.
            let stat = std::fs::read_to_string(proc.join("stat")).unwrap_or_default();
            let state = stat
                .rsplit_once(')')
                .and_then(|(_, rest)| rest.trim_start().chars().next());
            if matches!(state, None | Some('Z' | 'X')) {
                return None;
            }
            if let Some(port) = listening_port_now(&proc) {
                return Some(port);
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "process {pid} did not listen within 10 s"
            );
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }

    fn listening_port_now(proc: &std::path::Path) -> Option<u16> {
        // "socket:[12345]" for each open socket.
        let inodes: Vec<String> = std::fs::read_dir(proc.join("fd"))
            .ok()?
            .filter_map(|fd| std::fs::read_link(fd.ok()?.path()).ok())
            .filter_map(|target| {
                let target = target.to_str()?;
                Some(
                    target
                        .strip_prefix("socket:[")?
                        .strip_suffix(']')?
                        .to_owned(),
                )
            })
            .collect();
        for table in ["tcp", "tcp6"] {
            let Ok(text) = std::fs::read_to_string(proc.join("net").join(table)) else {
                continue;
            };
            // sl local_address rem_address st tx_queue:rx_queue tr:tm->when retrnsmt uid
            // timeout inode ...; st 0A is LISTEN, the port is the hex after the colon.
            for line in text.lines().skip(1) {
                let fields: Vec<&str> = line.split_whitespace().collect();
                if fields.len() > 9 && fields[3] == "0A" && inodes.iter().any(|i| i == fields[9]) {
                    let port = fields[1].rsplit(':').next()?;
                    return u16::from_str_radix(port, 16).ok();
                }
            }
        }
        None
    }

    /// Stop the peer a `tests/peers/` script started in `dir` when the test process exits: a
    /// child shell waits for this process to end, then runs `SCRIPT stop DIR`. (Statics are not
    /// dropped at exit, so nothing in this process could do it; the shell outlives us by design,
    /// which is why it is never waited for.)
    #[expect(
        clippy::zombie_processes,
        reason = "the watcher must outlive this process"
    )]
    pub fn stop_at_exit(script: &str, dir: &std::path::Path) {
        let watcher = format!(
            "while kill -0 {} 2>/dev/null; do sleep 0.2; done; {script} stop '{}'",
            std::process::id(),
            dir.display()
        );
        std::process::Command::new("sh")
            .args(["-c", &watcher])
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("sh runs");
    }

    /// Connect to 127.0.0.1:`port` once a peer listens there (at most 10 s).
    pub async fn connect_when_listening(port: u16) -> tokio::net::TcpStream {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
        loop {
            match tokio::net::TcpStream::connect((Ipv4Addr::LOCALHOST, port)).await {
                Ok(s) => return s,
                Err(e) if tokio::time::Instant::now() > deadline => {
                    panic!("peer never listened on port {port}: {e}")
                }
                Err(_) => tokio::time::sleep(Duration::from_millis(20)).await,
            }
        }
    }
}
