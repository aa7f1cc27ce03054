//! A mechanism's per-buffer wrap and unwrap, framed into sealer halves.

use std::ops::Range;

use super::Frame;
use super::frame::{LENGTH_LEN, encode_len, parse_frame, send_limit};
use crate::sealer::copy_payload;
use crate::{Error, Protection, Qop, RecordMut, Seal, Status, StreamSizes, Unseal, Unsealed};

/// The bytes a mechanism adds around the plaintext of one token.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct WrapOverhead {
    /// Bytes before the plaintext (exact).
    pub header: usize,
    /// The most bytes after the plaintext (padding, MAC, sequence number).
    pub trailer: usize,
    /// The cipher's block size, 1 for stream ciphers.
    pub block_size: usize,
}

/// A mechanism's sending direction: `GSS_Wrap` for one buffer, in place.
pub trait Wrap: Send + 'static {
    /// What one token adds around its plaintext, with [`Qop::Default`].
    fn overhead(&self) -> WrapOverhead;

    /// What one token adds around its plaintext with `qop`, when that differs from the default
    /// (a Kerberos layer's sealed tokens have a confounder before the data, its signed ones do
    /// not). A token with another qop must not be longer than a default one with the same
    /// room around it: `header + trailer` may not exceed the default's.
    ///
    /// The default is [`overhead`](Self::overhead) for every qop.
    fn overhead_for(&self, qop: Qop) -> WrapOverhead {
        let _ = qop;
        self.overhead()
    }

    /// Wrap `token` in place: its header region precedes the plaintext, the trailer room follows.
    /// Returns the token's length. Sequence numbers advance here.
    fn wrap(&mut self, qop: Qop, token: RecordMut<'_>) -> Result<usize, Error>;

    /// Wrap a token whose plaintext is `plaintext`, not yet in place: the same as copying it
    /// into the payload region of `token` (whose payload length is `plaintext.len()`) and
    /// calling [`wrap`](Self::wrap). An override must write every byte of that region; see
    /// [`Seal::seal_copying`].
    ///
    /// The default copies, then wraps; a mechanism that MACs the plaintext can copy as it goes.
    fn wrap_copying(
        &mut self,
        qop: Qop,
        plaintext: &[u8],
        mut token: RecordMut<'_>,
    ) -> Result<usize, Error> {
        copy_payload(plaintext, &mut token)?;
        self.wrap(qop, token)
    }

    /// Whether [`wrap`](Self::wrap) accepts `qop` (integrity-only where the layer allows it).
    fn supports_qop(&self, qop: Qop) -> bool {
        qop == Qop::Default
    }

    /// The sequence number of the next token.
    fn sequence(&self) -> u64;
}

/// A mechanism's receiving direction: `GSS_Unwrap` for one buffer, in place.
pub trait Unwrap: Send + 'static {
    /// Verify and unprotect `token` in place; returns where the plaintext lies inside it. A token
    /// that fails verification is `SEC_E_MESSAGE_ALTERED`, a wrong sequence number
    /// `SEC_E_OUT_OF_SEQUENCE`.
    fn unwrap(&mut self, token: &mut [u8]) -> Result<Range<usize>, Error>;

    /// What protected the token the last successful [`unwrap`](Self::unwrap) verified: sealed,
    /// or signed only. Reported with the token's plaintext as [`Unsealed::Data`]'s
    /// `protection`.
    fn protection(&self) -> Protection;

    /// The sequence number the next token must carry.
    fn sequence(&self) -> u64;
}

/// The seal half of a SASL security layer: a [`Wrap`] behind RFC 4422 framing, cutting plaintext
/// so that no frame exceeds the peer's maxbuf.
#[derive(Debug)]
pub struct FramedSeal<W> {
    wrap: W,
    /// The largest token the peer accepts (its maxbuf, capped).
    limit: usize,
    sizes: StreamSizes,
}

impl<W: Wrap> FramedSeal<W> {
    /// Frame `wrap` for a peer that announced `peer_maxbuf` (0: no limit).
    ///
    /// Fails with `SEC_E_INVALID_PARAMETER` when the peer's maxbuf leaves no room for plaintext.
    pub fn new(wrap: W, peer_maxbuf: u32) -> Result<Self, Error> {
        let limit = send_limit(peer_maxbuf);
        let sizes = sizes_within(limit, wrap.overhead(), peer_maxbuf)?;
        Ok(Self { wrap, limit, sizes })
    }

    /// The mechanism's wrap half.
    pub fn get_ref(&self) -> &W {
        &self.wrap
    }

