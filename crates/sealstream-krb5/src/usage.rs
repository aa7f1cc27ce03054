//! Key usage numbers (RFC 4120 §7.5.1, RFC 4121 §2): which derived keys protect which message.
//! The same base key gives unrelated keys for each usage, so a message made for one purpose
//! cannot be passed off as another.

/// The AS-REP's encrypted part (with the client's long-term key).
pub const AS_REP_ENC_PART: u32 = 3;
/// PA-ENC-TIMESTAMP pre-authentication (with the client's long-term key).
pub const PA_ENC_TIMESTAMP: u32 = 1;
/// A ticket's encrypted part (with the service's long-term key).
pub const TICKET: u32 = 2;
/// The TGS-REP's encrypted part, with the TGT's session key.
pub const TGS_REP_ENC_PART_SESSION_KEY: u32 = 8;
/// The TGS-REP's encrypted part, with the authenticator's subkey.
pub const TGS_REP_ENC_PART_SUBKEY: u32 = 9;
/// An AP-REQ authenticator's checksum, in a TGS-REQ.
pub const TGS_REQ_AUTH_CHECKSUM: u32 = 6;
/// A TGS-REQ's authenticator (with the TGT's session key).
pub const TGS_REQ_AUTHENTICATOR: u32 = 7;
/// An AP-REQ authenticator (with the ticket's session key).
pub const AP_REQ_AUTHENTICATOR: u32 = 11;
/// An AP-REP's encrypted part (with the ticket's session key).
pub const AP_REP_ENC_PART: u32 = 12;
/// Wrap tokens the acceptor sends (RFC 4121 `KG-USAGE-ACCEPTOR-SEAL`).
pub const ACCEPTOR_SEAL: u32 = 22;
/// MIC tokens the acceptor sends (`KG-USAGE-ACCEPTOR-SIGN`).
pub const ACCEPTOR_SIGN: u32 = 23;
/// Wrap tokens the initiator sends (`KG-USAGE-INITIATOR-SEAL`).
pub const INITIATOR_SEAL: u32 = 24;
/// MIC tokens the initiator sends (`KG-USAGE-INITIATOR-SIGN`).
pub const INITIATOR_SIGN: u32 = 25;
