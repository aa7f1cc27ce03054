//! MIT credential caches of the `FILE:` type, as `kinit` writes them: a user who has run
//! `kinit` has a ticket-granting ticket (and perhaps service tickets) here, and needs no
//! password or keytab to authenticate.
//!
//! The format, from MIT's "Credential cache file format" (`doc/formats`); versions 3 and 4
//! are big-endian, 1 and 2 native-endian and long obsolete (refused):
//!
//! ```text
//! ccache     ::= 0x05 version(3|4) [header, version 4 only] default-principal credential*
//! header     ::= length (16) { tag (16) length (16) value }   tag 1: KDC time offset (s, µs)
//! principal  ::= name type (32) count of components (32) realm (data) component (data)*
//! credential ::= client (principal) server (principal)
//!                keyblock (enctype (16) [twice in version 3] data)
//!                authtime starttime endtime renew_till (32 each) is_skey (8) ticket_flags (32)
//!                addresses (count (32) { addrtype (16) data })
//!                authdata (count (32) { ad_type (16) data })
//!                ticket (data) second_ticket (data)
//! data       ::= length (32) value
//! ```
//!
//! "There is also no count of credentials or marker at the end of the sequence of credentials;
//! the sequence ends when the file ends." Configuration entries ("The server principal has the
//! realm `X-CACHECONF:`") are not credentials and are passed over; so are tickets whose session
//! key is of a type this crate does not implement, and user-to-user tickets (`is_skey`).
//!
//! Only reading is implemented; tickets this crate gets from a KDC stay in memory.

use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use sealstream::{Error, Status};

use crate::Enctype;
use crate::crypto::Key;
use crate::file_reader::{FileReader, malformed};
use crate::kdc::Credentials;
use crate::principal::Principal;

/// The realm of a configuration entry's server principal.
const CONFIG_REALM: &str = "X-CACHECONF:";
/// More name components than any principal has: a file claiming more is refused.
const MAX_COMPONENTS: u32 = 32;

/// The credentials of an MIT `FILE:` credential cache.
#[derive(Clone, Debug)]
pub struct CredentialCache {
    principal: Principal,
    kdc_offset: Option<(i32, i32)>,
    credentials: Vec<Credentials>,
    skipped: usize,
    location: String,
}

impl CredentialCache {
    /// The cache `KRB5CCNAME` names (a `FILE:` name, or a path), or MIT's default
    /// `/tmp/krb5cc_UID`. Fails with `SEC_E_NO_CREDENTIALS` when there is none to read (as when
    /// nobody has run `kinit`), or when `KRB5CCNAME` names a cache of another type (`KEYRING:`,
    /// `KCM:`, `DIR:`, `MEMORY:`), which are not files this crate can read.
    pub fn from_environment() -> Result<Self, Error> {
        Self::read(default_path()?)
    }

    /// Read the cache at `path`. Fails with `SEC_E_NO_CREDENTIALS` when it cannot be read and
    /// `SEC_E_INVALID_TOKEN`, naming the byte, when it is not a credential cache.
    pub fn read(path: impl AsRef<Path>) -> Result<Self, Error> {
        let path = path.as_ref();
        let bytes = std::fs::read(path).map_err(|e| {
            Error::new(
                Status::NoCredentials,
                format!(
                    "cannot read the credential cache {}: {e} (has kinit been run?)",
                    path.display()
                ),
            )
        })?;
        let mut cache = Self::parse(&bytes)
            .map_err(|e| Error::new(e.status(), format!("{}: {}", path.display(), e.detail())))?;
        cache.location = format!("FILE:{}", path.display());
        Ok(cache)
    }

