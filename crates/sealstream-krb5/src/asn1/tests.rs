//! The codec against messages MIT krb5 produced, and round trips.

use der::{Decode, Encode};

use super::*;

#[test]
fn seq_numbers_in_either_sign_read_as_the_same_32_bits() {
    // 0xfffffffe as a positive INTEGER (5 bytes) and as a negative one (-2, 1 byte).
    let positive = [0x02, 0x05, 0x00, 0xff, 0xff, 0xff, 0xfe];
    let negative = [0x02, 0x01, 0xfe];
    assert_eq!(
        SeqNumber::from_der(&positive).unwrap(),
        SeqNumber(0xffff_fffe)
    );
    assert_eq!(
        SeqNumber::from_der(&negative).unwrap(),
        SeqNumber(0xffff_fffe)
    );
    assert_eq!(SeqNumber(0xffff_fffe).to_der().unwrap(), positive);
    // Beyond 32 bits either way is refused.
    assert!(SeqNumber::from_der(&[0x02, 0x05, 0x01, 0, 0, 0, 0]).is_err());
}

#[test]
fn application_tags_and_general_strings_round_trip() {
    let name = PrincipalName {
        name_type: NT_SRV_INST,
        name_string: vec!["krbtgt".into(), "EXAMPLE.COM".into()],
    };
    let der = name.to_der().unwrap();
    assert_eq!(PrincipalName::from_der(&der).unwrap(), name);
    // GeneralString is tag 27.
    assert!(
        der.windows(8)
            .any(|w| w == [0x1b, 0x06, b'k', b'r', b'b', b't', b'g', b't'])
    );
    let ticket: Ticket = App(TicketBody {
        tkt_vno: 5,
        realm: "EXAMPLE.COM".into(),
        sname: name,
        enc_part: EncryptedData {
            etype: 18,
            kvno: Some(2),
            cipher: der::asn1::OctetString::new(vec![1, 2, 3]).unwrap(),
        },
    });
    let der = ticket.to_der().unwrap();
    assert_eq!(der[0], 0x61, "[APPLICATION 1], constructed");
    assert_eq!(Ticket::from_der(&der).unwrap(), ticket);
    // Another application tag is refused.
    let mut other = der.clone();
    other[0] = 0x62;
    assert!(Ticket::from_der(&other).is_err());
}
