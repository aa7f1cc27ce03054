//! Handshake messages that arrive after the handshake, on the receiving half.
//!
//! TLS 1.3 allows two: NewSessionTicket (to a client) and KeyUpdate (either way). TLS 1.2 allows
//! only a renegotiation request, which we refuse: a HelloRequest to a client or a ClientHello to
//! a server gets a `no_renegotiation` warning the first time and ends the connection the second
//! time, as rustls does. Anything else is `unexpected_message`.
//!
//! Messages are read where the record was decrypted, with a cursor: a record packed with
//! thousands of small messages costs one pass over its bytes, and a message is copied only when
//! it continues in the next record (RFC 8446 §5.1 and RFC 5246 §6.2.1 let one span records).
//! Each message is checked as it is reached, so the first one that breaks a rule ends the record.

use sealstream::{AlertCode, Control, Error, Unsealed};

use super::TlsUnseal;
use crate::alert;
use crate::tickets::Direction;

/// Handshake message types that may follow the handshake.
pub(super) const HELLO_REQUEST: u8 = 0;
pub(super) const CLIENT_HELLO: u8 = 1;
pub(super) const NEW_SESSION_TICKET: u8 = 4;
pub(super) const KEY_UPDATE: u8 = 24;

/// The handshake message header: `msg_type` and a 24-bit length (RFC 8446 §4).
const MESSAGE_HEADER: usize = 4;

/// The largest post-handshake message we reassemble (session tickets are a few hundred bytes;
/// a renegotiating ClientHello a few kilobytes).
pub(super) const MAX_HANDSHAKE_MESSAGE: usize = 64 * 1024;

/// KeyUpdates accepted without application data between them: rustls (and BoringSSL's
/// `kMaxKeyUpdates`) allow 32.
pub(super) const MAX_KEY_UPDATES_IN_A_ROW: u32 = 32;

/// A handshake message begun in one record, to be finished by the next.
///
/// Boxed in [`TlsUnseal`]: almost every read half has none, and a box costs 8 bytes there.
pub(super) type Partial = Box<Vec<u8>>;

impl TlsUnseal {
    /// The handshake record `content` (decrypted, `consumed` bytes on the wire): every whole
    /// message in it handled in order, and a message cut off at its end kept for the next one.
    pub(super) fn on_handshake(
        &mut self,
        content: &[u8],
        consumed: usize,
    ) -> Result<Unsealed, Error> {
        let mut rest = content;
        let mut respond = None;
        if let Some(mut partial) = self.handshake.take() {
            // Finish the message the last record began: its header first, then its body.
            let header_missing = MESSAGE_HEADER.saturating_sub(partial.len());
            let (header, after) = rest.split_at(header_missing.min(rest.len()));
            partial.extend_from_slice(header);
            rest = after;
            let Some(&header) = partial.first_chunk::<MESSAGE_HEADER>() else {
                // This record was too short to finish even the header.
                self.handshake = Some(partial);
                return Ok(Unsealed::Consumed { consumed });
            };
            let total = MESSAGE_HEADER + self.message_len(&header)?;
            // Room for the whole message at once: the rest of it never moves the buffer.
            partial.reserve_exact(total - partial.len());
            let (body, after) = rest.split_at((total - partial.len()).min(rest.len()));
            partial.extend_from_slice(body);
            rest = after;
            if partial.len() < total {
                self.handshake = Some(partial);
                return Ok(Unsealed::Consumed { consumed });
            }
            respond = self.on_message(header[0], &partial[MESSAGE_HEADER..], rest)?;
        }
        while let Some(header) = rest.first_chunk::<MESSAGE_HEADER>() {
            let total = MESSAGE_HEADER + self.message_len(header)?;
            let Some((message, after)) = rest.split_at_checked(total) else {
                break;
            };
            rest = after;
            let answer = self.on_message(message[0], &message[MESSAGE_HEADER..], rest)?;
            // A record holds at most one message that needs an answer: a KeyUpdate must end
            // its record, and a second renegotiation request is fatal.
            debug_assert!(answer.is_none() || respond.is_none());
            respond = answer.or(respond);
        }
        if !rest.is_empty() {
            // The rest of this message comes in the next record. Its length is known once the
            // header is here: reserve it all at once (at most MAX_HANDSHAKE_MESSAGE).
            let total = rest
                .first_chunk::<MESSAGE_HEADER>()
                .map_or(MESSAGE_HEADER, |h| MESSAGE_HEADER + u24(h));
            let mut partial = Vec::with_capacity(total);
            partial.extend_from_slice(rest);
            self.handshake = Some(Box::new(partial));
        }
        Ok(match respond {
            Some(control) => Unsealed::Respond { consumed, control },
            None => Unsealed::Consumed { consumed },
        })
    }

