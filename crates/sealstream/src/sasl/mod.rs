//! SASL security layers: RFC 4422 §3.7 framing shared by every mechanism.
//!
//! After a SASL exchange negotiates a security layer, each side wraps its outgoing data in
//! mechanism tokens (DIGEST-MD5 auth-int/auth-conf, a Kerberos wrap token, an NTLM sealed
//! message) and sends each token behind a four-octet length. Each side also announces the
//! largest token it will accept (maxbuf).
//!
//! This module holds that framing once, so a mechanism implements only [`Wrap`] and [`Unwrap`]
//! for one buffer, and [`FramedSeal`]/[`FramedUnseal`] turn it into the [`Seal`](crate::Seal) and
//! [`Unseal`](crate::Unseal) halves a [`SealedStream`](crate::SealedStream) runs:
//!
//! - outgoing plaintext is cut so no frame exceeds the peer's maxbuf (the stream never puts more
//!   than [`StreamSizes::max_message`](crate::StreamSizes) bytes in one record);
//! - an incoming length above our maxbuf is refused from its four header bytes, before anything
//!   is allocated for it;
//! - a partial length header means "wait for more", not an error;
//! - application messages span as many frames as they need (slapd sends one large LDAP entry as
//!   dozens of frames); the stream rebuilds the byte stream.

mod frame;
mod layer;

pub use frame::{Frame, LENGTH_LEN, MAX_SEND_FRAME, encode_len, parse_frame, send_limit};
pub use layer::{FramedSeal, FramedUnseal, Unwrap, Wrap, WrapOverhead};
