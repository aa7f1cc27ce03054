//! The cache `kinit` and `kvno` of MIT krb5 1.20 wrote (alice's TGT, a ticket for
//! `ldap/localhost`, and kinit's configuration entries), every way of cutting it short, and
//! caches built field by field from the format's grammar for what MIT did not write.

use super::*;

/// `kinit alice` then `kvno ldap/localhost` against tests/peers/mitkdc.sh, 2026-12-04.
const MIT: &[u8] = include_bytes!("../../testdata/mit-1.20-kinit-then-kvno.ccache");
const REALM: &str = "SEALSTREAM.TEST";

fn alice() -> Principal {
    Principal::parse("alice", Some(REALM)).unwrap()
}

#[test]
fn mit_kinit_cache_gives_alices_tickets_and_passes_over_its_configuration() {
    let cache = CredentialCache::parse(MIT).unwrap();
    assert_eq!(cache.principal().to_string(), format!("alice@{REALM}"));
    assert_eq!(cache.kdc_time_offset(), Some((0, 0)));
    assert_eq!(cache.skipped(), 0);
    // fast_avail and pa_type are configuration, not tickets.
    let servers: Vec<String> = cache
        .credentials()
        .iter()
        .map(|c| c.server().to_string())
        .collect();
    assert_eq!(
        servers,
        [
            format!("krbtgt/{REALM}@{REALM}"),
            format!("ldap/localhost@{REALM}")
        ]
    );
    let tgt = &cache.credentials()[0];
    let during = tgt.auth_time() + Duration::from_secs(60);
    let found = cache.tgt(during).unwrap();
    assert_eq!(
        found.server().to_string(),
        format!("krbtgt/{REALM}@{REALM}")
    );
    assert!(found.client().same_name(&alice()));
    assert_eq!(found.session_key().enctype(), Enctype::Aes256CtsHmacSha196);
    // A Ticket is [APPLICATION 1].
    assert_eq!(found.ticket()[0], 0x61);
    assert_eq!(
        found.end_time().duration_since(found.auth_time()).unwrap(),
        Duration::from_secs(10 * 3600)
    );
    assert!(found.renew_till().is_some());
    let ldap = Principal::service("ldap", "localhost", REALM);
    assert!(cache.ticket_for(&ldap, during).is_some());
    let imap = Principal::service("imap", "localhost", REALM);
    assert!(cache.ticket_for(&imap, during).is_none());
}

#[test]
fn an_expired_tgt_is_no_credentials_and_says_when_it_expired() {
    let cache = CredentialCache::parse(MIT).unwrap();
    let end = cache.credentials()[0].end_time();
    let err = cache.tgt(end + Duration::from_secs(90)).unwrap_err();
    assert_eq!(err.status(), Status::NoCredentials);
    assert!(err.detail().contains("expired 90 s ago"), "{err}");
    assert!(
        err.detail().contains("kinit alice@SEALSTREAM.TEST"),
        "{err}"
    );
    let ldap = Principal::service("ldap", "localhost", REALM);
    assert!(cache.ticket_for(&ldap, end).is_none());
}

#[test]
fn a_cache_cut_anywhere_is_refused_or_holds_only_whole_entries() {
    // The format has no count or end marker: a file cut between two entries is a shorter cache
    // (MIT reads it so too). Anywhere else is a clear refusal.
    let whole = CredentialCache::parse(MIT).unwrap().credentials().len();
    let mut shorter = 0;
    for cut in 0..MIT.len() {
        match CredentialCache::parse(&MIT[..cut]) {
            Ok(cache) => {
                assert!(cache.credentials().len() < whole, "cut at {cut}");
                shorter += 1;
            }
            Err(err) => {
                assert_eq!(err.status(), Status::InvalidToken, "cut at {cut}: {err}");
                assert!(err.detail().starts_with("credential cache byte "), "{err}");
            }
        }
    }
    // After the default principal, after each of the two configuration entries and the TGT.
    assert_eq!(shorter, 4);
}

#[test]
fn old_and_unknown_versions_are_refused() {
    for (version, says) in [
        ([5, 1], "native byte order"),
        ([5, 2], "native byte order"),
        ([5, 5], "unknown version 0x0505"),
        ([4, 4], "unknown version 0x0404"),
    ] {
        let mut bytes = MIT.to_vec();
        bytes[..2].copy_from_slice(&version);
        let err = CredentialCache::parse(&bytes).unwrap_err();
        assert_eq!(err.status(), Status::InvalidToken);
        assert!(err.detail().contains(says), "{version:?}: {err}");
    }
}

/// A principal as the grammar marshals it.
fn principal_bytes(out: &mut Vec<u8>, name_type: u32, realm: &str, components: &[&str]) {
    out.extend_from_slice(&name_type.to_be_bytes());
    out.extend_from_slice(&(components.len() as u32).to_be_bytes());
    for s in std::iter::once(&realm).chain(components) {
        data(out, s.as_bytes());
    }
}

fn data(out: &mut Vec<u8>, bytes: &[u8]) {
    out.extend_from_slice(&(bytes.len() as u32).to_be_bytes());
    out.extend_from_slice(bytes);
}

