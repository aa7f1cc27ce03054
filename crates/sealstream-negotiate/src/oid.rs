//! The object identifiers SPNEGO negotiates between.

use der::asn1::ObjectIdentifier;

/// SPNEGO itself, 1.3.6.1.5.5.2.
pub const SPNEGO: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.6.1.5.5.2");
/// Kerberos V5, 1.2.840.113554.1.2.2.
pub const KRB5: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113554.1.2.2");
/// Kerberos V5 as Windows first named it (a mistyped arc: 48018 for 113554), 1.2.840.48018.1.2.2.
/// Windows offers it first and answers with it; Samba does the same.
pub const MS_KRB5: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.48018.1.2.2");
/// NTLMSSP, 1.3.6.1.4.1.311.2.2.10.
pub const NTLMSSP: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.6.1.4.1.311.2.2.10");
