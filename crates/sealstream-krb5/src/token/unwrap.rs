//! The receiving half: `GSS_Unwrap` (RFC 4121 §4.2.4) in place, and `GSS_VerifyMIC`.
//!
//! Whatever the sender chose is taken: any EC (filler in sealed tokens, the checksum's length
//! in signed ones) and any RRC (MIT sends 0; Windows and Samba 28 sealed, 12 signed). A token is
//! checked in this order, so that each failure has one status:
//!
//! 1. its header: the Wrap token ID, the filler byte, who sent it (SentByAcceptor must name the
//!    peer: a token reflected back at its sender is refused) and with which key (AcceptorSubkey
//!    must match the context), else `SEC_E_INVALID_TOKEN`;
//! 2. sealed or not: a confidential layer refuses tokens in clear unless told otherwise
//!    (`SEC_E_QOP_NOT_SUPPORTED`);
//! 3. its integrity, after undoing the rotation: the HMAC, or the checksum, and in a sealed
//!    token the encrypted copy of the header (which the RFC has the receiver compare), else
//!    `SEC_E_MESSAGE_ALTERED`; nothing of a token that fails is handed out;
//! 4. its sequence number, which must be the next one exactly: a replayed, reordered or missing
//!    token is `SEC_E_OUT_OF_SEQUENCE`.

use std::ops::Range;

use sealstream::sasl::Unwrap;
use sealstream::{Error, Status};

use super::context::{LayerOptions, Protection};
use super::header::{
    ACCEPTOR_SUBKEY, HEADER_LEN, MIC, SEALED, SENT_BY_ACCEPTOR, WrapHeader, defective, mic_header,
};
use crate::crypto::UsageKeys;
use crate::enctype::BLOCK_LEN;

/// The receiving half of a Kerberos security layer: Wrap tokens for a [`FramedUnseal`], and
/// MIC tokens.
///
/// [`FramedUnseal`]: sealstream::sasl::FramedUnseal
#[derive(Debug)]
pub struct Krb5Unwrap {
    seal: UsageKeys,
    sign: UsageKeys,
    /// SentByAcceptor and AcceptorSubkey as the peer's tokens must carry them.
    flags: u8,
    seq: u64,
    options: LayerOptions,
    /// Whether the last token unwrapped was sealed.
    last_sealed: bool,
}

