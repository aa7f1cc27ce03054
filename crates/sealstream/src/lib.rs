//! Sealed byte streams with the semantics of Windows SSPI `EncryptMessage` / `DecryptMessage`.
//!
//! A [`SealedStream`] protects any tokio `AsyncRead + AsyncWrite` with a pluggable sealer: TLS on
//! rustls (`sealstream-tls`) or a SASL security layer (`sealstream-sasl`). It frames outgoing bytes
//! into `header | payload | trailer` records sealed in place, hands out incoming bytes only after
//! their record was authenticated, and splits into owned halves that seal and unseal on two tasks
//! at once with no lock between them. Over TCP, whose kernel lets one call at a time into a
//! socket, the halves take turns at the transport: a half that finds the other inside it yields
//! to the runtime rather than sleep on the socket's lock ([`StreamBuilder::take_turns`]).
//!
//! # The SSPI mapping
//!
//! | SSPI | sealstream |
//! |---|---|
//! | a security context, one encrypting and one decrypting thread at a time | a [`Sealer`] that splits into a [`Seal`] and an [`Unseal`] half, each owning its keys, cipher state and sequence number |
//! | `QueryContextAttributes(SECPKG_ATTR_STREAM_SIZES)` | [`Seal::sizes`] → [`StreamSizes`] (header exact, trailer and message maxima) |
//! | `EncryptMessage` over contiguous STREAM_HEADER, DATA, STREAM_TRAILER | [`Seal::seal`] over one [`RecordMut`] ([`Seal::seal_copying`] when the plaintext is still in the caller's buffer); [`seal_message`] for one call |
//! | `fQOP`: `SECQOP_WRAP_NO_ENCRYPT`, `SECQOP_WRAP_OOB_DATA` | [`Qop::IntegrityOnly`], [`Qop::OutOfBand`] (a two-byte TLS alert) |
//! | `MessageSeqNo`, replay/insertion/suppression detection | per-direction sequence numbers inside each half; a wrong one is [`Status::OutOfSequence`] |
//! | `DecryptMessage`: `SEC_E_INCOMPLETE_MESSAGE` + `SECBUFFER_MISSING`, `SECBUFFER_EXTRA` | [`Unseal::unseal`] → [`Unsealed::Incomplete`] `{ missing }` or [`Unsealed::Data`] `{ plaintext, consumed }`; [`Unseal::unseal_into`] decrypts into the reader's buffer instead; a stream lends the decrypted DATA buffer in place through `AsyncBufRead` |
//! | `SEC_I_RENEGOTIATE` | [`Unsealed::Respond`]: a [`Control`] the write half sends, never a hidden write by the reader |
//! | `SEC_I_CONTEXT_EXPIRED` | [`Unsealed::Closed`]: reads return `Ok(0)`; a transport end without it is truncation |
//! | `SEC_E_*` | [`Error`] with its [`Status`]; one `From<Error> for io::Error` table ([`Status::io_kind`]) |
//!
//! # One task seals while another unseals
//!
//! SSPI lets `EncryptMessage` and `DecryptMessage` run at the same time on two threads, but not
//! two encrypts or two decrypts. The types say the same: [`SealedStream::into_split`] gives a
//! [`ReadHalf`] and a [`WriteHalf`], each `Send`, each with `&mut self` methods only. They share
//! no lock on the data path (the transport too is split without one for `TcpStream`,
//! `UnixStream` and a sealed stream over either, so a SASL layer inside TLS splits as well;
//! [`SealedStream::into_split_locked`] serves any other transport).
//!
//! ```no_run
//! use sealstream::{Sealer, SealedStream};
//! use tokio::io::{AsyncReadExt, AsyncWriteExt};
//! use tokio::net::TcpStream;
//!
//! /// Echo upper-cased lines back, reading and writing on two tasks.
//! async fn serve<S>(stream: SealedStream<TcpStream, S>) -> std::io::Result<()>
//! where
//!     S: Sealer,
//! {
//!     let (mut reader, mut writer) = stream.into_split();
//!     let (tx, mut rx) = tokio::sync::mpsc::channel::<Vec<u8>>(16);
//!     let sender = tokio::spawn(async move {
//!         while let Some(chunk) = rx.recv().await {
//!             writer.write_all(&chunk).await?;
//!         }
//!         writer.shutdown().await // sends the sealer's close message
//!     });
//!     let mut buf = vec![0; 16 * 1024];
//!     loop {
//!         let n = reader.read(&mut buf).await?; // Ok(0) only after the peer's close
//!         if n == 0 {
//!             break;
//!         }
//!         if tx.send(buf[..n].to_ascii_uppercase()).await.is_err() {
//!             break;
//!         }
//!     }
//!     drop(tx);
//!     sender.await.expect("sender task")
//! }
//! ```
//!
//! # Errors
//!
//! Every failure is an [`Error`] carrying its SSPI [`Status`]; through `AsyncRead`/`AsyncWrite`
//! it arrives as an `io::Error` from which [`Error::from_io`] recovers it. Errors are sticky: a
//! half that failed returns the same error from then on, and never hands out bytes that were not
//! authenticated.
//!
//! # Sans-IO
//!
//! Everything outside `stream` is free of I/O: the sealer traits, [`RecordMut`], the
//! statuses, and the [RFC 4422 framing](sasl). Sealers are written and tested against those, and
//! the stream is a thin adapter over them.
//!
//! # Features
//!
//! | feature | default | what it adds |
//! |---|---|---|
//! | `stream` | yes | `SealedStream` over tokio's `AsyncRead + AsyncWrite`, its owned halves, `StreamBuilder` (tokio's `io-util` and `time`, `tracing`) |
//! | `net` | yes | lock-free splitting of tokio's `TcpStream` and `UnixStream` (tokio's `net`) |
//!
//! With `default-features = false` the crate is the sans-IO part alone, without tokio.

#![forbid(unsafe_code)]

mod error;
mod qop;
mod record;
pub mod sasl;
mod sealer;
mod sizes;
mod status;
#[cfg(feature = "stream")]
pub mod stream;

pub use error::Error;
pub use qop::{AlertCode, Control, Protection, Qop};
pub use record::RecordMut;
pub use sealer::{Seal, Sealer, Unseal, Unsealed, seal_message};
pub use sizes::StreamSizes;
pub use status::Status;
#[cfg(feature = "stream")]
pub use stream::{EofPolicy, ReadHalf, SealedStream, StreamBuilder, WriteHalf};
