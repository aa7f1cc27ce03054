//! One server response (RFC 3501 §7): its text and the literals it carries, and the parts of it
//! a client looks at: the tag, the status, the response code, capabilities, and the attribute
//! list of a FETCH.

use std::borrow::Cow;

/// A whole response: every line of it with each literal's `{N}` kept in place and the literal
/// bytes aside, in order, each with the offset in the text where its marker ends.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Response {
    line: Vec<u8>,
    literals: Vec<(usize, Vec<u8>)>,
}

/// Who a response is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind<'a> {
    /// `+ ...`: the server waits for more of the command (a literal, an AUTHENTICATE response).
    Continuation,
    /// `* ...`: data or status not tied to one command.
    Untagged,
    /// `TAG ...`: the completion of the command with this tag.
    Tagged(&'a str),
}

/// The status of a status response (RFC 3501 §7.1).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Status {
    /// `OK`: success, or information.
    Ok,
    /// `NO`: the command failed.
    No,
    /// `BAD`: the command was not understood.
    Bad,
    /// `BYE`: the server is closing the connection.
    Bye,
    /// `PREAUTH`: a greeting for a connection already authenticated.
    Preauth,
}

/// A token of a response line (RFC 3501 §9, read loosely: enough for attribute lists).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Token<'a> {
    /// An atom or number: `UID`, `BODY[]`, `1234`, `NIL`.
    Atom(&'a [u8]),
    /// A quoted string, unescaped.
    Quoted(Vec<u8>),
    /// A literal: its bytes.
    Literal(&'a [u8]),
    /// `(`.
    Open,
    /// `)`.
    Close,
}

impl Response {
    /// A response of the text `line` and the `literals` whose markers end at the given
    /// offsets of it.
    pub(crate) fn new(line: Vec<u8>, literals: Vec<(usize, Vec<u8>)>) -> Self {
        Self { line, literals }
    }

    /// The response's text, literals shown as their `{N}` markers.
    pub fn line(&self) -> &[u8] {
        &self.line
    }

    /// The literals, in the order they came.
    pub fn literals(&self) -> impl Iterator<Item = &[u8]> {
        self.literals.iter().map(|(_, bytes)| bytes.as_slice())
    }

    /// The text as a string for messages and traces (invalid UTF-8 replaced).
    pub fn text_lossy(&self) -> Cow<'_, str> {
        String::from_utf8_lossy(&self.line)
    }

    /// Whom the response is for; `None` for a line that is none of the three (a protocol
    /// error).
    pub fn kind(&self) -> Option<Kind<'_>> {
        let first = self.line.split(|&b| b == b' ').next()?;
        match first {
            b"+" => Some(Kind::Continuation),
            b"*" => Some(Kind::Untagged),
            tag if !tag.is_empty() => std::str::from_utf8(tag).ok().map(Kind::Tagged),
            _ => None,
        }
    }

    /// What follows the tag, `*` or `+` and one space.
    pub fn rest(&self) -> &[u8] {
        match self.line.iter().position(|&b| b == b' ') {
            Some(space) => &self.line[space + 1..],
            None => &[],
        }
    }

    /// The data of a continuation request (`+ DATA`); empty when there is none.
    pub fn continuation_data(&self) -> &[u8] {
        self.rest()
    }

    /// The status of a tagged or untagged status response.
    pub fn status(&self) -> Option<Status> {
        let word = self.rest().split(|&b| b == b' ').next()?;
        Some(match word.to_ascii_uppercase().as_slice() {
            b"OK" => Status::Ok,
            b"NO" => Status::No,
            b"BAD" => Status::Bad,
            b"BYE" => Status::Bye,
            b"PREAUTH" => Status::Preauth,
            _ => return None,
        })
    }

    /// The response code of a status response: what is inside `[...]` after the status.
    pub fn code(&self) -> Option<&[u8]> {
        self.status()?;
        let rest = self.rest();
        let after = &rest[rest.iter().position(|&b| b == b' ')? + 1..];
        let inner = after.strip_prefix(b"[")?;
        Some(&inner[..inner.iter().position(|&b| b == b']')?])
    }

    /// The human-readable text of a status response (after the status and any code).
    pub fn status_text(&self) -> Cow<'_, str> {
        let rest = self.rest();
        let mut text = match rest.iter().position(|&b| b == b' ') {
            Some(space) => &rest[space + 1..],
            None => &[][..],
        };
        if text.starts_with(b"[") {
            if let Some(end) = text.iter().position(|&b| b == b']') {
                text = text[end + 1..].trim_ascii_start();
            }
        }
        String::from_utf8_lossy(text)
    }

    /// An untagged response that starts with a number: `* 5 EXISTS` is `(5, "EXISTS")`, `* 3
    /// FETCH (...)` is `(3, "FETCH")`.
    pub fn numbered(&self) -> Option<(u32, String)> {
        if self.kind()? != Kind::Untagged {
            return None;
        }
        let mut words = self.rest().split(|&b| b == b' ');
        let number = std::str::from_utf8(words.next()?).ok()?.parse().ok()?;
        let name = words.next()?.to_ascii_uppercase();
        Some((number, String::from_utf8(name).ok()?))
    }

    /// The capabilities of a `* CAPABILITY ...` response or of a `[CAPABILITY ...]` response
    /// code, upper-cased.
    pub fn capabilities(&self) -> Option<Vec<String>> {
        let list = match self.code() {
            Some(code) => code.strip_prefix(b"CAPABILITY ")?,
            None if self.kind()? == Kind::Untagged => self.rest().strip_prefix(b"CAPABILITY ")?,
            None => return None,
        };
        Some(
            list.split(|&b| b == b' ')
                .filter(|word| !word.is_empty())
                .map(|word| String::from_utf8_lossy(word).to_ascii_uppercase())
                .collect(),
        )
    }

    /// The tokens of the line from byte `from` of [`rest`](Self::rest) on, with literals in
    /// place of their markers; `None` when the line does not tokenize (an unterminated quoted
    /// string, a marker without its literal).
    pub fn tokens(&self, from: usize) -> Option<Vec<Token<'_>>> {
        let rest = self.rest();
        let mut tokens = Vec::new();
        let mut input = rest.get(from..)?;
        loop {
            input = input.trim_ascii_start();
            let Some(&first) = input.first() else {
                return Some(tokens);
            };
            match first {
                b'(' => {
                    tokens.push(Token::Open);
                    input = &input[1..];
                }
                b')' => {
                    tokens.push(Token::Close);
                    input = &input[1..];
                }
                b'"' => {
                    let (value, after) = unquote(&input[1..])?;
                    tokens.push(Token::Quoted(value));
                    input = after;
                }
                b'{' | b'~' if literal_marker_len(input).is_some() => {
                    let len = literal_marker_len(input)?;
                    // A marker is a literal only where the reader found one: at a line's end.
                    let end = self.line.len() - input.len() + len;
                    let (_, literal) = self.literals.iter().find(|(at, _)| *at == end)?;
                    tokens.push(Token::Literal(literal));
                    input = &input[len..];
                }
                _ => {
                    let end = input
                        .iter()
                        .position(|&b| b == b' ' || b == b')' || b == b'(')
                        .unwrap_or(input.len());
                    // `BODY[HEADER.FIELDS (FROM)]` keeps its parenthesised part.
                    let end = match input[..end].iter().position(|&b| b == b'[') {
                        Some(open) => match input[open..].iter().position(|&b| b == b']') {
                            Some(close) => open + close + 1,
                            None => end,
                        },
                        None => end,
                    };
                    tokens.push(Token::Atom(&input[..end]));
                    input = &input[end..];
                }
            }
        }
    }

    /// The attributes of `* N FETCH (NAME VALUE ...)`: the message number, and each name
    /// (upper-cased) with its value token. Values that are lists (`FLAGS (...)`) are skipped.
    pub fn fetch(&self) -> Option<(u32, Vec<(String, Token<'_>)>)> {
        let (number, name) = self.numbered()?;
        if name != "FETCH" {
            return None;
        }
        let rest = self.rest();
        let open = rest.iter().position(|&b| b == b'(')?;
        let tokens = self.tokens(open)?;
        let mut tokens = tokens.into_iter();
        if tokens.next()? != Token::Open {
            return None;
        }
        let mut attributes = Vec::new();
        while let Some(token) = tokens.next() {
            let name = match token {
                Token::Close => return Some((number, attributes)),
                Token::Atom(name) => String::from_utf8_lossy(name).to_ascii_uppercase(),
                _ => return None,
            };
            match tokens.next()? {
                Token::Open => {
                    let mut depth = 1;
                    while depth > 0 {
                        match tokens.next()? {
                            Token::Open => depth += 1,
                            Token::Close => depth -= 1,
                            _ => {}
                        }
                    }
                }
                Token::Close => return None,
                value => attributes.push((name, value)),
            }
        }
        None
    }
}

