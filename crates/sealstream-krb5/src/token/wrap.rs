//! The sending half: `GSS_Wrap` (RFC 4121 §4.2.4) in place, and `GSS_GetMIC` (§4.2.6.1).
//!
//! A sealed token is laid out so that the plaintext never moves: the header and the
//! confounder go before it, the header's copy after it, and encryption runs over the three where
//! they lie, the HMAC following:
//!
//! ```text
//! header (16) | confounder (16) | plaintext | header copy (16) | HMAC (12, 16 or 24)
//!             |<----------- E(Ke, ...), CBC with ciphertext stealing ---------->|
//! ```
//!
//! "In Wrap tokens that provide for confidentiality, the first 16 octets of the Wrap token (the
//! "header", as defined in section 4.2.6), SHALL be appended to the plaintext data before
//! encryption. Filler octets MAY be inserted between the plaintext data and the "header." [...]
//! the RRC field in the to-be-encrypted header contains the hex value 00 00."
//!
//! A token without confidentiality carries the plaintext in clear and a checksum after it: "the
//! checksum SHALL be calculated first over the to-be-signed plaintext data, and then over the
//! first 16 octets of the Wrap token (the "header"). Both the EC field and the RRC field in the
//! token header SHALL be filled with zeroes for the purpose of calculating the checksum."
//! Its EC "SHALL be used to encode the number of octets in the trailing checksum". Both kinds
//! use the seal key usage (22 or 24), as MIT does; MIC tokens use the sign usage.

use sealstream::sasl::{Wrap, WrapOverhead};
use sealstream::{Error, Qop, RecordMut, Status};

use super::context::{LayerOptions, Protection};
use super::header::{HEADER_LEN, SEALED, WrapHeader, mic_header};
use crate::crypto::{UsageKeys, fill_confounder};
use crate::enctype::{BLOCK_LEN, Enctype};

/// The sending half of a Kerberos security layer: Wrap tokens for a [`FramedSeal`], and MIC
/// tokens.
///
/// [`FramedSeal`]: sealstream::sasl::FramedSeal
#[derive(Debug)]
pub struct Krb5Wrap {
    seal: UsageKeys,
    sign: UsageKeys,
    /// SentByAcceptor and AcceptorSubkey as they apply to this side.
    flags: u8,
    seq: u64,
    options: LayerOptions,
}

impl Krb5Wrap {
    pub(crate) fn new(
        seal: UsageKeys,
        sign: UsageKeys,
        flags: u8,
        seq: u64,
        options: LayerOptions,
    ) -> Self {
        Self {
            seal,
            sign,
            flags,
            seq,
            options,
        }
    }

    fn protection(&self, qop: Qop) -> Result<Protection, Error> {
        match qop {
            Qop::Default => Ok(self.options.protection),
            Qop::IntegrityOnly => Ok(Protection::Integrity),
            other => Err(Error::new(
                Status::QopNotSupported,
                format!("a Kerberos Wrap token cannot carry {other:?} data"),
            )),
        }
    }

    fn overhead_of(&self, protection: Protection) -> WrapOverhead {
        let h = self.seal.enctype().mac_len();
        match protection {
            Protection::Confidentiality => WrapOverhead {
                header: HEADER_LEN + BLOCK_LEN,
                trailer: HEADER_LEN + h,
                block_size: 1,
            },
            Protection::Integrity => WrapOverhead {
                header: HEADER_LEN,
                trailer: h,
                block_size: 1,
            },
        }
    }

    /// Change what data is protected with from now on: SASL GSSAPI negotiates the layer with
    /// tokens of this very context, and only then knows it.
    pub fn set_options(&mut self, options: LayerOptions) {
        self.options = options;
    }

    /// `GSS_Wrap` of one message, for a protocol that frames tokens itself (the stream uses
    /// [`Wrap::wrap`] in place instead): the whole token.
    pub fn wrap_message(&mut self, qop: Qop, message: &[u8]) -> Result<Vec<u8>, Error> {
        let overhead = self.overhead_for(qop);
        let mut token = vec![0u8; overhead.header + message.len() + overhead.trailer];
        token[overhead.header..overhead.header + message.len()].copy_from_slice(message);
        let n = self.wrap(
            qop,
            RecordMut::new(&mut token, overhead.header, message.len())?,
        )?;
        token.truncate(n);
        Ok(token)
    }

