//! The client/server exchange (RFC 4120 §5.5) and what a ticket holds (§5.3).

use der::asn1::{BitString, OctetString};
use der::{DecodeValue, EncodeValue, FixedTag, Header, Length, Reader, Sequence, Tag, Writer};

use super::{
    App, AuthorizationDataEntry, Checksum, EncryptedData, EncryptionKeyRef, HostAddress,
    KerberosString, KerberosTime, PrincipalName, RawTicket,
};

/// Message types (RFC 4120 §7.5.7).
pub(crate) const KRB_AP_REQ: u8 = 14;
pub(crate) const KRB_AP_REP: u8 = 15;

/// `AP-OPTIONS` bit 2: "mutual-required".
pub(crate) const AP_MUTUAL_REQUIRED: u32 = 1 << (31 - 2);

/// ```text
/// AP-REQ          ::= [APPLICATION 14] SEQUENCE {
///         pvno            [0] INTEGER (5),
///         msg-type        [1] INTEGER (14),
///         ap-options      [2] APOptions,
///         ticket          [3] Ticket,
///         authenticator   [4] EncryptedData -- Authenticator
/// }
/// ```
#[derive(Clone, Debug, Eq, PartialEq, Sequence)]
pub(crate) struct ApReqBody {
    #[asn1(context_specific = "0")]
    pub(crate) pvno: u8,
    #[asn1(context_specific = "1")]
    pub(crate) msg_type: u8,
    #[asn1(context_specific = "2")]
    pub(crate) ap_options: BitString,
    #[asn1(context_specific = "3")]
    pub(crate) ticket: RawTicket,
    #[asn1(context_specific = "4")]
    pub(crate) authenticator: EncryptedData,
}

/// `AP-REQ`, `[APPLICATION 14]`.
pub(crate) type ApReq = App<14, ApReqBody>;

/// ```text
/// Authenticator   ::= [APPLICATION 2] SEQUENCE  {
///         authenticator-vno       [0] INTEGER (5),
///         crealm                  [1] Realm,
///         cname                   [2] PrincipalName,
///         cksum                   [3] Checksum OPTIONAL,
///         cusec                   [4] Microseconds,
///         ctime                   [5] KerberosTime,
///         subkey                  [6] EncryptionKey OPTIONAL,
///         seq-number              [7] UInt32 OPTIONAL,
///         authorization-data      [8] AuthorizationData OPTIONAL
/// }
/// ```
#[derive(Clone, Debug, Eq, PartialEq, Sequence)]
pub(crate) struct AuthenticatorBody<'a> {
    #[asn1(context_specific = "0")]
    pub(crate) authenticator_vno: u8,
    #[asn1(context_specific = "1")]
    pub(crate) crealm: KerberosString,
    #[asn1(context_specific = "2")]
    pub(crate) cname: PrincipalName,
    #[asn1(context_specific = "3", optional = "true")]
    pub(crate) cksum: Option<Checksum>,
    #[asn1(context_specific = "4")]
    pub(crate) cusec: i32,
    #[asn1(context_specific = "5")]
    pub(crate) ctime: KerberosTime,
    #[asn1(context_specific = "6", optional = "true")]
    pub(crate) subkey: Option<EncryptionKeyRef<'a>>,
    #[asn1(context_specific = "7", optional = "true")]
    pub(crate) seq_number: Option<SeqNumber>,
    #[asn1(context_specific = "8", optional = "true")]
    pub(crate) authorization_data: Option<Vec<AuthorizationDataEntry>>,
}

/// `Authenticator`, `[APPLICATION 2]`.
pub(crate) type Authenticator<'a> = App<2, AuthenticatorBody<'a>>;

/// ```text
/// AP-REP          ::= [APPLICATION 15] SEQUENCE {
///         pvno            [0] INTEGER (5),
///         msg-type        [1] INTEGER (15),
///         enc-part        [2] EncryptedData -- EncAPRepPart
/// }
/// ```
#[derive(Clone, Debug, Eq, PartialEq, Sequence)]
pub(crate) struct ApRepBody {
    #[asn1(context_specific = "0")]
    pub(crate) pvno: u8,
    #[asn1(context_specific = "1")]
    pub(crate) msg_type: u8,
    #[asn1(context_specific = "2")]
    pub(crate) enc_part: EncryptedData,
}

/// `AP-REP`, `[APPLICATION 15]`.
pub(crate) type ApRep = App<15, ApRepBody>;

