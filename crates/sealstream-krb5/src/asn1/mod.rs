//! The Kerberos messages of RFC 4120 §5, in DER, on the RustCrypto `der` crate.
//!
//! The types mirror the ASN.1 module of RFC 4120 Appendix A field for field, with the
//! `EXPLICIT` context tags it uses throughout. Two things `der` does not provide are here:
//!
//! - [`App`]: the `[APPLICATION n]` wrapper every Kerberos message and ticket carries;
//! - [`KerberosString`]: "KerberosString ::= GeneralString (IA5String)", owned.
//!
//! Decoding is `der`'s: strict DER, every length checked against the input before anything is
//! allocated for it, so a reply cut short or padded is refused, not guessed at.

mod ap;
mod kdc;
mod types;

pub(crate) use ap::*;
pub(crate) use kdc::*;
pub(crate) use types::*;

use der::{DecodeValue, EncodeValue, FixedTag, Header, Length, Reader, Tag, TagNumber, Writer};

/// A value under `[APPLICATION N]`, explicitly tagged: `Ticket ::= [APPLICATION 1] SEQUENCE`.
#[derive(Clone, Debug, Eq, PartialEq)]
pub(crate) struct App<const N: u32, T>(pub(crate) T);

impl<const N: u32, T> From<T> for App<N, T> {
    fn from(value: T) -> Self {
        App(value)
    }
}

impl<const N: u32, T> FixedTag for App<N, T> {
    const TAG: Tag = Tag::Application {
        constructed: true,
        number: TagNumber(N),
    };
}

impl<'a, const N: u32, T: der::Decode<'a, Error = der::Error>> DecodeValue<'a> for App<N, T> {
    type Error = der::Error;

    fn decode_value<R: Reader<'a>>(reader: &mut R, header: Header) -> der::Result<Self> {
        reader.read_nested(header.length(), |inner| T::decode(inner).map(App))
    }
}

impl<const N: u32, T: der::Encode> EncodeValue for App<N, T> {
    fn value_len(&self) -> der::Result<Length> {
        self.0.encoded_len()
    }

    fn encode_value(&self, writer: &mut impl Writer) -> der::Result<()> {
        self.0.encode(writer)
    }
}

/// `KerberosString ::= GeneralString (IA5String)`. RFC 4120 §5.2.1 restricts it to IA5, and
/// allows UTF-8 "for compatibility"; any valid UTF-8 is taken.
#[derive(Clone, Debug, Eq, PartialEq, Hash, PartialOrd, Ord)]
pub(crate) struct KerberosString(pub(crate) String);

impl FixedTag for KerberosString {
    const TAG: Tag = Tag::GeneralString;
}

impl<'a> DecodeValue<'a> for KerberosString {
    type Error = der::Error;

    fn decode_value<R: Reader<'a>>(reader: &mut R, header: Header) -> der::Result<Self> {
        let bytes = reader.read_vec(header.length())?;
        String::from_utf8(bytes).map(KerberosString).map_err(|_| {
            der::Error::from(der::ErrorKind::Value {
                tag: Tag::GeneralString,
            })
        })
    }
}

impl EncodeValue for KerberosString {
    fn value_len(&self) -> der::Result<Length> {
        Length::try_from(self.0.len())
    }

    fn encode_value(&self, writer: &mut impl Writer) -> der::Result<()> {
        writer.write(self.0.as_bytes())
    }
}

impl From<&str> for KerberosString {
    fn from(s: &str) -> Self {
        KerberosString(s.to_owned())
    }
}

#[cfg(test)]
mod tests;
