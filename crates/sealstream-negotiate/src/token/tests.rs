use super::*;
use crate::oid::{KRB5, MS_KRB5, NTLMSSP};

fn hex(s: &str) -> Vec<u8> {
    let s: String = s.split_whitespace().collect();
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

/// gss-ntlmssp's first SPNEGO token (`gss-client -spnego`, captured on loopback): NTLMSSP
/// offered alone, its NEGOTIATE as the optimistic token.
const GSS_NTLMSSP_INIT: &str = "60 48 06 06 2b 06 01 05 05 02 a0 3e 30 3c a0 0e
    30 0c 06 0a 2b 06 01 04 01 82 37 02 02 0a a2 2a 04 28 4e 54 4c 4d 53 53 50 00 01 00 00 00
    17 82 08 e2 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 06 02 00 00 00 00 00 0f";

/// gss-ntlmssp's last acceptor token: accept-completed and its mechListMIC.
const GSS_NTLMSSP_DONE: &str = "a1 1b 30 19 a0 03 0a 01 00 a3 12 04 10 01 00 00
    00 0c d9 74 1e 33 b8 8b 1e 00 00 00 00";

#[test]
fn gss_ntlmssps_tokens_parse_and_ours_match_them_byte_for_byte() {
    let bytes = hex(GSS_NTLMSSP_INIT);
    let init = NegTokenInit::from_initial_token(&bytes).unwrap();
    assert_eq!(init.mech_types, vec![NTLMSSP]);
    let negotiate = init.mech_token.as_ref().unwrap().as_bytes();
    assert_eq!(&negotiate[..8], b"NTLMSSP\0");
    assert_eq!(init.to_initial_token().unwrap(), bytes);

    let bytes = hex(GSS_NTLMSSP_DONE);
    let done = NegTokenResp::from_token(&bytes).unwrap();
    assert_eq!(done.neg_state, Some(NegState::AcceptCompleted));
    assert_eq!(done.mic().unwrap().len(), 16);
    assert_eq!(done.response(), None);
    assert_eq!(done.to_token().unwrap(), bytes);
}

#[test]
fn mech_list_bytes_are_the_der_sequence_of_oids() {
    let der = mech_list_bytes(&[MS_KRB5, KRB5, NTLMSSP]).unwrap();
    assert_eq!(der[0], 0x30);
    assert_eq!(usize::from(der[1]), der.len() - 2);
    assert_eq!(&der[2..4], &[0x06, 0x09]);
}

#[test]
fn every_truncation_and_wrong_wrapper_is_an_invalid_token() {
    let bytes = hex(GSS_NTLMSSP_INIT);
    for cut in 0..bytes.len() {
        let e = NegTokenInit::from_initial_token(&bytes[..cut]).unwrap_err();
        assert_eq!(e.status(), Status::InvalidToken, "cut at {cut}");
    }
    let done = hex(GSS_NTLMSSP_DONE);
    for cut in 0..done.len() {
        assert!(
            NegTokenResp::from_token(&done[..cut]).is_err(),
            "cut at {cut}"
        );
    }
    // A negTokenInit where a negTokenResp belongs, and the other way round.
    assert!(NegTokenResp::from_token(&bytes[10..]).is_err());
    assert!(NegTokenInit::from_initial_token(&done).is_err());
    // Another mechanism's initial context token (Kerberos's OID).
    let mut krb = bytes.clone();
    krb[4..10].copy_from_slice(&[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x12]);
    assert!(NegTokenInit::from_initial_token(&krb).is_err());
}
