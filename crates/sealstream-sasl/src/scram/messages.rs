//! SCRAM's messages (RFC 5802 §7): comma-separated `letter=value` attributes in a fixed order,
//! user names escaped (`=2C` for a comma, `=3D` for an equals sign), binary values in base64.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;

use crate::AuthError;

/// The longest server message we read: a nonce, a salt and a count take well under a
/// kilobyte; anything longer is refused before it is parsed.
pub(super) const MAX_MESSAGE: usize = 4096;

/// `saslname` (RFC 5802 §7): `,` as `=2C` and `=` as `=3D`.
pub(super) fn escape_name(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    for c in name.chars() {
        match c {
            ',' => out.push_str("=2C"),
            '=' => out.push_str("=3D"),
            c => out.push(c),
        }
    }
    out
}

/// The server's first message (RFC 5802 §7 `server-first-message`).
#[derive(Debug, PartialEq, Eq)]
pub(super) struct ServerFirst {
    /// The combined nonce: ours, then the server's part.
    pub(super) nonce: String,
    /// The salt, decoded.
    pub(super) salt: Vec<u8>,
    /// The iteration count.
    pub(super) iterations: u32,
}

/// The server's final message: its signature, or the error it names.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum ServerFinal {
    /// `v=`: the server signature, decoded.
    Verifier(Vec<u8>),
    /// `e=`: the server refused, with this reason.
    Error(String),
}

/// The message as text, refusing what cannot be a SCRAM message.
fn text<'a>(message: &'a [u8], what: &str) -> Result<&'a str, AuthError> {
    if message.len() > MAX_MESSAGE {
        return Err(AuthError::malformed(format!(
            "the server's {what} is {} bytes long",
            message.len()
        )));
    }
    std::str::from_utf8(message)
        .map_err(|_| AuthError::malformed(format!("the server's {what} is not UTF-8")))
}

/// Split `message` into its attributes, each `letter=value`.
fn attributes<'a>(message: &'a str, what: &str) -> Result<Vec<(char, &'a str)>, AuthError> {
    message
        .split(',')
        .map(|attribute| {
            let mut chars = attribute.chars();
            match (chars.next(), chars.next()) {
                (Some(letter), Some('=')) if letter.is_ascii_alphabetic() => {
                    Ok((letter, &attribute[2..]))
                }
                _ => Err(AuthError::malformed(format!(
                    "the server's {what} has a malformed attribute {attribute:?}"
                ))),
            }
        })
        .collect()
}

/// `base64` per RFC 5802 §7 (standard alphabet, padded).
fn decode(value: &str, what: &str) -> Result<Vec<u8>, AuthError> {
    STANDARD
        .decode(value)
        .map_err(|e| AuthError::malformed(format!("{what} is not base64: {e}")))
}

/// Parse `server-first-message = [reserved-mext ","] nonce "," salt "," iteration-count
/// ["," extensions]`. A mandatory extension (`m=`) is refused, as RFC 5802 §5.1 requires of a
/// client that does not know it.
pub(super) fn parse_server_first(message: &[u8]) -> Result<ServerFirst, AuthError> {
    const WHAT: &str = "first message";
    let attributes = attributes(text(message, WHAT)?, WHAT)?;
    let mut attributes = attributes.into_iter();
    let mut next = attributes.next();
    if let Some(('m', _)) = next {
        return Err(AuthError::malformed(
            "the server requires a SCRAM extension (m=) this client does not know",
        ));
    }
    let Some(('r', nonce)) = next else {
        return Err(AuthError::malformed(
            "the server's first message does not start with its nonce (r=)",
        ));
    };
    next = attributes.next();
    let Some(('s', salt)) = next else {
        return Err(AuthError::malformed(
            "the server's first message has no salt (s=) after its nonce",
        ));
    };
    next = attributes.next();
    let Some(('i', iterations)) = next else {
        return Err(AuthError::malformed(
            "the server's first message has no iteration count (i=) after its salt",
        ));
    };
    let iterations = iterations
        .parse::<u32>()
        .ok()
        .filter(|&i| i > 0 && !iterations.starts_with('0'))
        .ok_or_else(|| {
            AuthError::malformed(format!(
                "the iteration count {iterations:?} is not a number"
            ))
        })?;
    let salt = decode(salt, "the salt")?;
    if salt.is_empty() {
        return Err(AuthError::malformed("the server's salt is empty"));
    }
    Ok(ServerFirst {
        nonce: nonce.to_owned(),
        salt,
        iterations,
    })
}

