//! KRB-ERROR codes (RFC 4120 §7.5.9) and what each means to the one who asked.

use sealstream::{Error, Status};

use crate::asn1::KrbErrorBody;

pub(crate) const KDC_ERR_C_PRINCIPAL_UNKNOWN: i32 = 6;
pub(crate) const KDC_ERR_S_PRINCIPAL_UNKNOWN: i32 = 7;
pub(crate) const KDC_ERR_ETYPE_NOSUPP: i32 = 14;
pub(crate) const KDC_ERR_CLIENT_REVOKED: i32 = 18;
pub(crate) const KDC_ERR_KEY_EXPIRED: i32 = 23;
pub(crate) const KDC_ERR_PREAUTH_FAILED: i32 = 24;
pub(crate) const KDC_ERR_PREAUTH_REQUIRED: i32 = 25;
pub(crate) const KRB_AP_ERR_BAD_INTEGRITY: i32 = 31;
pub(crate) const KRB_AP_ERR_TKT_EXPIRED: i32 = 32;
pub(crate) const KRB_AP_ERR_TKT_NYV: i32 = 33;
pub(crate) const KRB_AP_ERR_REPEAT: i32 = 34;
pub(crate) const KRB_AP_ERR_NOT_US: i32 = 35;
pub(crate) const KRB_AP_ERR_BADMATCH: i32 = 36;
pub(crate) const KRB_AP_ERR_SKEW: i32 = 37;
pub(crate) const KRB_AP_ERR_MODIFIED: i32 = 41;
pub(crate) const KRB_ERR_RESPONSE_TOO_BIG: i32 = 52;
pub(crate) const KRB_ERR_GENERIC: i32 = 60;
pub(crate) const KDC_ERR_WRONG_REALM: i32 = 68;

/// RFC 4120's name for an error code, for messages.
pub(crate) fn name(code: i32) -> &'static str {
    match code {
        0 => "KDC_ERR_NONE",
        1 => "KDC_ERR_NAME_EXP",
        2 => "KDC_ERR_SERVICE_EXP",
        3 => "KDC_ERR_BAD_PVNO",
        KDC_ERR_C_PRINCIPAL_UNKNOWN => "KDC_ERR_C_PRINCIPAL_UNKNOWN",
        KDC_ERR_S_PRINCIPAL_UNKNOWN => "KDC_ERR_S_PRINCIPAL_UNKNOWN",
        8 => "KDC_ERR_PRINCIPAL_NOT_UNIQUE",
        9 => "KDC_ERR_NULL_KEY",
        10 => "KDC_ERR_CANNOT_POSTDATE",
        11 => "KDC_ERR_NEVER_VALID",
        12 => "KDC_ERR_POLICY",
        13 => "KDC_ERR_BADOPTION",
        KDC_ERR_ETYPE_NOSUPP => "KDC_ERR_ETYPE_NOSUPP",
        15 => "KDC_ERR_SUMTYPE_NOSUPP",
        16 => "KDC_ERR_PADATA_TYPE_NOSUPP",
        17 => "KDC_ERR_TRTYPE_NOSUPP",
        KDC_ERR_CLIENT_REVOKED => "KDC_ERR_CLIENT_REVOKED",
        19 => "KDC_ERR_SERVICE_REVOKED",
        20 => "KDC_ERR_TGT_REVOKED",
        21 => "KDC_ERR_CLIENT_NOTYET",
        22 => "KDC_ERR_SERVICE_NOTYET",
        KDC_ERR_KEY_EXPIRED => "KDC_ERR_KEY_EXPIRED",
        KDC_ERR_PREAUTH_FAILED => "KDC_ERR_PREAUTH_FAILED",
        KDC_ERR_PREAUTH_REQUIRED => "KDC_ERR_PREAUTH_REQUIRED",
        26 => "KDC_ERR_SERVER_NOMATCH",
        27 => "KDC_ERR_MUST_USE_USER2USER",
        28 => "KDC_ERR_PATH_NOT_ACCEPTED",
        29 => "KDC_ERR_SVC_UNAVAILABLE",
        KRB_AP_ERR_BAD_INTEGRITY => "KRB_AP_ERR_BAD_INTEGRITY",
        KRB_AP_ERR_TKT_EXPIRED => "KRB_AP_ERR_TKT_EXPIRED",
        KRB_AP_ERR_TKT_NYV => "KRB_AP_ERR_TKT_NYV",
        KRB_AP_ERR_REPEAT => "KRB_AP_ERR_REPEAT",
        KRB_AP_ERR_NOT_US => "KRB_AP_ERR_NOT_US",
        KRB_AP_ERR_BADMATCH => "KRB_AP_ERR_BADMATCH",
        KRB_AP_ERR_SKEW => "KRB_AP_ERR_SKEW",
        38 => "KRB_AP_ERR_BADADDR",
        39 => "KRB_AP_ERR_BADVERSION",
        40 => "KRB_AP_ERR_MSG_TYPE",
        KRB_AP_ERR_MODIFIED => "KRB_AP_ERR_MODIFIED",
        42 => "KRB_AP_ERR_BADORDER",
        44 => "KRB_AP_ERR_BADKEYVER",
        45 => "KRB_AP_ERR_NOKEY",
        46 => "KRB_AP_ERR_MUT_FAIL",
        47 => "KRB_AP_ERR_BADDIRECTION",
        48 => "KRB_AP_ERR_METHOD",
        49 => "KRB_AP_ERR_BADSEQ",
        50 => "KRB_AP_ERR_INAPP_CKSUM",
        KRB_ERR_RESPONSE_TOO_BIG => "KRB_ERR_RESPONSE_TOO_BIG",
        KRB_ERR_GENERIC => "KRB_ERR_GENERIC",
        61 => "KRB_ERR_FIELD_TOOLONG",
        KDC_ERR_WRONG_REALM => "KDC_ERR_WRONG_REALM",
        _ => "an unknown Kerberos error",
    }
}

