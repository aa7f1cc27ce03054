//! The `name=value, name="value"` lists DIGEST-MD5 messages are made of.
//!
//! Peers differ in the details: Cyrus sends `maxbuf=65536` and `cipher=rc4` unquoted, the JDK
//! quotes them, some put spaces around `=` or after commas. The parser accepts all of that, and
//! refuses what cannot be read unambiguously (a missing `=`, an unterminated quote, junk after a
//! value) with a sentence saying where. Duplicates and required directives are checked by the
//! message parsers that know which directives may repeat.

use crate::AuthError;

/// One `name=value` pair. Names are lower-cased; values are unquoted and unescaped.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Directive {
    pub(crate) name: String,
    pub(crate) value: String,
}

// RFC 2616 §2.2 (which RFC 2831 §7.1 refers to):
//   token      = 1*<any CHAR except CTLs or separators>
//   separators = "(" | ")" | "<" | ">" | "@" | "," | ";" | ":" | "\" | <">
//              | "/" | "[" | "]" | "?" | "=" | "{" | "}" | SP | HT
fn is_token_byte(b: u8) -> bool {
    b.is_ascii_graphic() && !b"()<>@,;:\\\"/[]?={}".contains(&b)
}

fn is_lws(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\r' | b'\n')
}

// RFC 2831 §7.2: "For the purposes of this document, an unquoted value is one that does not
// contain quotes". Unquoted values in the wild are tokens plus what Cyrus and the JDK put there
// (`digest-uri=ldap/host` has been seen unquoted): anything up to a comma or white space.
fn is_bare_value_byte(b: u8) -> bool {
    !b.is_ascii_control() && !is_lws(b) && b != b',' && b != b'"'
}

/// A value's bytes as text: UTF-8 when they are, ISO 8859-1 otherwise (RFC 2831 §2.1.2.1: the
/// default charset). Converting back to ISO 8859-1 before hashing gives the same bytes.
fn decode(bytes: &[u8]) -> String {
    match std::str::from_utf8(bytes) {
        Ok(s) => s.to_owned(),
        Err(_) => bytes.iter().map(|&b| char::from(b)).collect(),
    }
}

/// Parse a directive list. The list may start, end or be separated by several commas (RFC 2616
/// `#rule` allows empty elements).
pub(crate) fn parse(input: &[u8]) -> Result<Vec<Directive>, AuthError> {
    let mut out = Vec::new();
    let mut i = 0;
    let skip_lws = |i: &mut usize| {
        while *i < input.len() && is_lws(input[*i]) {
            *i += 1;
        }
    };
    loop {
        while i < input.len() && (is_lws(input[i]) || input[i] == b',') {
            i += 1;
        }
        if i == input.len() {
            return Ok(out);
        }
        let start = i;
        while i < input.len() && is_token_byte(input[i]) {
            i += 1;
        }
        if i == start {
            return Err(AuthError::malformed(format!(
                "expected a directive name at byte {start}, found {:?}",
                char::from(input[start])
            )));
        }
        let name = decode(&input[start..i]).to_ascii_lowercase();
        skip_lws(&mut i);
        if input.get(i) != Some(&b'=') {
            return Err(AuthError::malformed(format!(
                "directive {name} has no '=' and value"
            )));
        }
        i += 1;
        skip_lws(&mut i);
        let mut value = Vec::new();
        if input.get(i) == Some(&b'"') {
            // quoted-string = ( <"> *(qdtext | quoted-pair ) <"> ); quoted-pair = "\" CHAR
            i += 1;
            loop {
                match input.get(i) {
                    None => {
                        return Err(AuthError::malformed(format!(
                            "the value of directive {name} has no closing quote"
                        )));
                    }
                    Some(b'"') => {
                        i += 1;
                        break;
                    }
                    Some(b'\\') => {
                        let Some(&escaped) = input.get(i + 1) else {
                            return Err(AuthError::malformed(format!(
                                "the value of directive {name} ends in a lone backslash"
                            )));
                        };
                        value.push(escaped);
                        i += 2;
                    }
                    Some(&b) => {
                        value.push(b);
                        i += 1;
                    }
                }
            }
        } else {
            let vstart = i;
            while i < input.len() && is_bare_value_byte(input[i]) {
                i += 1;
            }
            if i == vstart {
                return Err(AuthError::malformed(format!(
                    "directive {name} has an empty unquoted value"
                )));
            }
            value.extend_from_slice(&input[vstart..i]);
        }
        skip_lws(&mut i);
        match input.get(i) {
            None | Some(b',') => {}
            Some(&b) => {
                return Err(AuthError::malformed(format!(
                    "unexpected {:?} after the value of directive {name}",
                    char::from(b)
                )));
            }
        }
        out.push(Directive {
            name,
            value: decode(&value),
        });
    }
}

