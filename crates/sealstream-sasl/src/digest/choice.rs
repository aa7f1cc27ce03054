//! Asking for one DIGEST-MD5 layer by name, the way command lines and configuration files do
//! (`--qop auth-conf --cipher 3des`).
//!
//! The mechanism itself negotiates within [`SecurityProperties`]: the strongest layer both sides
//! allow. An operator usually wants one layer exactly, to test a peer or to match a policy. Every
//! layer has its own strength (auth 0, auth-int 1, rc4 128, 3des 112, rc4-56 56, des 55, rc4-40
//! 40), so pinning both `min_ssf` and `max_ssf` to one value selects it.

use std::fmt;

use super::{Cipher, DigestQop};
use crate::{AuthError, SecurityProperties};

/// The DIGEST-MD5 layer a side insists on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum LayerChoice {
    /// `auth`: authentication only, no layer.
    Auth,
    /// `auth-int`: integrity only.
    AuthInt,
    /// `auth-conf` with this cipher, or with any cipher the properties allow (the strongest both
    /// sides have) when `None`.
    AuthConf(Option<Cipher>),
    /// Any layer that protects the data: `auth-int` or `auth-conf`, the strongest both allow.
    AnyLayer,
}

impl LayerChoice {
    /// The choice named by a `qop` value (`auth`, `auth-int`, `auth-conf`) and, for `auth-conf`
    /// only, a cipher name (`rc4`, `3des`, `des`, `rc4-56`, `rc4-40`).
    pub fn from_names(qop: &str, cipher: Option<&str>) -> Result<Self, AuthError> {
        let cipher = cipher
            .map(|name| {
                Cipher::from_name(name).ok_or_else(|| {
                    AuthError::policy(format!(
                        "unknown cipher {name:?} (rc4, 3des, des, rc4-56, rc4-40)"
                    ))
                })
            })
            .transpose()?;
        match (qop, cipher) {
            ("auth-conf", cipher) => Ok(LayerChoice::AuthConf(cipher)),
            ("auth" | "auth-int", Some(_)) => Err(AuthError::policy(format!(
                "a cipher goes with qop auth-conf, not {qop}"
            ))),
            ("auth", None) => Ok(LayerChoice::Auth),
            ("auth-int", None) => Ok(LayerChoice::AuthInt),
            (other, _) => Err(AuthError::policy(format!(
                "unknown qop {other:?} (auth, auth-int, auth-conf)"
            ))),
        }
    }

    /// The layer this choice pins, if it pins exactly one.
    pub fn qop(self) -> Option<DigestQop> {
        match self {
            LayerChoice::Auth => Some(DigestQop::Auth),
            LayerChoice::AuthInt => Some(DigestQop::AuthInt),
            LayerChoice::AuthConf(Some(cipher)) => Some(DigestQop::AuthConf(cipher)),
            LayerChoice::AuthConf(None) | LayerChoice::AnyLayer => None,
        }
    }

    /// Default properties narrowed to this choice, with `allow_legacy_ciphers` as given.
    ///
    /// Naming a legacy cipher (`des`, `rc4-56`, `rc4-40`) without allowing legacy ciphers is a
    /// [policy](crate::AuthErrorKind::Policy) error: the opt-in must be explicit.
    pub fn properties(self, allow_legacy_ciphers: bool) -> Result<SecurityProperties, AuthError> {
        let (min_ssf, max_ssf) = match self {
            LayerChoice::Auth => (0, 0),
            LayerChoice::AuthInt => (1, 1),
            LayerChoice::AuthConf(Some(cipher)) => {
                if cipher.is_legacy() && !allow_legacy_ciphers {
                    return Err(AuthError::policy(format!(
                        "{cipher} is a weak legacy cipher, refused unless legacy ciphers are allowed"
                    )));
                }
                (cipher.ssf(), cipher.ssf())
            }
            // Every cipher is stronger than auth-int's 1.
            LayerChoice::AuthConf(None) => (2, SecurityProperties::default().max_ssf),
            LayerChoice::AnyLayer => (1, SecurityProperties::default().max_ssf),
        };
        Ok(SecurityProperties {
            min_ssf,
            max_ssf,
            allow_legacy_ciphers,
            ..SecurityProperties::default()
        })
    }
}

impl fmt::Display for LayerChoice {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LayerChoice::AuthConf(None) => f.write_str("auth-conf (any cipher)"),
            LayerChoice::AnyLayer => f.write_str("auth-int or auth-conf"),
            pinned => match pinned.qop() {
                Some(qop) => qop.fmt(f),
                None => Ok(()),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::AuthErrorKind;

    fn pinned(qop: &str, cipher: Option<&str>, legacy: bool) -> (u32, u32, bool) {
        let p = LayerChoice::from_names(qop, cipher)
            .unwrap()
            .properties(legacy)
            .unwrap();
        (p.min_ssf, p.max_ssf, p.allow_legacy_ciphers)
    }

    #[test]
    fn each_choice_pins_its_strength() {
        assert_eq!(pinned("auth", None, false), (0, 0, false));
        assert_eq!(pinned("auth-int", None, false), (1, 1, false));
        assert_eq!(pinned("auth-conf", None, false), (2, 256, false));
        assert_eq!(pinned("auth-conf", Some("3des"), false), (112, 112, false));
        assert_eq!(pinned("auth-conf", Some("RC4"), false), (128, 128, false));
        assert_eq!(pinned("auth-conf", Some("des"), true), (55, 55, true));
        assert_eq!(pinned("auth-conf", Some("rc4-40"), true), (40, 40, true));
        let any = LayerChoice::AnyLayer.properties(false).unwrap();
        assert_eq!((any.min_ssf, any.max_ssf), (1, 256));
    }

    #[test]
    fn legacy_ciphers_need_the_opt_in() {
        for name in ["des", "rc4-56", "rc4-40"] {
            let choice = LayerChoice::from_names("auth-conf", Some(name)).unwrap();
            let err = choice.properties(false).unwrap_err();
            assert_eq!(err.kind(), AuthErrorKind::Policy);
            assert!(err.detail().contains("legacy"), "{err}");
        }
    }

    #[test]
    fn bad_names_are_refused() {
        let err = LayerChoice::from_names("auth-int", Some("rc4")).unwrap_err();
        assert!(err.detail().contains("auth-conf"), "{err}");
        let err = LayerChoice::from_names("auth-conf", Some("aes")).unwrap_err();
        assert!(err.detail().contains("unknown cipher"), "{err}");
        let err = LayerChoice::from_names("integrity", None).unwrap_err();
        assert!(err.detail().contains("unknown qop"), "{err}");
    }

    #[test]
    fn display_names_the_layer() {
        let rc4 = LayerChoice::from_names("auth-conf", Some("rc4")).unwrap();
        assert_eq!(rc4.to_string(), "auth-conf (rc4)");
        assert_eq!(LayerChoice::AuthInt.to_string(), "auth-int");
        assert_eq!(
            LayerChoice::AuthConf(None).to_string(),
            "auth-conf (any cipher)"
        );
    }
}
