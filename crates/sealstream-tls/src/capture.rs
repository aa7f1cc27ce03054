//! What rustls knows during a handshake but its unbuffered API does not hand out.
//!
//! rustls 0.23's unbuffered connections have no `export_keying_material`, and the unbuffered
//! server does not say which certificate it presented or which name the client asked for, yet
//! channel bindings need the first two (RFC 9266 `tls-exporter`, RFC 5929
//! `tls-server-end-point` on the server side) and servers want the third. Nor does secret
//! extraction hand out the TLS 1.3 traffic secrets, only the keys derived from them, and the
//! KeyUpdate ratchet needs the secrets ([`crate::key_schedule`]). rustls does report all of
//! these to two hooks of the config: the key log receives the TLS 1.3 exporter master secret
//! and both application traffic secrets (and a TLS 1.2 master secret with the client's random),
//! and the server's certificate resolver sees the ClientHello (with its SNI) and returns the
//! certificate it will present. The server's random, which a TLS 1.2 exporter needs too, is
//! read from the ServerHello as it passes ([`server_random`]).
//!
//! The connector and acceptor install wrappers around the user's hooks in their copy of the
//! config. Both hooks run synchronously inside `process_tls_records`, on the thread that drives
//! the handshake, so [`during`] opens a thread-local slot around each of those calls and the
//! wrappers fill it. The user's own key log and resolver still see every call.

use std::cell::RefCell;
use std::sync::Arc;

use rustls::KeyLog;
use rustls::server::{ClientHello, ResolvesServerCert};
use rustls::sign::CertifiedKey;
use zeroize::Zeroizing;

/// The key log label of a TLS 1.2 master secret (logged with the client's random).
const CLIENT_RANDOM: &str = "CLIENT_RANDOM";
/// The key log label of the TLS 1.3 exporter master secret.
const EXPORTER_SECRET: &str = "EXPORTER_SECRET";
/// The key log labels of the first TLS 1.3 application traffic secrets (RFC 8446 §7.1
/// `client_application_traffic_secret_0`, `server_application_traffic_secret_0`).
const CLIENT_TRAFFIC_SECRET: &str = "CLIENT_TRAFFIC_SECRET_0";
const SERVER_TRAFFIC_SECRET: &str = "SERVER_TRAFFIC_SECRET_0";

/// What the hooks reported for one connection.
#[derive(Default)]
pub(crate) struct Captured {
    /// The TLS 1.3 exporter master secret.
    pub(crate) exporter_secret: Option<Zeroizing<Vec<u8>>>,
    /// The TLS 1.3 client application traffic secret.
    pub(crate) client_traffic_secret: Option<Zeroizing<Vec<u8>>>,
    /// The TLS 1.3 server application traffic secret.
    pub(crate) server_traffic_secret: Option<Zeroizing<Vec<u8>>>,
    /// The certificate this server presented.
    pub(crate) server_key: Option<Arc<CertifiedKey>>,
    /// The server name the client sent (SNI), seen by this server.
    pub(crate) sni: Option<String>,
    /// A TLS 1.2 master secret and the client's random it was logged with.
    pub(crate) tls12_master: Option<(Vec<u8>, Zeroizing<Vec<u8>>)>,
}

thread_local! {
    static SLOT: RefCell<Option<Captured>> = const { RefCell::new(None) };
}

/// Run `f` (one call into rustls for this connection) with the hooks reporting into `into`.
pub(crate) fn during<R>(into: &mut Captured, f: impl FnOnce() -> R) -> R {
    SLOT.with(|slot| *slot.borrow_mut() = Some(Captured::default()));
    let result = f();
    if let Some(got) = SLOT.with(|slot| slot.borrow_mut().take()) {
        if got.exporter_secret.is_some() {
            into.exporter_secret = got.exporter_secret;
        }
        if got.client_traffic_secret.is_some() {
            into.client_traffic_secret = got.client_traffic_secret;
        }
        if got.server_traffic_secret.is_some() {
            into.server_traffic_secret = got.server_traffic_secret;
        }
        if got.server_key.is_some() {
            into.server_key = got.server_key;
        }
        if got.sni.is_some() {
            into.sni = got.sni;
        }
        if got.tls12_master.is_some() {
            into.tls12_master = got.tls12_master;
        }
    }
    result
}

fn report(f: impl FnOnce(&mut Captured)) {
    SLOT.with(|slot| {
        if let Some(captured) = slot.borrow_mut().as_mut() {
            f(captured);
        }
    });
}