    /// A MIC token for `message` into `out` (`16 +` the checksum's length, see
    /// [`mic_len`](Self::mic_len)), using the next sequence number. Returns its length.
    ///
    /// "The checksum is calculated over the plaintext message, followed by the first 16 octets
    /// of the token (the header)" (RFC 4121 §4.2.6.1).
    pub fn get_mic(&mut self, message: &[u8], out: &mut [u8]) -> Result<usize, Error> {
        let len = self.mic_len();
        let Some(out) = out.get_mut(..len) else {
            return Err(Error::new(
                Status::BufferTooSmall,
                format!("a MIC token needs {len} bytes"),
            ));
        };
        let header = mic_header(self.flags, self.seq);
        let (head, checksum) = out.split_at_mut(HEADER_LEN);
        head.copy_from_slice(&header);
        self.sign.checksum(&[message, &header], checksum)?;
        self.seq = self.seq.wrapping_add(1);
        Ok(len)
    }

    /// The encryption type of the context's message key (the acceptor's subkey, or the
    /// initiator's when the acceptor sent none).
    pub fn enctype(&self) -> Enctype {
        self.seal.enctype()
    }

    /// The length of a MIC token.
    pub fn mic_len(&self) -> usize {
        HEADER_LEN + self.sign.enctype().checksum_len()
    }

    fn wrap_sealed(&self, buf: &mut [u8], n: usize) -> Result<usize, Error> {
        let h = self.seal.enctype().mac_len();
        let header = WrapHeader {
            flags: self.flags | SEALED,
            ec: 0,
            rrc: 0,
            seq: self.seq,
        }
        .encode();
        let body = BLOCK_LEN + n + HEADER_LEN;
        let total = HEADER_LEN + body + h;
        buf[..HEADER_LEN].copy_from_slice(&header);
        fill_confounder(&mut buf[HEADER_LEN..HEADER_LEN + BLOCK_LEN])?;
        buf[HEADER_LEN + BLOCK_LEN + n..HEADER_LEN + body].copy_from_slice(&header);
        let (data, mac) = buf[HEADER_LEN..total].split_at_mut(body);
        self.seal.encrypt(data, mac)?;
        if self.options.rotate {
            self.rotate(buf, total, HEADER_LEN + h);
        }
        Ok(total)
    }

    fn wrap_signed(&self, buf: &mut [u8], n: usize) -> Result<usize, Error> {
        let h = self.seal.enctype().checksum_len();
        let mut header = WrapHeader {
            flags: self.flags,
            ec: 0,
            rrc: 0,
            seq: self.seq,
        };
        let signed = header.encode();
        header.ec = h as u16;
        buf[..HEADER_LEN].copy_from_slice(&header.encode());
        let total = HEADER_LEN + n + h;
        let (plaintext, checksum) = buf[HEADER_LEN..total].split_at_mut(n);
        self.seal.checksum(&[plaintext, &signed], checksum)?;
        if self.options.rotate {
            self.rotate(buf, total, h);
        }
        Ok(total)
    }

    /// Windows-style rotation: the last `rrc` bytes of the token move to just after the header
    /// (RFC 4121 §4.2.5), and the header says so.
    fn rotate(&self, buf: &mut [u8], total: usize, rrc: usize) {
        buf[6..8].copy_from_slice(&(rrc as u16).to_be_bytes());
        buf[HEADER_LEN..total].rotate_right(rrc);
    }
}

impl Wrap for Krb5Wrap {
    fn overhead(&self) -> WrapOverhead {
        self.overhead_of(self.options.protection)
    }

    fn overhead_for(&self, qop: Qop) -> WrapOverhead {
        self.protection(qop)
            .map(|p| self.overhead_of(p))
            .unwrap_or_else(|_| self.overhead())
    }

    fn wrap(&mut self, qop: Qop, mut token: RecordMut<'_>) -> Result<usize, Error> {
        let protection = self.protection(qop)?;
        let expected = self.overhead_of(protection);
        let n = token.payload_len();
        if token.header_len() != expected.header || token.trailer_capacity() < expected.trailer {
            return Err(Error::new(
                Status::BufferTooSmall,
                format!(
                    "a Kerberos Wrap token needs {} bytes before and {} after its data, not {} \
                     and {}",
                    expected.header,
                    expected.trailer,
                    token.header_len(),
                    token.trailer_capacity()
                ),
            ));
        }
        let buf = token.as_mut_slice();
        let total = match protection {
            Protection::Confidentiality => self.wrap_sealed(buf, n)?,
            Protection::Integrity => self.wrap_signed(buf, n)?,
        };
        self.seq = self.seq.wrapping_add(1);
        Ok(total)
    }

    fn supports_qop(&self, qop: Qop) -> bool {
        matches!(qop, Qop::Default | Qop::IntegrityOnly)
    }

    fn sequence(&self) -> u64 {
        self.seq
    }
}
