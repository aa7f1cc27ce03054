//! The building blocks of RFC 4120 §5.2: names, times, keys, encrypted data, checksums,
//! pre-authentication data and tickets.

use der::Sequence;
use der::asn1::{Any, BitString, GeneralizedTime, OctetString, OctetStringRef};

use super::{App, KerberosString};

/// `pvno`: "This field specifies the protocol version number of the message" — always 5.
pub(crate) const PVNO: u8 = 5;

/// Name types (RFC 4120 §6.2).
pub(crate) const NT_PRINCIPAL: i32 = 1;
/// "Service and other unique instance (krbtgt)".
pub(crate) const NT_SRV_INST: i32 = 2;
/// "Service with host name as instance (telnet, rcommands)".
pub(crate) const NT_SRV_HST: i32 = 3;

/// `KerberosTime ::= GeneralizedTime -- with no fractional seconds`.
pub(crate) type KerberosTime = GeneralizedTime;

/// ```text
/// PrincipalName ::= SEQUENCE {
///         name-type       [0] Int32,
///         name-string     [1] SEQUENCE OF KerberosString
/// }
/// ```
#[derive(Clone, Debug, Eq, PartialEq, Sequence)]
pub(crate) struct PrincipalName {
    #[asn1(context_specific = "0")]
    pub(crate) name_type: i32,
    #[asn1(context_specific = "1")]
    pub(crate) name_string: Vec<KerberosString>,
}

/// ```text
/// EncryptedData ::= SEQUENCE {
///         etype   [0] Int32 -- EncryptionType --,
///         kvno    [1] UInt32 OPTIONAL,
///         cipher  [2] OCTET STRING -- ciphertext
/// }
/// ```
#[derive(Clone, Debug, Eq, PartialEq, Sequence)]
pub(crate) struct EncryptedData {
    #[asn1(context_specific = "0")]
    pub(crate) etype: i32,
    #[asn1(context_specific = "1", optional = "true")]
    pub(crate) kvno: Option<u32>,
    #[asn1(context_specific = "2")]
    pub(crate) cipher: OctetString,
}

/// ```text
/// EncryptionKey ::= SEQUENCE {
///         keytype         [0] Int32 -- actually encryption type --,
///         keyvalue        [1] OCTET STRING
/// }
/// ```
///
/// Borrowed, so that key bytes stay in the zeroized buffer they were decrypted in (or in the
/// `Key` they are encoded from) and are never copied into a buffer nobody wipes.
#[derive(Clone, Copy, Debug, Eq, PartialEq, Sequence)]
pub(crate) struct EncryptionKeyRef<'a> {
    #[asn1(context_specific = "0")]
    pub(crate) keytype: i32,
    #[asn1(context_specific = "1")]
    pub(crate) keyvalue: &'a OctetStringRef,
}

/// ```text
/// Checksum ::= SEQUENCE {
///         cksumtype       [0] Int32,
///         checksum        [1] OCTET STRING
/// }
/// ```
#[derive(Clone, Debug, Eq, PartialEq, Sequence)]
pub(crate) struct Checksum {
    #[asn1(context_specific = "0")]
    pub(crate) cksumtype: i32,
    #[asn1(context_specific = "1")]
    pub(crate) checksum: OctetString,
}

/// ```text
/// PA-DATA ::= SEQUENCE {
///         -- NOTE: first tag is [1], not [0]
///         padata-type     [1] Int32,
///         padata-value    [2] OCTET STRING -- might be encoded AP-REQ
/// }
/// ```
#[derive(Clone, Debug, Eq, PartialEq, Sequence)]
pub(crate) struct PaData {
    #[asn1(context_specific = "1")]
    pub(crate) padata_type: i32,
    #[asn1(context_specific = "2")]
    pub(crate) padata_value: OctetString,
}

/// ```text
/// HostAddress ::= SEQUENCE  {
///         addr-type       [0] Int32,
///         address         [1] OCTET STRING
/// }
/// ```
#[derive(Clone, Debug, Eq, PartialEq, Sequence)]
pub(crate) struct HostAddress {
    #[asn1(context_specific = "0")]
    pub(crate) addr_type: i32,
    #[asn1(context_specific = "1")]
    pub(crate) address: OctetString,
}

/// One element of `AuthorizationData ::= SEQUENCE OF SEQUENCE { ad-type [0] Int32, ad-data
/// [1] OCTET STRING }`.
#[derive(Clone, Debug, Eq, PartialEq, Sequence)]
pub(crate) struct AuthorizationDataEntry {
    #[asn1(context_specific = "0")]
    pub(crate) ad_type: i32,
    #[asn1(context_specific = "1")]
    pub(crate) ad_data: OctetString,
}

/// ```text
/// Ticket          ::= [APPLICATION 1] SEQUENCE {
///         tkt-vno         [0] INTEGER (5),
///         realm           [1] Realm,
///         sname           [2] PrincipalName,
///         enc-part        [3] EncryptedData -- EncTicketPart
/// }
/// ```
#[derive(Clone, Debug, Eq, PartialEq, Sequence)]
pub(crate) struct TicketBody {
    #[asn1(context_specific = "0")]
    pub(crate) tkt_vno: u8,
    #[asn1(context_specific = "1")]
    pub(crate) realm: KerberosString,
    #[asn1(context_specific = "2")]
    pub(crate) sname: PrincipalName,
    #[asn1(context_specific = "3")]
    pub(crate) enc_part: EncryptedData,
}

/// A ticket, `[APPLICATION 1]`.
pub(crate) type Ticket = App<1, TicketBody>;

/// A ticket kept as the bytes the KDC sent: it is handed on unchanged (in a TGS-REQ or an
/// AP-REQ), and decoded only to read its realm, service and key version.
pub(crate) type RawTicket = Any;

/// `KerberosFlags ::= BIT STRING (SIZE (32..MAX))`: "the minimum number of bits shall be sent,
/// but no fewer than 32".
pub(crate) fn flags(bits: u32) -> BitString {
    BitString::new(0, bits.to_be_bytes()).expect("32 bits, none unused")
}

/// The first 32 bits of a `KerberosFlags`, bit 0 the most significant; shorter strings read as
/// zero-filled.
pub(crate) fn flags_value(flags: &BitString) -> u32 {
    let mut bits = [0u8; 4];
    for (to, from) in bits.iter_mut().zip(flags.raw_bytes()) {
        *to = *from;
    }
    u32::from_be_bytes(bits)
}
