//! The AS and TGS exchanges (RFC 4120 §5.4) and KRB-ERROR (§5.9.1).

use der::Sequence;
use der::asn1::{Any, BitString, OctetString};

use super::{
    App, EncryptedData, EncryptionKeyRef, HostAddress, KerberosString, KerberosTime, PaData,
    PrincipalName, RawTicket,
};

/// Message types (RFC 4120 §7.5.7).
pub(crate) const KRB_AS_REQ: u8 = 10;
pub(crate) const KRB_AS_REP: u8 = 11;
pub(crate) const KRB_TGS_REQ: u8 = 12;
pub(crate) const KRB_TGS_REP: u8 = 13;
pub(crate) const KRB_ERROR: u8 = 30;

/// Pre-authentication data types (RFC 4120 §7.5.2, RFC 6113).
pub(crate) const PA_TGS_REQ: i32 = 1;
pub(crate) const PA_ENC_TIMESTAMP: i32 = 2;
pub(crate) const PA_ETYPE_INFO2: i32 = 19;

/// ```text
/// KDC-REQ         ::= SEQUENCE {
///         -- NOTE: first tag is [1], not [0]
///         pvno            [1] INTEGER (5) ,
///         msg-type        [2] INTEGER (10 -- AS -- | 12 -- TGS --),
///         padata          [3] SEQUENCE OF PA-DATA OPTIONAL
///                             -- NOTE: not empty --,
///         req-body        [4] KDC-REQ-BODY
/// }
/// ```
#[derive(Clone, Debug, Eq, PartialEq, Sequence)]
pub(crate) struct KdcReq {
    #[asn1(context_specific = "1")]
    pub(crate) pvno: u8,
    #[asn1(context_specific = "2")]
    pub(crate) msg_type: u8,
    #[asn1(context_specific = "3", optional = "true")]
    pub(crate) padata: Option<Vec<PaData>>,
    #[asn1(context_specific = "4")]
    pub(crate) req_body: KdcReqBody,
}

/// ```text
/// KDC-REQ-BODY    ::= SEQUENCE {
///         kdc-options             [0] KDCOptions,
///         cname                   [1] PrincipalName OPTIONAL
///                                     -- Used only in AS-REQ --,
///         realm                   [2] Realm
///                                     -- Server's realm
///                                     -- Also client's in AS-REQ --,
///         sname                   [3] PrincipalName OPTIONAL,
///         from                    [4] KerberosTime OPTIONAL,
///         till                    [5] KerberosTime,
///         rtime                   [6] KerberosTime OPTIONAL,
///         nonce                   [7] UInt32,
///         etype                   [8] SEQUENCE OF Int32 -- EncryptionType
///                                     -- in preference order --,
///         addresses               [9] HostAddresses OPTIONAL,
///         enc-authorization-data  [10] EncryptedData OPTIONAL
///                                     -- AuthorizationData --,
///         additional-tickets      [11] SEQUENCE OF Ticket OPTIONAL
///                                         -- NOTE: not empty
/// }
/// ```
#[derive(Clone, Debug, Eq, PartialEq, Sequence)]
pub(crate) struct KdcReqBody {
    #[asn1(context_specific = "0")]
    pub(crate) kdc_options: BitString,
    #[asn1(context_specific = "1", optional = "true")]
    pub(crate) cname: Option<PrincipalName>,
    #[asn1(context_specific = "2")]
    pub(crate) realm: KerberosString,
    #[asn1(context_specific = "3", optional = "true")]
    pub(crate) sname: Option<PrincipalName>,
    #[asn1(context_specific = "4", optional = "true")]
    pub(crate) from: Option<KerberosTime>,
    #[asn1(context_specific = "5")]
    pub(crate) till: KerberosTime,
    #[asn1(context_specific = "6", optional = "true")]
    pub(crate) rtime: Option<KerberosTime>,
    #[asn1(context_specific = "7")]
    pub(crate) nonce: u32,
    #[asn1(context_specific = "8")]
    pub(crate) etype: Vec<i32>,
    #[asn1(context_specific = "9", optional = "true")]
    pub(crate) addresses: Option<Vec<HostAddress>>,
    #[asn1(context_specific = "10", optional = "true")]
    pub(crate) enc_authorization_data: Option<EncryptedData>,
    #[asn1(context_specific = "11", optional = "true")]
    pub(crate) additional_tickets: Option<Vec<RawTicket>>,
}