/// Appends directives, separated by commas.
#[derive(Debug, Default)]
pub(crate) struct Writer {
    out: Vec<u8>,
}

impl Writer {
    fn separate(&mut self) {
        if !self.out.is_empty() {
            self.out.push(b',');
        }
    }

    /// `name="value"`, escaping `"` and `\`.
    pub(crate) fn quoted(&mut self, name: &str, value: &str) -> &mut Self {
        self.quoted_bytes(name, value.as_bytes())
    }

    /// `name="value"` for a user name or realm, in ISO 8859-1 unless `utf8`.
    ///
    /// RFC 2831 §2.1.1: "charset [...] If present, it specifies that the server supports UTF-8
    /// encoding for the username and password. If not present, the username and password must
    /// be encoded in ISO 8859-1". A value with a character beyond U+00FF has no ISO 8859-1
    /// form and goes out in UTF-8, which is all a peer without UTF-8 support can be sent.
    pub(crate) fn text(&mut self, name: &str, value: &str, utf8: bool) -> &mut Self {
        if utf8 || value.is_ascii() {
            return self.quoted(name, value);
        }
        match value
            .chars()
            .map(|c| u8::try_from(u32::from(c)).ok())
            .collect::<Option<Vec<u8>>>()
        {
            Some(latin1) => self.quoted_bytes(name, &latin1),
            None => self.quoted(name, value),
        }
    }

    fn quoted_bytes(&mut self, name: &str, value: &[u8]) -> &mut Self {
        self.separate();
        self.out.extend_from_slice(name.as_bytes());
        self.out.extend_from_slice(b"=\"");
        for &b in value {
            if b == b'"' || b == b'\\' {
                self.out.push(b'\\');
            }
            self.out.push(b);
        }
        self.out.push(b'"');
        self
    }

    /// `name=value` for a token value.
    pub(crate) fn token(&mut self, name: &str, value: &str) -> &mut Self {
        self.separate();
        self.out.extend_from_slice(name.as_bytes());
        self.out.push(b'=');
        self.out.extend_from_slice(value.as_bytes());
        self
    }

    /// The bytes written.
    pub(crate) fn finish(&mut self) -> Vec<u8> {
        std::mem::take(&mut self.out)
    }
}

/// Directives collected by name, refusing repeats of those that must appear once.
pub(crate) struct Fields {
    directives: Vec<Directive>,
}

impl Fields {
    /// Check that no directive except those in `may_repeat` appears twice. Unknown directives
    /// are kept and ignored (RFC 2831 `auth-param`: "The client MUST ignore any unrecognized
    /// directives"), but repeating a known one is refused.
    pub(crate) fn new(
        directives: Vec<Directive>,
        known: &[&str],
        may_repeat: &[&str],
    ) -> Result<Self, AuthError> {
        for (i, d) in directives.iter().enumerate() {
            let repeated = directives[..i].iter().any(|e| e.name == d.name);
            if repeated
                && known.contains(&d.name.as_str())
                && !may_repeat.contains(&d.name.as_str())
            {
                return Err(AuthError::malformed(format!(
                    "directive {} appears more than once",
                    d.name
                )));
            }
        }
        Ok(Self { directives })
    }

    /// The value of `name`, if present.
    pub(crate) fn get(&self, name: &str) -> Option<&str> {
        self.directives
            .iter()
            .find(|d| d.name == name)
            .map(|d| d.value.as_str())
    }