    /// The body length a message header announces, refused above what we reassemble.
    fn message_len(&mut self, header: &[u8; MESSAGE_HEADER]) -> Result<usize, Error> {
        let len = u24(header);
        if len > MAX_HANDSHAKE_MESSAGE - MESSAGE_HEADER {
            return Err(self.fail(
                alert::UNEXPECTED_MESSAGE,
                Error::illegal_message(format!(
                    "post-handshake message of {len} bytes (at most {} are accepted)",
                    MAX_HANDSHAKE_MESSAGE - MESSAGE_HEADER
                )),
            ));
        }
        Ok(len)
    }

    /// One whole message of type `ty`; `after` is what follows it in the same record.
    fn on_message(&mut self, ty: u8, body: &[u8], after: &[u8]) -> Result<Option<Control>, Error> {
        let tls13 = self.info.is_tls13();
        let is_server = self.info.bindings.is_server;
        match ty {
            NEW_SESSION_TICKET if tls13 && !is_server => self.on_new_session_ticket(body),
            KEY_UPDATE if tls13 => self.on_key_update(body, after),
            // RFC 5246 §7.4.1.1: "The HelloRequest message MAY be sent by the server at any
            // time." RFC 5746 §4.2: a client that does not renegotiate answers it with a
            // no_renegotiation alert. The message is empty: "struct { } HelloRequest;".
            HELLO_REQUEST if !tls13 && !is_server => {
                if !body.is_empty() {
                    return Err(self.fail(
                        alert::DECODE_ERROR,
                        Error::illegal_message("HelloRequest with a body (decode_error)"),
                    ));
                }
                self.on_renegotiation_request("HelloRequest")
            }
            // RFC 5746 §4.4: a server that does not renegotiate answers a ClientHello after the
            // handshake with no_renegotiation.
            CLIENT_HELLO if !tls13 && is_server => {
                check_client_hello(body).map_err(|e| self.fail(alert::DECODE_ERROR, e))?;
                self.on_renegotiation_request("ClientHello")
            }
            NEW_SESSION_TICKET if tls13 => Err(self.fail(
                // RFC 8446 §4.6.1: only "the server MAY send a NewSessionTicket message".
                alert::UNEXPECTED_MESSAGE,
                Error::illegal_message("a client sent a NewSessionTicket"),
            )),
            _ => Err(self.fail(
                alert::UNEXPECTED_MESSAGE,
                Error::illegal_message(format!(
                    "unexpected post-handshake message of type {ty} on a TLS {} {}",
                    if tls13 { "1.3" } else { "1.2" },
                    if is_server { "server" } else { "client" },
                )),
            )),
        }
    }

    /// The first renegotiation request gets a warning; a second one is fatal (rustls's
    /// `allowed_renegotiation_requests` is 1): a peer that keeps asking gains nothing by it.
    fn on_renegotiation_request(&mut self, what: &str) -> Result<Option<Control>, Error> {
        if self.renegotiation_refused {
            return Err(self.fail(
                alert::UNEXPECTED_MESSAGE,
                Error::illegal_message(format!(
                    "a second renegotiation request ({what}) after no_renegotiation"
                )),
            ));
        }
        self.renegotiation_refused = true;
        tracing::debug!(what, "refused TLS 1.2 renegotiation");
        Ok(Some(Control::Alert(AlertCode {
            level: AlertCode::WARNING,
            description: alert::NO_RENEGOTIATION,
        })))
    }

    fn on_new_session_ticket(&mut self, body: &[u8]) -> Result<Option<Control>, Error> {
        match self.tickets.as_ref() {
            Some(tickets) => {
                tickets
                    .store(body)
                    .map_err(|e| self.fail(alert::DECODE_ERROR, e))?;
                self.tickets_stored += 1;
                tracing::debug!("stored a session ticket");
            }
            None => {
                check_new_session_ticket(body).map_err(|e| self.fail(alert::DECODE_ERROR, e))?;
                tracing::debug!("dropped a session ticket (tickets are not stored)");
            }
        }
        Ok(None)
    }