/// ```text
/// EncAPRepPart    ::= [APPLICATION 27] SEQUENCE {
///         ctime           [0] KerberosTime,
///         cusec           [1] Microseconds,
///         subkey          [2] EncryptionKey OPTIONAL,
///         seq-number      [3] UInt32 OPTIONAL
/// }
/// ```
#[derive(Clone, Debug, Eq, PartialEq, Sequence)]
pub(crate) struct EncApRepPartBody<'a> {
    #[asn1(context_specific = "0")]
    pub(crate) ctime: KerberosTime,
    #[asn1(context_specific = "1")]
    pub(crate) cusec: i32,
    #[asn1(context_specific = "2", optional = "true")]
    pub(crate) subkey: Option<EncryptionKeyRef<'a>>,
    #[asn1(context_specific = "3", optional = "true")]
    pub(crate) seq_number: Option<SeqNumber>,
}

/// `EncAPRepPart`, `[APPLICATION 27]`.
pub(crate) type EncApRepPart<'a> = App<27, EncApRepPartBody<'a>>;

/// ```text
/// TransitedEncoding       ::= SEQUENCE {
///         tr-type         [0] Int32 -- must be registered --,
///         contents        [1] OCTET STRING
/// }
/// ```
#[derive(Clone, Debug, Eq, PartialEq, Sequence)]
pub(crate) struct TransitedEncoding {
    #[asn1(context_specific = "0")]
    pub(crate) tr_type: i32,
    #[asn1(context_specific = "1")]
    pub(crate) contents: OctetString,
}

/// ```text
/// EncTicketPart   ::= [APPLICATION 3] SEQUENCE {
///         flags                   [0] TicketFlags,
///         key                     [1] EncryptionKey,
///         crealm                  [2] Realm,
///         cname                   [3] PrincipalName,
///         transited               [4] TransitedEncoding,
///         authtime                [5] KerberosTime,
///         starttime               [6] KerberosTime OPTIONAL,
///         endtime                 [7] KerberosTime,
///         renew-till              [8] KerberosTime OPTIONAL,
///         caddr                   [9] HostAddresses OPTIONAL,
///         authorization-data      [10] AuthorizationData OPTIONAL
/// }
/// ```
#[derive(Clone, Debug, Eq, PartialEq, Sequence)]
pub(crate) struct EncTicketPartBody<'a> {
    #[asn1(context_specific = "0")]
    pub(crate) flags: BitString,
    #[asn1(context_specific = "1")]
    pub(crate) key: EncryptionKeyRef<'a>,
    #[asn1(context_specific = "2")]
    pub(crate) crealm: KerberosString,
    #[asn1(context_specific = "3")]
    pub(crate) cname: PrincipalName,
    #[asn1(context_specific = "4")]
    pub(crate) transited: TransitedEncoding,
    #[asn1(context_specific = "5")]
    pub(crate) authtime: KerberosTime,
    #[asn1(context_specific = "6", optional = "true")]
    pub(crate) starttime: Option<KerberosTime>,
    #[asn1(context_specific = "7")]
    pub(crate) endtime: KerberosTime,
    #[asn1(context_specific = "8", optional = "true")]
    pub(crate) renew_till: Option<KerberosTime>,
    #[asn1(context_specific = "9", optional = "true")]
    pub(crate) caddr: Option<Vec<HostAddress>>,
    #[asn1(context_specific = "10", optional = "true")]
    pub(crate) authorization_data: Option<Vec<AuthorizationDataEntry>>,
}

/// `EncTicketPart`, `[APPLICATION 3]`.
pub(crate) type EncTicketPart<'a> = App<3, EncTicketPartBody<'a>>;

/// A `seq-number` (`UInt32`). Some implementations encode values of 2^31 and above as
/// negative numbers (a signed 32-bit integer); MIT reads those as the same 32 bits, and so do
/// we. We always send the unsigned form.
#[derive(Clone, Copy, Debug, Eq, PartialEq)]
pub(crate) struct SeqNumber(pub(crate) u32);

impl FixedTag for SeqNumber {
    const TAG: Tag = Tag::Integer;
}

impl<'a> DecodeValue<'a> for SeqNumber {
    type Error = der::Error;

    fn decode_value<R: Reader<'a>>(reader: &mut R, header: Header) -> der::Result<Self> {
        let value = i64::decode_value(reader, header)?;
        u32::try_from(value)
            .or_else(|_| i32::try_from(value).map(|v| v as u32))
            .map(SeqNumber)
            .map_err(|_| der::Error::from(der::ErrorKind::Value { tag: Tag::Integer }))
    }
}

impl EncodeValue for SeqNumber {
    fn value_len(&self) -> der::Result<Length> {
        self.0.value_len()
    }

    fn encode_value(&self, writer: &mut impl Writer) -> der::Result<()> {
        self.0.encode_value(writer)
    }
}
