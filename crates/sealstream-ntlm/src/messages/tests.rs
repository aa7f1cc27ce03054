use super::*;
use crate::hex;
use crate::target_info::{AV_NB_COMPUTER_NAME, AV_NB_DOMAIN_NAME};
use crate::wire::utf16le;

/// MS-NLMP §4.2.4.3's CHALLENGE_MESSAGE.
pub(crate) fn spec_challenge() -> Vec<u8> {
    hex(
        "4e544c4d53535000020000000c000c003800000033828ae20123456789abcdef00000000000000002400240044000000060070170000000f53006500720076006500720002000c0044006f006d00610069006e0001000c0053006500720076006500720000000000",
    )
}

/// MS-NLMP §4.2.4.3's AUTHENTICATE_MESSAGE (no MIC: the vectors predate it).
pub(crate) fn spec_authenticate() -> Vec<u8> {
    hex(
        "4e544c4d535350000300000018001800 6c00000054005400840000000c000c00
         48000000080008005400000010001000 5c00000010001000d8000000358288e2
         0501280a0000000f44006f006d006100 69006e00550073006500720043004f00
         4d005000550054004500520086c35097 ac9cec102554764a57cccc19aaaaaaaa
         aaaaaaaa68cd0ab851e51c96aabc927b ebef6a1c010100000000000000000000
         00000000aaaaaaaaaaaaaaaa00000000 02000c0044006f006d00610069006e00
         01000c00530065007200760065007200 0000000000000000c5dad2544fc97990
         94ce1ce90bc9d03e",
    )
}

#[test]
fn the_spec_challenge_parses() {
    let c = Challenge::parse(&spec_challenge()).unwrap();
    assert_eq!(c.flags.bits(), 0xe28a8233);
    assert_eq!(
        c.server_challenge,
        [0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef]
    );
    assert_eq!(c.target_name, utf16le("Server"));
    assert_eq!(
        c.target_info.get(AV_NB_DOMAIN_NAME),
        Some(&utf16le("Domain")[..])
    );
    assert_eq!(
        c.target_info.get(AV_NB_COMPUTER_NAME),
        Some(&utf16le("Server")[..])
    );
    // Written back, it parses to the same values.
    assert_eq!(Challenge::parse(&c.to_bytes().unwrap()).unwrap(), c);
}

#[test]
fn the_spec_authenticate_parses() {
    let a = Authenticate::parse(&spec_authenticate(), false).unwrap();
    assert_eq!(a.flags.bits(), 0xe2888235);
    assert_eq!((a.domain.as_str(), a.user.as_str()), ("Domain", "User"));
    assert_eq!(a.workstation, "COMPUTER");
    assert_eq!(
        a.lm_response,
        hex("86c35097ac9cec102554764a57cccc19aaaaaaaaaaaaaaaa")
    );
    assert_eq!(
        a.nt_response[..16],
        hex("68cd0ab851e51c96aabc927bebef6a1c")[..]
    );
    assert_eq!(
        a.encrypted_session_key,
        hex("c5dad2544fc9799094ce1ce90bc9d03e")
    );
    assert_eq!(a.mic, None);
    // Its payload starts at 72: it has no room for a MIC, and saying it has one is refused.
    assert!(Authenticate::parse(&spec_authenticate(), true).is_err());
    let again = Authenticate::parse(&a.to_bytes().unwrap(), true).unwrap();
    assert_eq!(again.mic, Some([0; 16]));
    assert_eq!(Authenticate { mic: None, ..again }, a);
}

#[test]
fn negotiate_round_trips_with_and_without_version() {
    for flags in [0x6208_8235, 0x6008_8235] {
        let n = Negotiate {
            flags: NegotiateFlags::from_bits(flags),
        };
        let bytes = n.to_bytes();
        assert_eq!(bytes.len(), if flags & 0x0200_0000 != 0 { 40 } else { 32 });
        assert_eq!(Negotiate::parse(&bytes).unwrap(), n);
    }
}

#[test]
fn every_truncation_of_every_message_is_refused_without_panic() {
    let messages: [(&str, Vec<u8>); 2] = [
        ("challenge", spec_challenge()),
        ("authenticate", spec_authenticate()),
    ];
    for (name, bytes) in messages {
        for cut in 0..bytes.len() {
            let parsed = match name {
                "challenge" => Challenge::parse(&bytes[..cut]).map(drop),
                _ => Authenticate::parse(&bytes[..cut], false).map(drop),
            };
            assert!(parsed.is_err(), "{name} cut at {cut} parsed");
        }
    }
}
