//! Search result entries as LDIF content records (RFC 2849).
//!
//! A value is written as `attr: value` when it is a SAFE-STRING and as `attr:: BASE64`
//! otherwise. Lines are not folded (RFC 2849 allows any line length; folding is optional), so
//! each value is on one line.

use std::io::{self, Write};

use rasn_ldap::SearchResultEntry;

/// Whether `value` may be written as is (RFC 2849 SAFE-STRING), rather than base64.
///
/// ```text
/// SAFE-CHAR      = %x01-09 / %x0B-0C / %x0E-7F   ; any value <= 127 except NUL, LF, CR
/// SAFE-INIT-CHAR = %x01-09 / %x0B-0C / %x0E-1F / %x21-39 / %x3B / %x3D-7F
///                  ; SAFE-CHAR except SPACE, colon and less-than
/// ```
///
/// and, per the RFC's note 8, a value ending with a space is base64 encoded too.
pub fn is_safe_string(value: &[u8]) -> bool {
    let safe_char = |b: &u8| matches!(b, 0x01..=0x09 | 0x0B..=0x0C | 0x0E..=0x7F);
    match (value.first(), value.last()) {
        (None, _) => true,
        (Some(first), Some(last)) => {
            !matches!(first, b' ' | b':' | b'<') && *last != b' ' && value.iter().all(safe_char)
        }
        (Some(_), None) => false,
    }
}

/// Standard base64 with padding (RFC 4648 §4), as RFC 2849 uses.
pub fn base64(data: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(data.len().div_ceil(3) * 4);
    for chunk in data.chunks(3) {
        let b = [
            chunk[0],
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = u32::from(b[0]) << 16 | u32::from(b[1]) << 8 | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(char::from(ALPHABET[(n >> (18 - 6 * i) & 63) as usize]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// One `name: value` or `name:: base64` line.
pub fn write_line(out: &mut impl Write, name: &str, value: &[u8]) -> io::Result<()> {
    if is_safe_string(value) {
        out.write_all(name.as_bytes())?;
        out.write_all(b": ")?;
        out.write_all(value)?;
        out.write_all(b"\n")
    } else {
        writeln!(out, "{name}:: {}", base64(value))
    }
}

/// The entry's `dn` line, one line per attribute value in the server's order, then an empty
/// line.
pub fn write_entry(out: &mut impl Write, entry: &SearchResultEntry) -> io::Result<()> {
    write_line(out, "dn", entry.object_name.as_bytes())?;
    for attribute in &entry.attributes {
        for value in attribute.vals.iter() {
            write_line(out, &attribute.r#type, value)?;
        }
    }
    out.write_all(b"\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_vectors() {
        // RFC 4648 §10.
        let cases = [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg=="),
            ("fooba", "Zm9vYmE="),
            ("foobar", "Zm9vYmFy"),
        ];
        for (plain, encoded) in cases {
            assert_eq!(base64(plain.as_bytes()), encoded);
        }
        assert_eq!(base64(&[0xff, 0xfe, 0x00]), "//4A");
    }

    #[test]
    fn safe_strings() {
        assert!(is_safe_string(b"Alice Example"));
        assert!(is_safe_string(b""));
        for unsafe_value in [
            &b" leading space"[..],
            b":colon",
            b"<less",
            b"trailing ",
            b"line\nfeed",
            b"nul\0",
            b"caf\xc3\xa9",
        ] {
            assert!(!is_safe_string(unsafe_value), "{unsafe_value:?}");
        }
    }

    #[test]
    fn lines() {
        let mut out = Vec::new();
        write_line(&mut out, "cn", b"plain").unwrap();
        write_line(&mut out, "cn", "Zoë".as_bytes()).unwrap();
        assert_eq!(out, b"cn: plain\ncn:: Wm/Dqw==\n");
    }
}
