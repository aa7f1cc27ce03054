//! TLS alert descriptions (RFC 8446 §6, RFC 5246 §7.2) that the record layer sends or names.

/// close_notify: the sender will send no more records.
pub const CLOSE_NOTIFY: u8 = 0;
/// unexpected_message.
pub const UNEXPECTED_MESSAGE: u8 = 10;
/// bad_record_mac: a record failed authentication.
pub const BAD_RECORD_MAC: u8 = 20;
/// record_overflow: a record longer than allowed.
pub const RECORD_OVERFLOW: u8 = 22;
/// illegal_parameter.
pub const ILLEGAL_PARAMETER: u8 = 47;
/// decode_error: a message could not be parsed.
pub const DECODE_ERROR: u8 = 50;
/// internal_error: a failure of this end unrelated to the peer's messages.
pub const INTERNAL_ERROR: u8 = 80;
/// user_canceled.
pub const USER_CANCELED: u8 = 90;
/// no_renegotiation (TLS 1.2).
pub const NO_RENEGOTIATION: u8 = 100;

/// The alert's name, for error messages.
pub fn name(description: u8) -> &'static str {
    match description {
        0 => "close_notify",
        10 => "unexpected_message",
        20 => "bad_record_mac",
        22 => "record_overflow",
        40 => "handshake_failure",
        42 => "bad_certificate",
        43 => "unsupported_certificate",
        44 => "certificate_revoked",
        45 => "certificate_expired",
        46 => "certificate_unknown",
        47 => "illegal_parameter",
        48 => "unknown_ca",
        49 => "access_denied",
        50 => "decode_error",
        51 => "decrypt_error",
        70 => "protocol_version",
        71 => "insufficient_security",
        80 => "internal_error",
        86 => "inappropriate_fallback",
        90 => "user_canceled",
        100 => "no_renegotiation",
        109 => "missing_extension",
        110 => "unsupported_extension",
        112 => "unrecognized_name",
        116 => "certificate_required",
        120 => "no_application_protocol",
        _ => "unknown",
    }
}