/// The random of a ServerHello at the start of `records` (the first bytes a server sends, in
/// the clear): record header (type 22), handshake header (type 2), version, then the 32-byte
/// random (RFC 5246 §7.4.1.3, RFC 8446 §4.1.3).
pub(crate) fn server_random(records: &[u8]) -> Option<[u8; 32]> {
    const HANDSHAKE: u8 = 22;
    const SERVER_HELLO: u8 = 2;
    const RANDOM_AT: usize = 5 + 4 + 2;
    if records.first() != Some(&HANDSHAKE) || records.get(5) != Some(&SERVER_HELLO) {
        return None;
    }
    // The first record must hold the random itself: a ServerHello split into tiny fragments
    // (a small max_fragment_size) would have this read record headers instead.
    let record_len = usize::from(u16::from_be_bytes([*records.get(3)?, *records.get(4)?]));
    if record_len < 4 + 2 + 32 {
        return None;
    }
    records.get(RANDOM_AT..RANDOM_AT + 32)?.try_into().ok()
}

/// The hash of the TLS 1.2 handshake messages up to the first ChangeCipherSpec, in the order
/// they crossed the wire: what the first Finished message is computed over, and so what
/// `tls-unique` (RFC 5929 §3: that Finished message's verify_data) is derived from. Both
/// directions' flights alternate, so hashing each direction's records as they are sent or
/// revealed to rustls keeps the order. The suite (and so the hash: SHA-256 or SHA-384 for
/// TLS 1.2's PRF) is not known until the ServerHello, so both run; nothing is buffered.
#[derive(Default)]
pub(crate) struct Transcript {
    sha256: sha2::Sha256,
    sha384: sha2::Sha384,
    /// Who sent the first ChangeCipherSpec (and so the first Finished): `Some(true)` for the
    /// client. Nothing is hashed after it.
    first_ccs_from_client: Option<bool>,
}

impl Transcript {
    /// Hash the handshake records among whole `records`, sent by the client when
    /// `from_client`.
    pub(crate) fn records(&mut self, mut records: &[u8], from_client: bool) {
        use sha2::Digest;
        const CHANGE_CIPHER_SPEC: u8 = 20;
        const HANDSHAKE: u8 = 22;
        while self.first_ccs_from_client.is_none() && records.len() >= 5 {
            let len = usize::from(u16::from_be_bytes([records[3], records[4]]));
            let Some(payload) = records.get(5..5 + len) else {
                return;
            };
            match records[0] {
                CHANGE_CIPHER_SPEC => self.first_ccs_from_client = Some(from_client),
                HANDSHAKE => {
                    self.sha256.update(payload);
                    self.sha384.update(payload);
                }
                _ => {}
            }
            records = &records[5 + len..];
        }
    }

    /// The hash (of `hash_len` bytes: 32 or 48) of the messages before the first Finished,
    /// and whether the client sent that Finished.
    pub(crate) fn before_first_finished(&self, hash_len: usize) -> Option<(Vec<u8>, bool)> {
        use sha2::Digest;
        let client_first = self.first_ccs_from_client?;
        let hash = match hash_len {
            32 => self.sha256.clone().finalize().to_vec(),
            48 => self.sha384.clone().finalize().to_vec(),
            _ => return None,
        };
        Some((hash, client_first))
    }
}

/// The user's key log (if any), plus the secrets this crate needs.
#[derive(Debug)]
pub(crate) struct CapturingKeyLog {
    pub(crate) inner: Arc<dyn KeyLog>,
}

impl KeyLog for CapturingKeyLog {
    fn log(&self, label: &str, client_random: &[u8], secret: &[u8]) {
        let kept = || Some(Zeroizing::new(secret.to_vec()));
        match label {
            EXPORTER_SECRET => report(|c| c.exporter_secret = kept()),
            CLIENT_TRAFFIC_SECRET => report(|c| c.client_traffic_secret = kept()),
            SERVER_TRAFFIC_SECRET => report(|c| c.server_traffic_secret = kept()),
            CLIENT_RANDOM => report(|c| {
                c.tls12_master = Some((client_random.to_vec(), Zeroizing::new(secret.to_vec())));
            }),
            _ => {}
        }
        if self.inner.will_log(label) {
            self.inner.log(label, client_random, secret);
        }
    }

    fn will_log(&self, label: &str) -> bool {
        matches!(
            label,
            EXPORTER_SECRET | CLIENT_TRAFFIC_SECRET | SERVER_TRAFFIC_SECRET | CLIENT_RANDOM
        ) || self.inner.will_log(label)
    }
}

/// The user's certificate resolver, reporting the certificate it chose.
#[derive(Debug)]
pub(crate) struct CapturingResolver {
    pub(crate) inner: Arc<dyn ResolvesServerCert>,
}

impl ResolvesServerCert for CapturingResolver {
    fn resolve(&self, client_hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        let sni = client_hello.server_name().map(String::from);
        let key = self.inner.resolve(client_hello);
        report(|c| {
            c.sni = sni;
            c.server_key = key.clone();
        });
        key
    }

    fn only_raw_public_keys(&self) -> bool {
        self.inner.only_raw_public_keys()
    }
}