/// `AS-REQ ::= [APPLICATION 10] KDC-REQ`.
pub(crate) type AsReq = App<10, KdcReq>;
/// `TGS-REQ ::= [APPLICATION 12] KDC-REQ`.
pub(crate) type TgsReq = App<12, KdcReq>;

/// ```text
/// KDC-REP         ::= SEQUENCE {
///         pvno            [0] INTEGER (5),
///         msg-type        [1] INTEGER (11 -- AS -- | 13 -- TGS --),
///         padata          [2] SEQUENCE OF PA-DATA OPTIONAL
///                                 -- NOTE: not empty --,
///         crealm          [3] Realm,
///         cname           [4] PrincipalName,
///         ticket          [5] Ticket,
///         enc-part        [6] EncryptedData
///                                 -- EncASRepPart or EncTGSRepPart,
///                                 -- as appropriate
/// }
/// ```
#[derive(Clone, Debug, Eq, PartialEq, Sequence)]
pub(crate) struct KdcRep {
    #[asn1(context_specific = "0")]
    pub(crate) pvno: u8,
    #[asn1(context_specific = "1")]
    pub(crate) msg_type: u8,
    #[asn1(context_specific = "2", optional = "true")]
    pub(crate) padata: Option<Vec<PaData>>,
    #[asn1(context_specific = "3")]
    pub(crate) crealm: KerberosString,
    #[asn1(context_specific = "4")]
    pub(crate) cname: PrincipalName,
    #[asn1(context_specific = "5")]
    pub(crate) ticket: RawTicket,
    #[asn1(context_specific = "6")]
    pub(crate) enc_part: EncryptedData,
}

/// `AS-REP ::= [APPLICATION 11] KDC-REP`.
pub(crate) type AsRep = App<11, KdcRep>;
/// `TGS-REP ::= [APPLICATION 13] KDC-REP`.
pub(crate) type TgsRep = App<13, KdcRep>;

/// ```text
/// EncKDCRepPart   ::= SEQUENCE {
///         key             [0] EncryptionKey,
///         last-req        [1] LastReq,
///         nonce           [2] UInt32,
///         key-expiration  [3] KerberosTime OPTIONAL,
///         flags           [4] TicketFlags,
///         authtime        [5] KerberosTime,
///         starttime       [6] KerberosTime OPTIONAL,
///         endtime         [7] KerberosTime,
///         renew-till      [8] KerberosTime OPTIONAL,
///         srealm          [9] Realm,
///         sname           [10] PrincipalName,
///         caddr           [11] HostAddresses OPTIONAL,
///         encrypted-pa-data [12] SEQUENCE OF PA-DATA OPTIONAL
/// }
/// ```
///
/// `EncASRepPart ::= [APPLICATION 25] EncKDCRepPart` and `EncTGSRepPart ::= [APPLICATION 26]
/// EncKDCRepPart`; RFC 4120 §5.4.2: "Compatibility note: Some implementations unconditionally
/// send an encrypted EncTGSRepPart (application tag number 26) in this field regardless of
/// whether the reply is a AS-REP or a TGS-REP", so both are read.
#[derive(Clone, Debug, Eq, PartialEq, Sequence)]
pub(crate) struct EncKdcRepPart<'a> {
    #[asn1(context_specific = "0")]
    pub(crate) key: EncryptionKeyRef<'a>,
    #[asn1(context_specific = "1")]
    pub(crate) last_req: Any,
    #[asn1(context_specific = "2")]
    pub(crate) nonce: u32,
    #[asn1(context_specific = "3", optional = "true")]
    pub(crate) key_expiration: Option<KerberosTime>,
    #[asn1(context_specific = "4")]
    pub(crate) flags: BitString,
    #[asn1(context_specific = "5")]
    pub(crate) authtime: KerberosTime,
    #[asn1(context_specific = "6", optional = "true")]
    pub(crate) starttime: Option<KerberosTime>,
    #[asn1(context_specific = "7")]
    pub(crate) endtime: KerberosTime,
    #[asn1(context_specific = "8", optional = "true")]
    pub(crate) renew_till: Option<KerberosTime>,
    #[asn1(context_specific = "9")]
    pub(crate) srealm: KerberosString,
    #[asn1(context_specific = "10")]
    pub(crate) sname: PrincipalName,
    #[asn1(context_specific = "11", optional = "true")]
    pub(crate) caddr: Option<Vec<HostAddress>>,
    #[asn1(context_specific = "12", optional = "true")]
    pub(crate) encrypted_pa_data: Option<Vec<PaData>>,
}

