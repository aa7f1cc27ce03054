//! MIT keytab files (format version `0x0502`, as `ktutil`, `kadmin ktadd` and Samba write
//! them): the long-term keys of services, and of clients that log in without a password.
//!
//! ```text
//! keytab {
//!     uint16_t file_format_version;   /* 0x0502 */
//!     keytab_entry entries[*];
//! };
//! keytab_entry {
//!     int32_t size;                   /* negative: a hole of -size bytes */
//!     uint16_t num_components;
//!     counted_octet_string realm;
//!     counted_octet_string components[num_components];
//!     uint32_t name_type;
//!     uint32_t timestamp;
//!     uint8_t vno8;
//!     keyblock key;                   /* uint16_t type; counted_octet_string */
//!     uint32_t vno;                   /* only present if >= 4 bytes left in entry */
//!     uint32_t flags;                 /* only present if >= 4 bytes left in entry */
//! };
//! counted_octet_string { uint16_t length; uint8_t data[length]; };
//! ```
//!
//! All numbers are big-endian. Entries of encryption types this crate does not implement (DES,
//! RC4, Camellia) are skipped; a file cut short or with an entry that overruns its size is
//! refused, naming the byte.

use std::path::Path;

use sealstream::{Error, Status};

use crate::Enctype;
use crate::crypto::Key;
use crate::file_reader::{self, FileReader};
use crate::principal::Principal;

/// One key of a keytab.
#[derive(Clone, Debug)]
pub struct KeytabEntry {
    /// Whose key it is.
    pub principal: Principal,
    /// Its key version number.
    pub kvno: u32,
    /// The key.
    pub key: Key,
}

/// The keys of a keytab file, in file order.
#[derive(Clone, Debug, Default)]
pub struct Keytab {
    entries: Vec<KeytabEntry>,
    skipped: usize,
}

fn malformed(at: usize, why: &str) -> Error {
    file_reader::malformed("keytab", at, why)
}

impl Keytab {
    /// Read a keytab file. Fails with `SEC_E_NO_CREDENTIALS` when it cannot be read.
    pub fn read(path: impl AsRef<Path>) -> Result<Self, Error> {
        let path = path.as_ref();
        let bytes = std::fs::read(path).map_err(|e| {
            Error::new(
                Status::NoCredentials,
                format!("cannot read the keytab {}: {e}", path.display()),
            )
        })?;
        Self::parse(&bytes)
            .map_err(|e| Error::new(e.status(), format!("{}: {}", path.display(), e.detail())))
    }

    /// Parse a keytab's bytes.
    pub fn parse(bytes: &[u8]) -> Result<Self, Error> {
        let Some((version, mut rest)) = bytes.split_first_chunk::<2>() else {
            return Err(malformed(0, "shorter than its version"));
        };
        match u16::from_be_bytes(*version) {
            0x0502 => {}
            0x0501 => {
                return Err(malformed(
                    0,
                    "version 0x0501 (native byte order, from before 1997) is not supported",
                ));
            }
            other => return Err(malformed(0, &format!("unknown version {other:#06x}"))),
        }
        let mut keytab = Keytab::default();
        let mut at = 2;
        while !rest.is_empty() {
            let Some((size, after)) = rest.split_first_chunk::<4>() else {
                return Err(malformed(at, "an entry size cut short"));
            };
            let size = i32::from_be_bytes(*size);
            let len = size.unsigned_abs() as usize;
            if after.len() < len {
                return Err(malformed(
                    at,
                    &format!("an entry of {len} bytes where {} are left", after.len()),
                ));
            }
            let (entry, next) = after.split_at(len);
            if size > 0 {
                match parse_entry(entry, at + 4)? {
                    Some(entry) => keytab.entries.push(entry),
                    None => keytab.skipped += 1,
                }
            }
            rest = next;
            at += 4 + len;
        }
        Ok(keytab)
    }

    /// A keytab holding `entries` (what a service that keeps its keys elsewhere builds).
    pub fn from_entries(entries: Vec<KeytabEntry>) -> Self {
        Self {
            entries,
            skipped: 0,
        }
    }

    /// Every key, in file order.
    pub fn entries(&self) -> &[KeytabEntry] {
        &self.entries
    }

    /// How many entries were of encryption types this crate does not implement.
    pub fn skipped(&self) -> usize {
        self.skipped
    }

    /// The keys of `principal` with the highest key version number, one per encryption type.
    pub fn keys_for(&self, principal: &Principal) -> Vec<Key> {
        let mine: Vec<&KeytabEntry> = self
            .entries
            .iter()
            .filter(|e| e.principal.same_name(principal))
            .collect();
        let newest = mine.iter().map(|e| e.kvno).max();
        mine.into_iter()
            .filter(|e| Some(e.kvno) == newest)
            .map(|e| e.key.clone())
            .collect()
    }

    /// The key of `principal` of `enctype` with version `kvno` (the highest if `None`).
    pub fn key(&self, principal: &Principal, enctype: Enctype, kvno: Option<u32>) -> Option<&Key> {
        self.entries
            .iter()
            .filter(|e| e.principal.same_name(principal) && e.key.enctype() == enctype)
            .filter(|e| kvno.is_none_or(|v| v == e.kvno))
            .max_by_key(|e| e.kvno)
            .map(|e| &e.key)
    }
}