/// Parse `server-final-message = (server-error / verifier) ["," extensions]`.
pub(super) fn parse_server_final(message: &[u8]) -> Result<ServerFinal, AuthError> {
    const WHAT: &str = "final message";
    let attributes = attributes(text(message, WHAT)?, WHAT)?;
    match attributes.first() {
        Some(('v', verifier)) => Ok(ServerFinal::Verifier(decode(verifier, "the verifier")?)),
        Some(('e', error)) => Ok(ServerFinal::Error((*error).to_owned())),
        _ => Err(AuthError::malformed(
            "the server's final message has neither a verifier (v=) nor an error (e=)",
        )),
    }
}

/// `printable` (RFC 5802 §7): what a nonce may hold, everything from `!` to `~` but `,`.
pub(super) fn is_printable(nonce: &str) -> bool {
    !nonce.is_empty()
        && nonce
            .bytes()
            .all(|b| (0x21..=0x7e).contains(&b) && b != b',')
}

/// base64, as the messages carry binary values.
pub(super) fn encode(bytes: &[u8]) -> String {
    STANDARD.encode(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_escaped() {
        assert_eq!(escape_name("a,b=c"), "a=2Cb=3Dc");
        assert_eq!(escape_name("user"), "user");
    }

    #[test]
    fn server_first_messages() {
        let first = parse_server_first(b"r=abcXYZ,s=QSXCR+Q6sek8bf92,i=4096,x=extension").unwrap();
        assert_eq!(first.nonce, "abcXYZ");
        assert_eq!(first.salt.len(), 12);
        assert_eq!(first.iterations, 4096);
        for (bad, why) in [
            ("m=ext,r=a,s=QQ==,i=1", "extension"),
            ("s=QQ==,r=a,i=1", "nonce"),
            ("r=a,i=1,s=QQ==", "salt"),
            ("r=a,s=QQ==", "iteration"),
            ("r=a,s=QQ==,i=0", "not a number"),
            ("r=a,s=QQ==,i=04096", "not a number"),
            ("r=a,s=QQ==,i=99999999999", "not a number"),
            ("r=a,s=!!,i=1", "base64"),
            ("r=a,s=,i=1", "empty"),
            ("r=a,,s=QQ==,i=1", "malformed attribute"),
            ("", "malformed attribute"),
        ] {
            let err = parse_server_first(bad.as_bytes()).unwrap_err();
            assert!(err.detail().contains(why), "{bad}: {err}");
        }
        let long = vec![b'r'; MAX_MESSAGE + 1];
        assert!(parse_server_first(&long).is_err());
        assert!(parse_server_first(b"r=\xff,s=QQ==,i=1").is_err());
    }

    #[test]
    fn server_final_messages() {
        assert_eq!(
            parse_server_final(b"v=AAEC").unwrap(),
            ServerFinal::Verifier(vec![0, 1, 2])
        );
        assert_eq!(
            parse_server_final(b"e=invalid-proof").unwrap(),
            ServerFinal::Error("invalid-proof".into())
        );
        assert!(parse_server_final(b"x=1").is_err());
        assert!(parse_server_final(b"v=!").is_err());
    }

    #[test]
    fn printable_nonces() {
        assert!(is_printable("fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j"));
        assert!(!is_printable("a,b"));
        assert!(!is_printable("a b"));
        assert!(!is_printable(""));
    }
}