    /// Parse a credential cache's bytes.
    pub fn parse(bytes: &[u8]) -> Result<Self, Error> {
        let mut r = FileReader::new(bytes, 0, "credential cache", "the file ends inside a field");
        let version = r.u16().map_err(|_| r.error("shorter than its version"))?;
        match version {
            0x0503 | 0x0504 => {}
            0x0501 | 0x0502 => {
                return Err(malformed(
                    "credential cache",
                    0,
                    &format!(
                        "version {version:#06x} (native byte order, before MIT krb5 1.0) is not \
                         supported"
                    ),
                ));
            }
            other => {
                return Err(malformed(
                    "credential cache",
                    0,
                    &format!("unknown version {other:#06x}"),
                ));
            }
        }
        let mut kdc_offset = None;
        if version == 0x0504 {
            let len = usize::from(r.u16()?);
            let mut header = FileReader::new(
                r.take(len)?,
                4,
                "credential cache",
                "a header field overruns the header",
            );
            while header.left() > 0 {
                let tag = header.u16()?;
                let value = header.counted16()?;
                // "A file format implementation should ignore fields with unknown tags."
                if let (1, Ok(value)) = (tag, <[u8; 8]>::try_from(value)) {
                    let seconds = i32::from_be_bytes(value[..4].try_into().expect("4 bytes"));
                    let micros = i32::from_be_bytes(value[4..].try_into().expect("4 bytes"));
                    kdc_offset = Some((seconds, micros));
                }
            }
        }
        let principal = principal(&mut r)?;
        let mut cache = CredentialCache {
            principal,
            kdc_offset,
            credentials: Vec::new(),
            skipped: 0,
            location: String::from("(in memory)"),
        };
        while r.left() > 0 {
            match credential(&mut r, version)? {
                Entry::Credentials(creds) => cache.credentials.push(*creds),
                Entry::Config => {}
                Entry::Unusable => cache.skipped += 1,
            }
        }
        Ok(cache)
    }

    /// The cache's default principal: whose tickets these are.
    pub fn principal(&self) -> &Principal {
        &self.principal
    }

    /// Every ticket, in file order (configuration entries and unusable tickets left out).
    pub fn credentials(&self) -> &[Credentials] {
        &self.credentials
    }

    /// How many tickets were passed over: session keys of types this crate does not implement,
    /// and user-to-user tickets.
    pub fn skipped(&self) -> usize {
        self.skipped
    }

    /// The KDC's clock minus the client's when the cache was made (seconds, microseconds), if
    /// the cache recorded it.
    pub fn kdc_time_offset(&self) -> Option<(i32, i32)> {
        self.kdc_offset
    }

    /// The default principal's ticket-granting ticket for its own realm
    /// (`krbtgt/REALM@REALM`), valid at `now`. Fails with `SEC_E_NO_CREDENTIALS` when the
    /// cache has none, or only expired ones (saying when the newest expired).
    pub fn tgt(&self, now: SystemTime) -> Result<&Credentials, Error> {
        let realm = self.principal.realm();
        self.current(&Principal::krbtgt(realm, realm), now)
    }

    /// A ticket for `service` issued to the default principal, valid at `now`, if the cache
    /// holds one (`kvno` and earlier authentications leave service tickets behind).
    pub fn ticket_for(&self, service: &Principal, now: SystemTime) -> Option<&Credentials> {
        self.current(service, now).ok()
    }

    fn current(&self, server: &Principal, now: SystemTime) -> Result<&Credentials, Error> {
        let mut theirs = self
            .credentials
            .iter()
            .filter(|c| c.server.same_name(server) && c.client.same_name(&self.principal))
            .peekable();
        if theirs.peek().is_none() {
            return Err(Error::new(
                Status::NoCredentials,
                format!(
                    "the credential cache {} holds no ticket for {server} (run kinit {})",
                    self.location, self.principal
                ),
            ));
        }
        let mut newest_end = SystemTime::UNIX_EPOCH;
        for creds in theirs {
            if creds.is_current(now) {
                return Ok(creds);
            }
            newest_end = newest_end.max(creds.endtime);
        }
        let ago = now.duration_since(newest_end).unwrap_or_default().as_secs();
        Err(Error::new(
            Status::NoCredentials,
            format!(
                "the ticket for {server} in {} expired {ago} s ago, or is not valid yet (run \
                 kinit {})",
                self.location, self.principal
            ),
        ))
    }
}

/// What one credential entry turned out to be.
enum Entry {
    Credentials(Box<Credentials>),
    /// A configuration entry (`X-CACHECONF:`).
    Config,
    /// A ticket this crate cannot use.
    Unusable,
}

