//! Principal names as people write them (`alice@EXAMPLE.COM`, `ldap/dc1.example.com@EXAMPLE.COM`)
//! and as Kerberos messages carry them (a name type, components and a realm).

use std::fmt;

use sealstream::{Error, Status};

use crate::asn1::{KerberosString, NT_PRINCIPAL, NT_SRV_HST, NT_SRV_INST, PrincipalName};

/// A principal: name components and a realm.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Principal {
    name_type: i32,
    components: Vec<String>,
    realm: String,
}

impl Principal {
    /// Parse `name` in the usual text form: components separated by `/`, then `@` and the
    /// realm; `\` escapes a `/`, `@` or `\` inside a component. Without a realm, `default_realm`
    /// is used (fails with `SEC_E_INVALID_PARAMETER` if there is none).
    pub fn parse(name: &str, default_realm: Option<&str>) -> Result<Self, Error> {
        let mut components = vec![String::new()];
        let mut realm: Option<String> = None;
        let mut chars = name.chars();
        while let Some(c) = chars.next() {
            let c = match c {
                '\\' => match chars.next() {
                    Some(escaped) => Ok(escaped),
                    None => return Err(invalid(name, "ends with a lone backslash")),
                },
                c => Err(c),
            };
            match (c, realm.as_mut()) {
                // An escaped character is part of the name, whatever it is.
                (Ok(c), Some(realm)) => realm.push(c),
                (Ok(c), None) => components.last_mut().expect("never empty").push(c),
                (Err('@'), Some(_)) => return Err(invalid(name, "has a second '@'")),
                (Err('@'), None) => realm = Some(String::new()),
                (Err('/'), None) => components.push(String::new()),
                (Err(c), Some(realm)) => realm.push(c),
                (Err(c), None) => components.last_mut().expect("never empty").push(c),
            }
        }
        if components.iter().any(String::is_empty) {
            return Err(invalid(name, "has an empty name component"));
        }
        let realm = match realm {
            Some(realm) if realm.is_empty() => return Err(invalid(name, "has an empty realm")),
            Some(realm) => realm,
            None => default_realm
                .ok_or_else(|| invalid(name, "has no realm and none is configured"))?
                .to_owned(),
        };
        Ok(Self {
            name_type: NT_PRINCIPAL,
            components,
            realm,
        })
    }

    /// A host-based service, `service/host@realm` (`NT-SRV-HST`), as GSS-API names
    /// `service@host`.
    pub fn service(service: &str, host: &str, realm: &str) -> Self {
        Self {
            name_type: NT_SRV_HST,
            components: vec![service.to_owned(), host.to_owned()],
            realm: realm.to_owned(),
        }
    }

    /// The ticket-granting service of `realm` for clients of `client_realm`:
    /// `krbtgt/realm@client_realm`.
    pub fn krbtgt(realm: &str, client_realm: &str) -> Self {
        Self {
            name_type: NT_SRV_INST,
            components: vec!["krbtgt".to_owned(), realm.to_owned()],
            realm: client_realm.to_owned(),
        }
    }

    /// For a ticket-granting service `krbtgt/X@Y`, the realm X whose tickets it grants.
    pub fn granting_realm(&self) -> Option<&str> {
        match self.components.as_slice() {
            [tgs, realm] if tgs == "krbtgt" => Some(realm),
            _ => None,
        }
    }

    /// The same name in `realm` (where a referral says the service is).
    pub fn in_realm(&self, realm: &str) -> Principal {
        Principal {
            name_type: self.name_type,
            components: self.components.clone(),
            realm: realm.to_owned(),
        }
    }

    /// The realm.
    pub fn realm(&self) -> &str {
        &self.realm
    }

    /// The name components.
    pub fn components(&self) -> &[String] {
        &self.components
    }

    /// The salt a long-term key of this principal has unless the KDC says otherwise (RFC 4120
    /// §4: "the realm and name components concatenated").
    pub fn default_salt(&self) -> Vec<u8> {
        let mut salt = self.realm.as_bytes().to_vec();
        for component in &self.components {
            salt.extend_from_slice(component.as_bytes());
        }
        salt
    }

    /// Whether `other` names the same principal (name types aside, as RFC 4120 §6.2 says they
    /// are not part of a name's identity).
    pub fn same_name(&self, other: &Principal) -> bool {
        self.realm == other.realm && self.components == other.components
    }

    pub(crate) fn to_asn1(&self) -> PrincipalName {
        PrincipalName {
            name_type: self.name_type,
            name_string: self
                .components
                .iter()
                .map(|c| KerberosString(c.clone()))
                .collect(),
        }
    }

    pub(crate) fn from_asn1(name: &PrincipalName, realm: &KerberosString) -> Self {
        Self {
            name_type: name.name_type,
            components: name.name_string.iter().map(|c| c.0.clone()).collect(),
            realm: realm.0.clone(),
        }
    }

    pub(crate) fn from_parts(name_type: i32, components: Vec<String>, realm: String) -> Self {
        Self {
            name_type,
            components,
            realm,
        }
    }
}

fn escape(part: &str, f: &mut fmt::Formatter<'_>) -> fmt::Result {
    for c in part.chars() {
        if matches!(c, '/' | '@' | '\\') {
            f.write_str("\\")?;
        }
        write!(f, "{c}")?;
    }
    Ok(())
}

impl fmt::Display for Principal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, component) in self.components.iter().enumerate() {
            if i > 0 {
                f.write_str("/")?;
            }
            escape(component, f)?;
        }
        f.write_str("@")?;
        escape(&self.realm, f)
    }
}

fn invalid(name: &str, why: &str) -> Error {
    Error::new(
        Status::InvalidParameter,
        format!("principal name {name:?} {why}"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_and_display_round_trip() {
        let p = Principal::parse("ldap/dc1.example.com@EXAMPLE.COM", None).unwrap();
        assert_eq!(p.components(), ["ldap", "dc1.example.com"]);
        assert_eq!(p.realm(), "EXAMPLE.COM");
        assert_eq!(p.to_string(), "ldap/dc1.example.com@EXAMPLE.COM");
        let p = Principal::parse("alice", Some("EXAMPLE.COM")).unwrap();
        assert_eq!(p.to_string(), "alice@EXAMPLE.COM");
        assert_eq!(p.default_salt(), b"EXAMPLE.COMalice");
        let p = Principal::parse(r"we\/ird\@name@R", None).unwrap();
        assert_eq!(p.components(), ["we/ird@name"]);
        assert_eq!(p.to_string(), r"we\/ird\@name@R");
        for bad in ["", "a@", "a//b@R", "a@R@S", "a\\", "/a@R"] {
            assert!(Principal::parse(bad, Some("R")).is_err(), "{bad:?}");
        }
        assert!(Principal::parse("alice", None).is_err());
    }
}