/// A version-3 cache (no header, the enctype written twice) holding one credential for
/// `server` with a session key of `enctype`.
fn version3(enctype: u16, is_skey: u8, addresses: u32) -> Vec<u8> {
    let mut out = vec![5, 3];
    principal_bytes(&mut out, 1, REALM, &["alice"]);
    principal_bytes(&mut out, 1, REALM, &["alice"]);
    principal_bytes(&mut out, 2, REALM, &["krbtgt", REALM]);
    out.extend_from_slice(&enctype.to_be_bytes());
    out.extend_from_slice(&enctype.to_be_bytes());
    data(&mut out, &[0x42; 16]);
    for t in [1_800_000_000u32, 0, 1_800_036_000, 0] {
        out.extend_from_slice(&t.to_be_bytes());
    }
    out.push(is_skey);
    out.extend_from_slice(&0x4000_0000u32.to_be_bytes());
    out.extend_from_slice(&addresses.to_be_bytes());
    for _ in 0..addresses {
        out.extend_from_slice(&2u16.to_be_bytes());
        data(&mut out, &[127, 0, 0, 1]);
    }
    out.extend_from_slice(&0u32.to_be_bytes()); // authdata
    data(&mut out, b"\x61ticket");
    data(&mut out, b"");
    out
}

#[test]
fn version_3_caches_with_addresses_are_read() {
    let cache = CredentialCache::parse(&version3(17, 0, 2)).unwrap();
    assert_eq!(cache.kdc_time_offset(), None);
    let tgt = &cache.credentials()[0];
    assert_eq!(tgt.session_key().enctype(), Enctype::Aes128CtsHmacSha196);
    assert_eq!(tgt.ticket(), b"\x61ticket");
    assert_eq!(tgt.start_time(), None);
    assert_eq!(tgt.renew_till(), None);
    assert!(cache.tgt(time(1_800_000_100)).is_ok());
}

#[test]
fn tickets_this_crate_cannot_use_are_counted_and_passed_over() {
    // rc4-hmac (23) is refused by design; a user-to-user ticket needs a second ticket.
    for (enctype, is_skey) in [(23, 0), (1, 0), (18, 1)] {
        let cache = CredentialCache::parse(&version3(enctype, is_skey, 0)).unwrap();
        assert_eq!(cache.skipped(), 1);
        assert!(cache.credentials().is_empty());
        let err = cache.tgt(time(1_800_000_100)).unwrap_err();
        assert_eq!(err.status(), Status::NoCredentials);
        assert!(err.detail().contains("holds no ticket"), "{err}");
    }
}

#[test]
fn a_session_key_of_the_wrong_length_is_refused_naming_its_byte() {
    let bytes = version3(18, 0, 0); // a 16-byte key for a 32-byte type
    let err = CredentialCache::parse(&bytes).unwrap_err();
    assert_eq!(err.status(), Status::InvalidToken);
    assert!(err.detail().starts_with("credential cache byte "), "{err}");
}

#[test]
fn counts_and_lengths_cannot_outrun_the_file() {
    // A principal claiming four billion components, a field claiming four gigabytes, and an
    // address list claiming four billion entries: each refused without reserving memory.
    let mut many_components = vec![5, 4, 0, 0];
    principal_bytes(&mut many_components, 1, REALM, &[]);
    many_components[8..12].copy_from_slice(&u32::MAX.to_be_bytes());
    let mut huge_field = vec![5, 4, 0, 0];
    principal_bytes(&mut huge_field, 1, REALM, &["alice"]);
    huge_field[12..16].copy_from_slice(&u32::MAX.to_be_bytes());
    let mut many_addresses = version3(17, 0, 1);
    // From the end: second ticket (4), ticket (4 + 7), authdata count (4), the address
    // (2 + 4 + 4), then its count.
    let at = many_addresses.len() - 4 - 11 - 4 - 10 - 4;
    assert_eq!(many_addresses[at..at + 4], 1u32.to_be_bytes());
    many_addresses[at..at + 4].copy_from_slice(&u32::MAX.to_be_bytes());
    for (bytes, says) in [
        (many_components, "name components"),
        (huge_field, "4294967295 bytes"),
        (many_addresses, "are left"),
    ] {
        let err = CredentialCache::parse(&bytes).unwrap_err();
        assert_eq!(err.status(), Status::InvalidToken);
        assert!(err.detail().contains(says), "{says}: {err}");
    }
}

#[test]
fn cache_names_are_files_or_refused_by_type() {
    assert_eq!(
        path_of("FILE:/tmp/krb5cc_1000").unwrap(),
        Path::new("/tmp/krb5cc_1000")
    );
    assert_eq!(path_of("/tmp/cc:x").unwrap(), Path::new("/tmp/cc:x"));
    for name in [
        "KEYRING:persistent:1000",
        "KCM:1000",
        "DIR:/run/user/1000/krb5cc",
        "MEMORY:x",
    ] {
        let err = path_of(name).unwrap_err();
        assert_eq!(err.status(), Status::NoCredentials);
        assert!(err.detail().contains("only FILE: caches"), "{err}");
    }
}

#[test]
fn a_missing_cache_says_to_run_kinit() {
    let err = CredentialCache::read("/nonexistent/krb5cc_0").unwrap_err();
    assert_eq!(err.status(), Status::NoCredentials);
    assert!(err.detail().contains("has kinit been run"), "{err}");
}