fn principal(r: &mut FileReader<'_>) -> Result<Principal, Error> {
    let at = r.offset();
    let name_type = r.u32()? as i32;
    let count = r.u32()?;
    if count > MAX_COMPONENTS {
        return Err(r.error(&format!(
            "a principal of {count} name components (byte {at}); none has more than \
             {MAX_COMPONENTS}"
        )));
    }
    let realm = r.string32()?;
    let components = (0..count)
        .map(|_| r.string32())
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Principal::from_parts(name_type, components, realm))
}

fn time(seconds: u32) -> SystemTime {
    // MIT stores krb5_timestamp, read as unsigned since 1.17 so that it runs past 2038.
    SystemTime::UNIX_EPOCH + Duration::from_secs(u64::from(seconds))
}

fn credential(r: &mut FileReader<'_>, version: u16) -> Result<Entry, Error> {
    let client = principal(r)?;
    let server = principal(r)?;
    let enctype = r.u16()?;
    if version == 0x0503 {
        // "enctype (16 bits) [repeated twice in version 3]"
        r.u16()?;
    }
    let key_at = r.offset() + 4;
    let key = r.counted32()?;
    let authtime = r.u32()?;
    let starttime = r.u32()?;
    let endtime = r.u32()?;
    let renew_till = r.u32()?;
    let is_skey = r.u8()?;
    let flags = r.u32()?;
    for _list in ["addresses", "authdata"] {
        let count = r.u32()?;
        for _ in 0..count {
            // Each item is at least six bytes, so a count cannot outrun the file for long.
            r.u16()?;
            r.counted32()?;
        }
    }
    let ticket = r.counted32()?;
    let _second_ticket = r.counted32()?;
    if server.realm() == CONFIG_REALM {
        return Ok(Entry::Config);
    }
    let Some(enctype) = Enctype::from_number(i32::from(enctype)) else {
        return Ok(Entry::Unusable);
    };
    if is_skey != 0 {
        return Ok(Entry::Unusable);
    }
    let key =
        Key::new(enctype, key).map_err(|e| malformed("credential cache", key_at, e.detail()))?;
    Ok(Entry::Credentials(Box::new(Credentials {
        client,
        server,
        key,
        ticket: ticket.to_vec(),
        flags,
        authtime: time(authtime),
        starttime: (starttime != 0).then(|| time(starttime)),
        endtime: time(endtime),
        renew_till: (renew_till != 0).then(|| time(renew_till)),
    })))
}

/// Where `KRB5CCNAME` points, or MIT's default `FILE:/tmp/krb5cc_%{uid}`.
pub fn default_path() -> Result<PathBuf, Error> {
    match std::env::var("KRB5CCNAME") {
        Ok(name) if !name.is_empty() => path_of(&name),
        _ => {
            let uid = real_uid().ok_or_else(|| {
                Error::new(
                    Status::NoCredentials,
                    "KRB5CCNAME is not set and this process's user id is unknown",
                )
            })?;
            Ok(PathBuf::from(format!("/tmp/krb5cc_{uid}")))
        }
    }
}

/// The file of a cache name: `FILE:path`, or a path with no type (MIT reads a name without
/// a `TYPE:` prefix as a file).
pub fn path_of(name: &str) -> Result<PathBuf, Error> {
    if let Some(path) = name.strip_prefix("FILE:") {
        return Ok(PathBuf::from(path));
    }
    match name.split_once(':') {
        Some((kind, _)) if !kind.contains('/') => Err(Error::new(
            Status::NoCredentials,
            format!(
                "the credential cache {name} is of type {kind}:, and only FILE: caches can be \
                 read (point KRB5CCNAME at a FILE: cache, e.g. KRB5CCNAME=FILE:/tmp/krb5cc_$(id \
                 -u) kinit)"
            ),
        )),
        _ => Ok(PathBuf::from(name)),
    }
}

/// The real user id, as MIT's default cache name uses it (`getuid`), from `/proc` so that no
/// unsafe call is needed; `None` off Linux.
fn real_uid() -> Option<u32> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find_map(|l| l.strip_prefix("Uid:"))?;
    line.split_whitespace().next()?.parse().ok()
}

#[cfg(test)]
mod tests;