/// ```text
/// KRB-ERROR       ::= [APPLICATION 30] SEQUENCE {
///         pvno            [0] INTEGER (5),
///         msg-type        [1] INTEGER (30),
///         ctime           [2] KerberosTime OPTIONAL,
///         cusec           [3] Microseconds OPTIONAL,
///         stime           [4] KerberosTime,
///         susec           [5] Microseconds,
///         error-code      [6] Int32,
///         crealm          [7] Realm OPTIONAL,
///         cname           [8] PrincipalName OPTIONAL,
///         realm           [9] Realm -- service realm --,
///         sname           [10] PrincipalName -- service name --,
///         e-text          [11] KerberosString OPTIONAL,
///         e-data          [12] OCTET STRING OPTIONAL
/// }
/// ```
#[derive(Clone, Debug, Eq, PartialEq, Sequence)]
pub(crate) struct KrbErrorBody {
    #[asn1(context_specific = "0")]
    pub(crate) pvno: u8,
    #[asn1(context_specific = "1")]
    pub(crate) msg_type: u8,
    #[asn1(context_specific = "2", optional = "true")]
    pub(crate) ctime: Option<KerberosTime>,
    #[asn1(context_specific = "3", optional = "true")]
    pub(crate) cusec: Option<i32>,
    #[asn1(context_specific = "4")]
    pub(crate) stime: KerberosTime,
    #[asn1(context_specific = "5")]
    pub(crate) susec: i32,
    #[asn1(context_specific = "6")]
    pub(crate) error_code: i32,
    #[asn1(context_specific = "7", optional = "true")]
    pub(crate) crealm: Option<KerberosString>,
    #[asn1(context_specific = "8", optional = "true")]
    pub(crate) cname: Option<PrincipalName>,
    #[asn1(context_specific = "9")]
    pub(crate) realm: KerberosString,
    #[asn1(context_specific = "10")]
    pub(crate) sname: PrincipalName,
    #[asn1(context_specific = "11", optional = "true")]
    pub(crate) e_text: Option<KerberosString>,
    #[asn1(context_specific = "12", optional = "true")]
    pub(crate) e_data: Option<OctetString>,
}

/// `KRB-ERROR ::= [APPLICATION 30] SEQUENCE {...}`.
pub(crate) type KrbError = App<30, KrbErrorBody>;

/// ```text
/// ETYPE-INFO2-ENTRY       ::= SEQUENCE {
///         etype           [0] Int32,
///         salt            [1] KerberosString OPTIONAL,
///         s2kparams       [2] OCTET STRING OPTIONAL
/// }
/// ```
#[derive(Clone, Debug, Eq, PartialEq, Sequence)]
pub(crate) struct EtypeInfo2Entry {
    #[asn1(context_specific = "0")]
    pub(crate) etype: i32,
    #[asn1(context_specific = "1", optional = "true")]
    pub(crate) salt: Option<KerberosString>,
    #[asn1(context_specific = "2", optional = "true")]
    pub(crate) s2kparams: Option<OctetString>,
}

/// ```text
/// PA-ENC-TS-ENC           ::= SEQUENCE {
///         patimestamp     [0] KerberosTime -- client's time --,
///         pausec          [1] Microseconds OPTIONAL
/// }
/// ```
#[derive(Clone, Debug, Eq, PartialEq, Sequence)]
pub(crate) struct PaEncTsEnc {
    #[asn1(context_specific = "0")]
    pub(crate) patimestamp: KerberosTime,
    #[asn1(context_specific = "1", optional = "true")]
    pub(crate) pausec: Option<i32>,
}