    fn on_key_update(&mut self, body: &[u8], after: &[u8]) -> Result<Option<Control>, Error> {
        // RFC 8446 §5.1: handshake messages "MUST NOT span key changes ... Because the
        // ClientHello, EndOfEarlyData, ServerHello, Finished, and KeyUpdate messages can
        // immediately precede a key change, implementations MUST send these messages in
        // alignment with a record boundary", else unexpected_message.
        if !after.is_empty() {
            return Err(self.fail(
                alert::UNEXPECTED_MESSAGE,
                Error::illegal_message("KeyUpdate not at the end of its record"),
            ));
        }
        let requested = match body {
            [0] => false,
            [1] => true,
            [_] => {
                return Err(self.fail(
                    alert::ILLEGAL_PARAMETER,
                    Error::illegal_message("KeyUpdate with an invalid request value"),
                ));
            }
            _ => {
                return Err(self.fail(
                    alert::DECODE_ERROR,
                    Error::illegal_message("KeyUpdate of the wrong length"),
                ));
            }
        };
        self.key_updates_in_a_row += 1;
        if self.key_updates_in_a_row > MAX_KEY_UPDATES_IN_A_ROW {
            return Err(self.fail(
                alert::UNEXPECTED_MESSAGE,
                Error::illegal_message(format!(
                    "more than {MAX_KEY_UPDATES_IN_A_ROW} KeyUpdates without application data"
                )),
            ));
        }
        let next = match self.secret.as_ref() {
            Some(secret) => secret.next(&self.cipher),
            None => Err(super::no_key_schedule()),
        };
        let (secret, cipher) = next.map_err(|e| self.fail(alert::INTERNAL_ERROR, e))?;
        (self.secret, self.cipher) = (Some(secret), cipher);
        if let Some(tickets) = &self.tickets {
            tickets
                .follow(Direction::Receiving)
                .map_err(|e| self.fail(alert::INTERNAL_ERROR, e))?;
        }
        self.seq = 0;
        self.key_updates += 1;
        tracing::debug!(requested, "received KeyUpdate; receiving key ratcheted");
        // "If the request_update field is set to update_requested, then the receiver MUST send
        // a KeyUpdate of its own with request_update set to update_not_requested prior to
        // sending its next Application Data record."
        Ok(requested.then_some(Control::KeyUpdate {
            update_requested: false,
        }))
    }
}

fn u24(header: &[u8; MESSAGE_HEADER]) -> usize {
    u32::from_be_bytes([0, header[1], header[2], header[3]]) as usize
}

/// A reader over a message body that fails with `decode_error` when it runs short.
struct Body<'a> {
    rest: &'a [u8],
    what: &'static str,
}

impl<'a> Body<'a> {
    fn malformed(&self) -> Error {
        Error::illegal_message(format!("malformed {} (decode_error)", self.what))
    }

    fn take(&mut self, n: usize) -> Result<&'a [u8], Error> {
        let (taken, rest) = self
            .rest
            .split_at_checked(n)
            .ok_or_else(|| self.malformed())?;
        self.rest = rest;
        Ok(taken)
    }

    /// A vector with a `len_bytes`-byte length whose length lies in `range`.
    fn vector(
        &mut self,
        len_bytes: usize,
        range: std::ops::RangeInclusive<usize>,
    ) -> Result<&'a [u8], Error> {
        let len = self
            .take(len_bytes)?
            .iter()
            .fold(0usize, |n, &b| n << 8 | usize::from(b));
        if !range.contains(&len) {
            return Err(self.malformed());
        }
        self.take(len)
    }

    /// Nothing may follow the last field.
    fn end(&self) -> Result<(), Error> {
        if self.rest.is_empty() {
            Ok(())
        } else {
            Err(self.malformed())
        }
    }
}

/// An extension block's contents (RFC 8446 §4.2, RFC 5246 §7.4.1.4):
///
/// ```text
/// struct { ExtensionType extension_type; opaque extension_data<0..2^16-1>; } Extension;
/// ```
///
/// "There MUST NOT be more than one extension of the same type."
fn check_extensions(mut block: Body<'_>) -> Result<(), Error> {
    let mut types = Vec::new();
    while !block.rest.is_empty() {
        let ty = block.take(2)?;
        types.push(u16::from_be_bytes([ty[0], ty[1]]));
        block.vector(2, 0..=0xffff)?;
    }
    // Sorted, not searched per extension: a block may hold some 16,000 of them.
    types.sort_unstable();
    if types.windows(2).any(|pair| pair[0] == pair[1]) {
        return Err(block.malformed());
    }
    Ok(())
}