    /// The value of `name`, which must be present.
    pub(crate) fn require(&self, name: &str) -> Result<&str, AuthError> {
        self.get(name)
            .ok_or_else(|| AuthError::malformed(format!("directive {name} is missing")))
    }

    /// Every value of `name`, in order.
    pub(crate) fn all<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.directives
            .iter()
            .filter(move |d| d.name == name)
            .map(|d| d.value.as_str())
    }
}

/// The elements of a quoted comma list such as `qop="auth, auth-int"`, trimmed, empty ones
/// dropped.
pub(crate) fn list(value: &str) -> impl Iterator<Item = &str> {
    value.split(',').map(str::trim).filter(|s| !s.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(input: &str) -> Vec<(String, String)> {
        parse(input.as_bytes())
            .unwrap()
            .into_iter()
            .map(|d| (d.name, d.value))
            .collect()
    }

    fn p(name: &str, value: &str) -> (String, String) {
        (name.into(), value.into())
    }

    #[test]
    fn quoted_unquoted_spacing_and_empty_elements() {
        assert_eq!(
            pairs(r#" ,realm="a b" , Nonce = "x\"y\\z",,maxbuf=65536,cipher=rc4 ,"#),
            vec![
                p("realm", "a b"),
                p("nonce", r#"x"y\z"#),
                p("maxbuf", "65536"),
                p("cipher", "rc4"),
            ]
        );
        assert_eq!(pairs(""), vec![]);
        assert_eq!(pairs(" , ,"), vec![]);
        assert_eq!(
            pairs("digest-uri=ldap/host.example.com,qop=\"\""),
            vec![p("digest-uri", "ldap/host.example.com"), p("qop", "")]
        );
        assert_eq!(pairs("a=\r\n \"v\""), vec![p("a", "v")]);
    }

    #[test]
    fn malformed_lists_are_refused_with_a_reason() {
        for (input, reason) in [
            ("realm", "no '='"),
            ("realm=\"abc", "no closing quote"),
            ("realm=\"abc\\", "lone backslash"),
            ("realm=", "empty unquoted value"),
            ("realm=\"a\"b", "unexpected 'b'"),
            ("realm=a b", "unexpected 'b'"),
            ("=a", "expected a directive name"),
            ("\"x\"=a", "expected a directive name"),
        ] {
            let err = parse(input.as_bytes()).unwrap_err();
            assert!(err.detail().contains(reason), "{input:?}: {err}");
        }
    }

    #[test]
    fn writer_escapes_and_parser_reads_back() {
        let bytes = Writer::default()
            .quoted("username", r#"we"ird\name"#)
            .token("nc", "00000001")
            .finish();
        assert_eq!(bytes, br#"username="we\"ird\\name",nc=00000001"#);
        assert_eq!(
            pairs(std::str::from_utf8(&bytes).unwrap()),
            vec![p("username", r#"we"ird\name"#), p("nc", "00000001")]
        );
    }

    #[test]
    fn duplicates() {
        let d = parse(b"realm=a,realm=b,nonce=x,foo=1,foo=2").unwrap();
        let f = Fields::new(d.clone(), &["realm", "nonce"], &["realm"]).unwrap();
        assert_eq!(f.all("realm").collect::<Vec<_>>(), ["a", "b"]);
        assert_eq!(f.require("nonce").unwrap(), "x");
        assert!(f.require("qop").is_err());
        let err = Fields::new(d, &["realm", "nonce"], &[]).err().unwrap();
        assert!(err.detail().contains("realm appears more than once"));
    }

    #[test]
    fn latin1_values() {
        let d = parse(b"username=\"j\xe9r\xf4me\"").unwrap();
        assert_eq!(d[0].value, "j\u{e9}r\u{f4}me");
    }

    proptest::proptest! {
        #[test]
        fn never_panics(input in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..200)) {
            let _ = parse(&input);
        }

        #[test]
        fn written_values_read_back(name in "[a-z][a-z-]{0,10}", value in "\\PC{0,40}") {
            let bytes = Writer::default().quoted(&name, &value).finish();
            let parsed = parse(&bytes).unwrap();
            proptest::prop_assert_eq!(parsed, vec![Directive { name, value }]);
        }
    }
}