    /// Have `wrap` produce the token after the length field of `record`, then write the length.
    fn frame(
        &mut self,
        qop: Qop,
        mut record: RecordMut<'_>,
        wrap: impl FnOnce(&mut W, RecordMut<'_>) -> Result<usize, Error>,
    ) -> Result<usize, Error> {
        let payload_len = record.payload_len();
        let header = self.wrap.overhead_for(qop).header;
        let (len_field, token) = record.as_mut_slice().split_at_mut(LENGTH_LEN);
        let token_len = wrap(&mut self.wrap, RecordMut::new(token, header, payload_len)?)?;
        if token_len > self.limit || token_len > token.len() {
            return Err(Error::new(
                Status::InternalError,
                format!(
                    "mechanism wrapped a {token_len}-byte token, above the {} allowed",
                    self.limit
                ),
            ));
        }
        len_field.copy_from_slice(&encode_len(token_len));
        Ok(LENGTH_LEN + token_len)
    }
}

/// The sizes of frames of at most `limit` bytes around tokens with `overhead`.
fn sizes_within(
    limit: usize,
    overhead: WrapOverhead,
    peer_maxbuf: u32,
) -> Result<StreamSizes, Error> {
    let max_message = limit
        .checked_sub(overhead.header + overhead.trailer)
        .filter(|m| *m > 0)
        .ok_or_else(|| {
            Error::new(
                Status::InvalidParameter,
                format!(
                    "the peer's maxbuf of {peer_maxbuf} leaves no room for data after the \
                     mechanism's {} bytes of overhead",
                    overhead.header + overhead.trailer
                ),
            )
        })?;
    Ok(StreamSizes {
        header: LENGTH_LEN + overhead.header,
        trailer: overhead.trailer,
        max_message,
        block_size: overhead.block_size,
    })
}

impl<W: Wrap> Seal for FramedSeal<W> {
    fn sizes(&self) -> StreamSizes {
        self.sizes
    }

    fn sizes_for(&self, qop: Qop) -> StreamSizes {
        if qop == Qop::Default {
            return self.sizes;
        }
        // A qop whose tokens would not fit gets the default sizes; wrapping then refuses it.
        sizes_within(self.limit, self.wrap.overhead_for(qop), 0).unwrap_or(self.sizes)
    }

    fn seal(&mut self, qop: Qop, record: RecordMut<'_>) -> Result<usize, Error> {
        self.frame(qop, record, |wrap, token| wrap.wrap(qop, token))
    }

    fn seal_copying(
        &mut self,
        qop: Qop,
        plaintext: &[u8],
        record: RecordMut<'_>,
    ) -> Result<usize, Error> {
        self.frame(qop, record, |wrap, token| {
            wrap.wrap_copying(qop, plaintext, token)
        })
    }

    fn supports_qop(&self, qop: Qop) -> bool {
        self.wrap.supports_qop(qop)
    }

    fn sequence(&self) -> u64 {
        self.wrap.sequence()
    }
}

/// The unseal half of a SASL security layer: RFC 4422 frames of at most our maxbuf, each
/// unwrapped by an [`Unwrap`].
#[derive(Debug)]
pub struct FramedUnseal<U> {
    unwrap: U,
    maxbuf: usize,
}

impl<U: Unwrap> FramedUnseal<U> {
    /// Unframe for `our_maxbuf`, the largest token we announced we accept (at least 1).
    pub fn new(unwrap: U, our_maxbuf: u32) -> Result<Self, Error> {
        if our_maxbuf == 0 {
            return Err(Error::new(
                Status::InvalidParameter,
                "our maxbuf must be at least 1 byte",
            ));
        }
        Ok(Self {
            unwrap,
            maxbuf: our_maxbuf as usize,
        })
    }

    /// The mechanism's unwrap half.
    pub fn get_ref(&self) -> &U {
        &self.unwrap
    }
}

impl<U: Unwrap> Unseal for FramedUnseal<U> {
    fn max_record(&self) -> usize {
        LENGTH_LEN + self.maxbuf
    }

    fn unseal(&mut self, input: &mut [u8]) -> Result<Unsealed, Error> {
        let body = match parse_frame(input, self.maxbuf)? {
            Frame::Incomplete { missing } => {
                return Ok(Unsealed::Incomplete {
                    missing: Some(missing),
                });
            }
            Frame::Complete { body } => body,
        };
        let token = &mut input[body.clone()];
        let token_len = token.len();
        let plain = self.unwrap.unwrap(token)?;
        if plain.start > plain.end || plain.end > token_len {
            return Err(Error::new(
                Status::InternalError,
                format!("mechanism reported plaintext {plain:?} in a {token_len}-byte token"),
            ));
        }
        Ok(Unsealed::Data {
            plaintext: body.start + plain.start..body.start + plain.end,
            consumed: body.end,
            protection: self.unwrap.protection(),
        })
    }

    fn signals_close(&self) -> bool {
        false
    }

    fn sequence(&self) -> u64 {
        self.unwrap.sequence()
    }
}