/// The length of a literal marker `{N}` or `~{N}` (RFC 3516's literal8) at the start of
/// `input`.
fn literal_marker_len(input: &[u8]) -> Option<usize> {
    let (tilde, body) = match input.strip_prefix(b"~") {
        Some(body) => (1, body),
        None => (0, input),
    };
    let inner = body.strip_prefix(b"{")?;
    let close = inner.iter().position(|&b| b == b'}')?;
    if close == 0 || !inner[..close].iter().all(u8::is_ascii_digit) {
        return None;
    }
    Some(tilde + close + 2)
}

/// A quoted string's value (RFC 3501 `quoted`: `\"` and `\\` escaped), and what follows it.
fn unquote(input: &[u8]) -> Option<(Vec<u8>, &[u8])> {
    let mut value = Vec::new();
    let mut bytes = input.iter().enumerate();
    while let Some((i, &b)) = bytes.next() {
        match b {
            b'"' => return Some((value, &input[i + 1..])),
            b'\\' => value.push(*bytes.next()?.1),
            _ => value.push(b),
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn response(line: &str) -> Response {
        Response::new(line.as_bytes().to_vec(), Vec::new())
    }

    #[test]
    fn kinds_statuses_and_codes() {
        let r = response("a7 OK [APPENDUID 38505 3955] APPEND completed");
        assert_eq!(r.kind(), Some(Kind::Tagged("a7")));
        assert_eq!(r.status(), Some(Status::Ok));
        assert_eq!(r.code(), Some(&b"APPENDUID 38505 3955"[..]));
        assert_eq!(r.status_text(), "APPEND completed");
        let r = response("+ ");
        assert_eq!(r.kind(), Some(Kind::Continuation));
        assert_eq!(r.continuation_data(), b"");
        let r = response("+ cmVhbG09ImxvY2FsaG9zdCI=");
        assert_eq!(r.continuation_data(), b"cmVhbG09ImxvY2FsaG9zdCI=");
        let r = response("* BYE idle for too long");
        assert_eq!(r.status(), Some(Status::Bye));
        assert_eq!(r.status_text(), "idle for too long");
        assert_eq!(
            response("* 17 EXISTS").numbered(),
            Some((17, "EXISTS".into()))
        );
        assert_eq!(response("* FLAGS (\\Seen)").status(), None);
        assert_eq!(response("").kind(), None);
    }

    #[test]
    fn capabilities_from_the_response_and_from_a_code() {
        let r = response("* CAPABILITY IMAP4rev1 STARTTLS AUTH=DIGEST-MD5 SASL-IR");
        assert_eq!(
            r.capabilities().unwrap(),
            ["IMAP4REV1", "STARTTLS", "AUTH=DIGEST-MD5", "SASL-IR"]
        );
        let r = response("* OK [CAPABILITY IMAP4rev1 LITERAL+ AUTH=GSSAPI] ready");
        assert_eq!(
            r.capabilities().unwrap(),
            ["IMAP4REV1", "LITERAL+", "AUTH=GSSAPI"]
        );
        assert_eq!(response("* OK ready").capabilities(), None);
    }

    #[test]
    fn fetch_attributes_with_a_literal() {
        let line = b"* 3 FETCH (UID 7 FLAGS (\\Seen (x)) RFC822.SIZE 5 BODY[] {5}".to_vec();
        let at = line.len();
        let mut line = line;
        line.extend_from_slice(b" BODY[HEADER.FIELDS (SUBJECT)] \"a \\\"b\\\"\")");
        let r = Response::new(line, vec![(at, b"hello".to_vec())]);
        let (number, attributes) = r.fetch().unwrap();
        assert_eq!(number, 3);
        assert_eq!(
            attributes,
            [
                ("UID".to_owned(), Token::Atom(b"7")),
                ("RFC822.SIZE".to_owned(), Token::Atom(b"5")),
                ("BODY[]".to_owned(), Token::Literal(b"hello")),
                (
                    "BODY[HEADER.FIELDS (SUBJECT)]".to_owned(),
                    Token::Quoted(b"a \"b\"".to_vec())
                ),
            ]
        );
    }

    #[test]
    fn malformed_fetches_are_none() {
        for line in [
            "* 3 FETCH (UID",
            "* 3 FETCH (UID 7",
            "* 3 FETCH (BODY[] {5})",
            "* 3 FETCH (BODY[] \"{5}\" X {5} )",
            "* 3 FETCH (BODY[] \"unterminated)",
            "* 3 FETCH UID 7",
            "* x FETCH (UID 7)",
        ] {
            assert_eq!(response(line).fetch(), None, "{line}");
        }
    }
}