/// Check the shape of a NewSessionTicket that is not stored (RFC 8446 §4.6.1):
///
/// ```text
/// struct {
///     uint32 ticket_lifetime;
///     uint32 ticket_age_add;
///     opaque ticket_nonce<0..255>;
///     opaque ticket<1..2^16-1>;
///     Extension extensions<0..2^16-2>;
/// } NewSessionTicket;
/// ```
pub(super) fn check_new_session_ticket(body: &[u8]) -> Result<(), Error> {
    let what = "NewSessionTicket";
    let mut body = Body { rest: body, what };
    body.take(8)?;
    body.vector(1, 0..=255)?;
    body.vector(2, 1..=0xffff)?;
    let extensions = body.vector(2, 0..=0xfffe)?;
    body.end()?;
    check_extensions(Body {
        rest: extensions,
        what,
    })
}

/// Check the shape of a ClientHello before refusing it (RFC 5246 §7.4.1.2):
///
/// ```text
/// struct {
///     ProtocolVersion client_version;
///     Random random;
///     SessionID session_id;                          opaque SessionID<0..32>;
///     CipherSuite cipher_suites<2..2^16-2>;
///     CompressionMethod compression_methods<1..2^8-1>;
///     select (extensions_present) {
///         case false: struct {};
///         case true:  Extension extensions<0..2^16-1>;
///     };
/// } ClientHello;
/// ```
///
/// "A server MUST accept ClientHello messages both with and without the extensions field".
pub(super) fn check_client_hello(body: &[u8]) -> Result<(), Error> {
    let what = "ClientHello";
    let mut body = Body { rest: body, what };
    body.take(2 + 32)?;
    body.vector(1, 0..=32)?;
    let suites = body.vector(2, 2..=0xfffe)?;
    if suites.len() % 2 != 0 {
        return Err(body.malformed());
    }
    body.vector(1, 1..=0xff)?;
    if body.rest.is_empty() {
        return Ok(());
    }
    let extensions = body.vector(2, 0..=0xffff)?;
    body.end()?;
    check_extensions(Body {
        rest: extensions,
        what,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A minimal well-formed ClientHello body, with `extensions` if given.
    pub(crate) fn client_hello(extensions: Option<&[u8]>) -> Vec<u8> {
        let mut body = vec![3, 3];
        body.extend_from_slice(&[7; 32]);
        body.push(0); // session_id
        body.extend_from_slice(&[0, 2, 0x13, 0x01]); // one suite
        body.extend_from_slice(&[1, 0]); // null compression
        if let Some(extensions) = extensions {
            body.extend_from_slice(&(extensions.len() as u16).to_be_bytes());
            body.extend_from_slice(extensions);
        }
        body
    }

    #[test]
    fn client_hello_shapes() {
        assert!(check_client_hello(&client_hello(None)).is_ok());
        assert!(check_client_hello(&client_hello(Some(&[]))).is_ok());
        assert!(check_client_hello(&client_hello(Some(&[0xff, 0x01, 0, 1, 0]))).is_ok());
        let good = client_hello(None);
        // Cut anywhere before the end of the compression methods.
        for cut in 0..good.len() {
            assert!(check_client_hello(&good[..cut]).is_err(), "cut at {cut}");
        }
        let mut odd_suites = good.clone();
        odd_suites.splice(35..39, [0, 3, 0x13, 0x01, 0x02]);
        assert!(check_client_hello(&odd_suites).is_err());
        let mut long_session = good.clone();
        long_session[34] = 33;
        long_session.splice(35..35, [0; 33]);
        assert!(check_client_hello(&long_session).is_err());
        let mut no_compression = good.clone();
        no_compression.truncate(39);
        no_compression.push(0);
        assert!(check_client_hello(&no_compression).is_err());
        // An extension block that says more than there is, less than there is, or twice a type.
        assert!(check_client_hello(&[&good[..], &[0, 5, 0, 1, 0, 0]].concat()).is_err());
        assert!(check_client_hello(&[&good[..], &[0, 4, 0, 1, 0, 0, 9]].concat()).is_err());
        let twice = client_hello(Some(&[0, 1, 0, 0, 0, 1, 0, 0]));
        assert!(check_client_hello(&twice).is_err());
    }
}