/// The SSPI status a KRB-ERROR code stands for.
pub(crate) fn status(code: i32) -> Status {
    match code {
        KDC_ERR_C_PRINCIPAL_UNKNOWN => Status::UnknownCredentials,
        KDC_ERR_S_PRINCIPAL_UNKNOWN => Status::TargetUnknown,
        KDC_ERR_ETYPE_NOSUPP => Status::EtypeNotSupported,
        KDC_ERR_CLIENT_REVOKED | KDC_ERR_KEY_EXPIRED | KDC_ERR_PREAUTH_FAILED => {
            Status::LogonDenied
        }
        KRB_AP_ERR_TKT_EXPIRED => Status::ContextExpired,
        KRB_AP_ERR_SKEW => Status::TimeSkew,
        KRB_AP_ERR_NOT_US | KRB_AP_ERR_BADMATCH => Status::WrongPrincipal,
        KRB_AP_ERR_BAD_INTEGRITY | KRB_AP_ERR_MODIFIED => Status::MessageAltered,
        KRB_AP_ERR_REPEAT => Status::OutOfSequence,
        _ => Status::InvalidToken,
    }
}

/// The error a KRB-ERROR reply stands for, with what the KDC said in words.
pub(crate) fn from_reply(what: &str, error: &KrbErrorBody) -> Error {
    let code = error.error_code;
    let hint = match code {
        KDC_ERR_PREAUTH_FAILED => ": the password or key is wrong",
        KDC_ERR_C_PRINCIPAL_UNKNOWN => ": the KDC has no such client",
        KDC_ERR_S_PRINCIPAL_UNKNOWN => ": the KDC has no such service",
        KDC_ERR_KEY_EXPIRED => ": the password has expired",
        KDC_ERR_CLIENT_REVOKED => ": the account is disabled or locked",
        KDC_ERR_ETYPE_NOSUPP => ": no encryption type both sides support",
        KRB_AP_ERR_TKT_EXPIRED => ": the ticket has expired; get a new one",
        _ => "",
    };
    let text = match &error.e_text {
        Some(text) if !text.0.is_empty() => format!(" (the KDC says: {})", text.0),
        _ => String::new(),
    };
    Error::new(
        status(code),
        format!("{what}: {} ({code}){hint}{text}", name(code)),
    )
}