fn parse_entry(bytes: &[u8], base: usize) -> Result<Option<KeytabEntry>, Error> {
    let mut c = FileReader::new(bytes, base, "keytab", "an entry ends before its fields do");
    let components = c.u16()?;
    let realm = c.string16()?;
    let mut name = Vec::with_capacity(usize::from(components).min(16));
    for _ in 0..components {
        name.push(c.string16()?);
    }
    let name_type = c.u32()? as i32;
    let _timestamp = c.u32()?;
    let vno8 = c.u8()?;
    let keytype = c.u16()?;
    let key_at = c.offset() + 2;
    let key_bytes = c.counted16()?;
    // "The 32-bit version number is present if at least 4 bytes remain"; a zero there means
    // the 8-bit one counts (as MIT reads it).
    let kvno = if c.left() >= 4 {
        match c.u32()? {
            0 => u32::from(vno8),
            kvno => kvno,
        }
    } else {
        u32::from(vno8)
    };
    let Some(enctype) = Enctype::from_number(i32::from(keytype)) else {
        return Ok(None);
    };
    let key = Key::new(enctype, key_bytes).map_err(|e| malformed(key_at, e.detail()))?;
    let principal = Principal::from_parts(name_type, name, realm);
    Ok(Some(KeytabEntry {
        principal,
        kvno,
        key,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// One keytab entry's bytes (size first), as `ktutil` writes them.
    fn entry(
        components: &[&str],
        realm: &str,
        keytype: u16,
        key: &[u8],
        kvno32: Option<u32>,
    ) -> Vec<u8> {
        let mut body = Vec::new();
        body.extend_from_slice(&(components.len() as u16).to_be_bytes());
        for s in std::iter::once(&realm).chain(components) {
            body.extend_from_slice(&(s.len() as u16).to_be_bytes());
            body.extend_from_slice(s.as_bytes());
        }
        body.extend_from_slice(&1u32.to_be_bytes()); // name type
        body.extend_from_slice(&0x5000_0000u32.to_be_bytes()); // timestamp
        body.push(7); // vno8
        body.extend_from_slice(&keytype.to_be_bytes());
        body.extend_from_slice(&(key.len() as u16).to_be_bytes());
        body.extend_from_slice(key);
        if let Some(kvno) = kvno32 {
            body.extend_from_slice(&kvno.to_be_bytes());
        }
        let mut out = (body.len() as i32).to_be_bytes().to_vec();
        out.extend(body);
        out
    }

    fn file(entries: &[Vec<u8>]) -> Vec<u8> {
        let mut out = vec![0x05, 0x02];
        for e in entries {
            out.extend_from_slice(e);
        }
        out
    }

    #[test]
    fn entries_holes_versions_and_unknown_types() {
        let bytes = file(&[
            entry(&["alice"], "R", 18, &[1; 32], None),
            // A hole left by a deleted entry.
            [(-6i32).to_be_bytes().to_vec(), vec![0; 6]].concat(),
            entry(&["alice"], "R", 17, &[2; 16], Some(300)),
            // DES: skipped, not an error.
            entry(&["alice"], "R", 3, &[3; 8], None),
            entry(&["host", "h"], "R", 18, &[4; 32], Some(0)),
        ]);
        let keytab = Keytab::parse(&bytes).unwrap();
        assert_eq!(keytab.entries().len(), 3);
        assert_eq!(keytab.skipped(), 1);
        let alice = Principal::parse("alice@R", None).unwrap();
        // The 8-bit version is 7; the 32-bit one, when present and not 0, wins.
        assert_eq!(keytab.entries()[0].kvno, 7);
        assert_eq!(keytab.entries()[1].kvno, 300);
        assert_eq!(keytab.entries()[2].kvno, 7);
        assert_eq!(keytab.keys_for(&alice).len(), 1, "only the newest version");
        assert!(
            keytab
                .key(&alice, Enctype::Aes256CtsHmacSha196, Some(7))
                .is_some()
        );
        assert!(
            keytab
                .key(&alice, Enctype::Aes256CtsHmacSha196, Some(8))
                .is_none()
        );
    }

    #[test]
    fn truncated_or_foreign_files_are_refused_with_the_byte() {
        let bytes = file(&[entry(&["alice"], "R", 18, &[1; 32], None)]);
        for cut in 1..bytes.len() {
            if cut == 2 {
                continue; // an empty keytab is a keytab
            }
            let err = Keytab::parse(&bytes[..cut]).unwrap_err();
            assert_eq!(err.status(), Status::InvalidToken, "cut at {cut}: {err}");
        }
        assert!(
            Keytab::parse(&[0x05, 0x01])
                .unwrap_err()
                .to_string()
                .contains("0x0501")
        );
        assert!(Keytab::parse(b"\x12\x34").is_err());
        // A key of the wrong length for its type.
        let short = file(&[entry(&["alice"], "R", 18, &[1; 16], None)]);
        assert!(
            Keytab::parse(&short)
                .unwrap_err()
                .to_string()
                .contains("keytab byte")
        );
        // An entry whose fields run past its size.
        let mut overrun = file(&[entry(&["alice"], "R", 18, &[1; 32], None)]);
        overrun[5] -= 10;
        overrun.truncate(overrun.len() - 10);
        assert!(Keytab::parse(&overrun).is_err());
    }
}