impl Krb5Unwrap {
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
            last_sealed: false,
        }
    }

    /// A second receiver in the same state, for tests that feed one token to each.
    #[cfg(test)]
    pub(crate) fn clone_for_test(&self) -> Self {
        Self {
            seal: self.seal.clone(),
            sign: self.sign.clone(),
            flags: self.flags,
            seq: self.seq,
            options: self.options,
            last_sealed: self.last_sealed,
        }
    }

    /// Whether the last token [`unwrap`](Unwrap::unwrap) accepted was sealed (confidential),
    /// rather than signed only.
    pub fn last_was_sealed(&self) -> bool {
        self.last_sealed
    }

    /// Change what the tokens received from now on must have; see [`Krb5Wrap::set_options`].
    ///
    /// [`Krb5Wrap::set_options`]: crate::Krb5Wrap::set_options
    pub fn set_options(&mut self, options: LayerOptions) {
        self.options = options;
    }

    /// `GSS_Unwrap` of one token, for a protocol that frames tokens itself: the plaintext.
    pub fn unwrap_message(&mut self, token: &[u8]) -> Result<Vec<u8>, Error> {
        let mut token = token.to_vec();
        let plaintext = self.unwrap(&mut token)?;
        Ok(token[plaintext].to_vec())
    }

    /// Check the MIC token `token` over `message`, and that it carries the next sequence number.
    pub fn verify_mic(&mut self, message: &[u8], token: &[u8]) -> Result<(), Error> {
        let h = self.sign.enctype().checksum_len();
        if token.len() != HEADER_LEN + h || token[..2] != MIC {
            return Err(defective(format!(
                "not a MIC token of {} bytes",
                HEADER_LEN + h
            )));
        }
        let (header, checksum) = token.split_at(HEADER_LEN);
        if header[3..8] != [0xFF; 5] {
            return Err(defective("MIC token filler is not ff ff ff ff ff"));
        }
        self.check_flags(header[2])?;
        let seq = u64::from_be_bytes(header[8..].try_into().expect("8 bytes"));
        // The header as the sender made it, with the flags we expect: a checksum over another
        // header fails.
        let expected = mic_header(header[2], seq);
        if !self.sign.verify_checksum(&[message, &expected], checksum) {
            return Err(Error::message_altered("MIC token checksum does not verify"));
        }
        self.next_in_sequence(seq)
    }

    fn check_flags(&self, flags: u8) -> Result<(), Error> {
        let got = flags & (SENT_BY_ACCEPTOR | ACCEPTOR_SUBKEY);
        if got & SENT_BY_ACCEPTOR != self.flags & SENT_BY_ACCEPTOR {
            return Err(defective(if got & SENT_BY_ACCEPTOR != 0 {
                "token says the acceptor sent it, but the acceptor is this side"
            } else {
                "token says the initiator sent it, but the initiator is this side"
            }));
        }
        if got & ACCEPTOR_SUBKEY != self.flags & ACCEPTOR_SUBKEY {
            return Err(defective(if got & ACCEPTOR_SUBKEY != 0 {
                "token is protected with an acceptor subkey this context does not have"
            } else {
                "token is not protected with the acceptor subkey this context uses"
            }));
        }
        Ok(())
    }

    fn next_in_sequence(&mut self, seq: u64) -> Result<(), Error> {
        if seq != self.seq {
            return Err(Error::out_of_sequence(self.seq, seq));
        }
        self.seq = self.seq.wrapping_add(1);
        Ok(())
    }

    /// A sealed token's body (rotation undone): decrypt it where it lies and compare the header
    /// copy. Returns where the plaintext lies inside the body.
    fn open_sealed(&self, header: &WrapHeader, body: &mut [u8]) -> Result<Range<usize>, Error> {
        let h = self.seal.enctype().mac_len();
        let ec = usize::from(header.ec);
        if body.len() < BLOCK_LEN + ec + HEADER_LEN + h {
            return Err(defective(format!(
                "a sealed token of {} bytes after its header cannot hold a confounder, {ec} \
                 filler bytes, the header copy and a {h}-byte HMAC",
                body.len()
            )));
        }
        let (data, mac) = body.split_at_mut(body.len() - h);
        self.seal.decrypt(data, mac)?;
        let copy = &data[data.len() - HEADER_LEN..];
        let mut outer = *header;
        outer.rrc = 0;
        let mut inner = WrapHeader::decode(copy).map_err(|_| altered_copy())?;
        inner.rrc = 0;
        if inner != outer {
            return Err(altered_copy());
        }
        Ok(BLOCK_LEN..data.len() - HEADER_LEN - ec)
    }

    /// A signed token's body (rotation undone): plaintext, then the checksum. Returns where the
    /// plaintext lies inside the body.
    fn open_signed(&self, header: &WrapHeader, body: &[u8]) -> Result<Range<usize>, Error> {
        let h = self.seal.enctype().checksum_len();
        if usize::from(header.ec) != h {
            return Err(defective(format!(
                "a signed token's EC is its {h}-byte checksum's length, not {}",
                header.ec
            )));
        }
        if body.len() < h {
            return Err(defective(format!(
                "a signed token of {} bytes after its header cannot hold a {h}-byte checksum",
                body.len()
            )));
        }
        let (plaintext, checksum) = body.split_at(body.len() - h);
        let mut signed = *header;
        signed.ec = 0;
        signed.rrc = 0;
        if !self
            .seal
            .verify_checksum(&[plaintext, &signed.encode()], checksum)
        {
            return Err(Error::message_altered(
                "Wrap token checksum does not verify",
            ));
        }
        Ok(0..plaintext.len())
    }
}

fn altered_copy() -> Error {
    Error::message_altered("the encrypted copy of a Wrap token's header differs from the header")
}

impl Unwrap for Krb5Unwrap {
    fn unwrap(&mut self, token: &mut [u8]) -> Result<Range<usize>, Error> {
        let header = WrapHeader::decode(token)?;
        self.check_flags(header.flags)?;
        let sealed = header.flags & SEALED != 0;
        if !sealed
            && self.options.protection == Protection::Confidentiality
            && !self.options.accept_unsealed
        {
            return Err(Error::new(
                Status::QopNotSupported,
                "a Wrap token without confidentiality on a confidential layer",
            ));
        }
        let body = &mut token[HEADER_LEN..];
        if !body.is_empty() {
            // RFC 4121 §4.2.5: "The RRC field [...] is the count of octets that the token
            // (excluding the header) was rotated right"; undo it.
            let rrc = usize::from(header.rrc) % body.len();
            body.rotate_left(rrc);
        }
        let plaintext = if sealed {
            self.open_sealed(&header, body)?
        } else {
            self.open_signed(&header, body)?
        };
        self.next_in_sequence(header.seq)?;
        self.last_sealed = sealed;
        Ok(HEADER_LEN + plaintext.start..HEADER_LEN + plaintext.end)
    }

    // Each token says: its Sealed flag (RFC 4121 §4.2.2).
    fn protection(&self) -> sealstream::Protection {
        if self.last_sealed {
            sealstream::Protection::Confidential
        } else {
            sealstream::Protection::IntegrityOnly
        }
    }

    fn sequence(&self) -> u64 {
        self.seq
    }
}
