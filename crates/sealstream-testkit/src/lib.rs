//! Test support for sealstream. **Not a sealer to use**: it exists so the stream, the SASL
//! framing and the fault-injection harnesses can be tested without a real peer.
//!
//! - [`test_sealer`]: a record protocol built on ChaCha20-Poly1305 with explicit sequence
//!   numbers, a close record, alerts, key updates and integrity-only records, so that every path
//!   of the stream (tampering, replay, truncation, the control path) is exercised with real
//!   authentication.
//! - [`test_wrap`]: a SASL mechanism-shaped wrap/unwrap (HMAC-SHA-256 with sequence numbers) for
//!   the RFC 4422 framing.
//! - [`mock_io`]: transports that force `Pending`, short reads and writes, and EOF.

#![forbid(unsafe_code)]

pub mod mock_io;
pub mod test_sealer;
pub mod test_wrap;
