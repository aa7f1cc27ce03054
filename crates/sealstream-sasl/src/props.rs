//! Security properties, and the choice of a mechanism from a server's list.
//!
//! Modeled on Cyrus SASL's `sasl_security_properties_t`: the application states the strength it
//! needs (`min_ssf`), the most it wants to pay for (`max_ssf`), the largest buffer it accepts
//! (`maxbuf`), and what it refuses. Mechanisms then negotiate within those bounds, and a client
//! given a server's list takes the strongest mechanism that can satisfy them.

/// What the application requires of an exchange and its layer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SecurityProperties {
    /// The least security strength factor (SSF) acceptable, counting `external_ssf`: 0 accepts no
    /// layer, 1 requires integrity, 56 or more requires confidentiality.
    pub min_ssf: u32,
    /// The greatest SSF wanted; a layer stronger than this is not negotiated (0: no layer).
    pub max_ssf: u32,
    /// The largest wrapped buffer we accept, announced to the peer (DIGEST-MD5 `maxbuf`). Frames
    /// above it are refused before anything is allocated for them.
    pub maxbuf: u32,
    /// The strength a lower layer already gives (TLS under SASL), counted toward `min_ssf`.
    pub external_ssf: u32,
    /// Refuse mechanisms that send the password in the clear (Cyrus `SASL_SEC_NOPLAINTEXT`).
    pub no_plaintext: bool,
    /// Allow DIGEST-MD5's weak ciphers `des`, `rc4-56` and `rc4-40` (56, 56 and 40-bit keys).
    /// Off by default: they exist for old peers only and can be broken by exhaustive search.
    /// `3des` and `rc4` are always allowed.
    pub allow_legacy_ciphers: bool,
}

impl Default for SecurityProperties {
    /// Any layer up to 256 bits, a 64 KiB maxbuf, no legacy ciphers.
    fn default() -> Self {
        Self {
            min_ssf: 0,
            max_ssf: 256,
            maxbuf: 65536,
            external_ssf: 0,
            no_plaintext: false,
            allow_legacy_ciphers: false,
        }
    }
}

impl SecurityProperties {
    /// Whether a layer of `ssf` lies within `min_ssf ..= max_ssf`, once the external SSF is
    /// counted toward the minimum.
    pub fn accepts_layer(&self, ssf: u32) -> bool {
        ssf.saturating_add(self.external_ssf) >= self.min_ssf && ssf <= self.max_ssf
    }
}

/// What a client knows about a mechanism before running it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct MechanismInfo {
    /// The registered name.
    pub name: &'static str,
    /// The strongest layer it can negotiate (0: none).
    pub max_ssf: u32,
    /// Whether it sends the password in the clear.
    pub plaintext: bool,
}

impl MechanismInfo {
    /// PLAIN (RFC 4616): no layer, the password in the clear.
    pub const PLAIN: MechanismInfo = MechanismInfo {
        name: "PLAIN",
        max_ssf: 0,
        plaintext: true,
    };
    /// EXTERNAL (RFC 4422 appendix A): identity from the lower layer, no layer of its own.
    pub const EXTERNAL: MechanismInfo = MechanismInfo {
        name: "EXTERNAL",
        max_ssf: 0,
        plaintext: false,
    };
    /// SCRAM-SHA-256 (RFC 7677): no layer, the password never sent.
    pub const SCRAM_SHA_256: MechanismInfo = MechanismInfo {
        name: "SCRAM-SHA-256",
        max_ssf: 0,
        plaintext: false,
    };
    /// SCRAM-SHA-256-PLUS (RFC 7677): SCRAM-SHA-256 bound to the TLS channel.
    pub const SCRAM_SHA_256_PLUS: MechanismInfo = MechanismInfo {
        name: "SCRAM-SHA-256-PLUS",
        max_ssf: 0,
        plaintext: false,
    };
    /// DIGEST-MD5 (RFC 2831): up to `rc4`, 128.
    pub const DIGEST_MD5: MechanismInfo = MechanismInfo {
        name: "DIGEST-MD5",
        max_ssf: 128,
        plaintext: false,
    };
}

/// The mechanism to use from a server's `offered` list: among `available` (ours, in order of
/// preference for equal strength), those the server offers (names compare case-insensitively)
/// that can reach `props.min_ssf` and do not break `no_plaintext`; of those the strongest.
pub fn choose_mechanism(
    offered: &[&str],
    available: &[MechanismInfo],
    props: &SecurityProperties,
) -> Option<MechanismInfo> {
    let mut best: Option<MechanismInfo> = None;
    for mech in available {
        let is_offered = offered.iter().any(|o| o.eq_ignore_ascii_case(mech.name));
        let strong_enough = mech.max_ssf.saturating_add(props.external_ssf) >= props.min_ssf;
        if !is_offered || !strong_enough || (props.no_plaintext && mech.plaintext) {
            continue;
        }
        // Strength counts up to what we want: above max_ssf it buys nothing.
        let strength = |m: &MechanismInfo| m.max_ssf.min(props.max_ssf);
        if best.is_none_or(|b| strength(mech) > strength(&b)) {
            best = Some(*mech);
        }
    }
    best
}

#[cfg(test)]
mod tests {
    use super::*;

    const ALL: [MechanismInfo; 3] = [
        MechanismInfo::DIGEST_MD5,
        MechanismInfo::EXTERNAL,
        MechanismInfo::PLAIN,
    ];

    #[test]
    fn strongest_offered_wins() {
        let props = SecurityProperties::default();
        let got = choose_mechanism(&["plain", "DIGEST-MD5"], &ALL, &props).unwrap();
        assert_eq!(got.name, "DIGEST-MD5");
        let got = choose_mechanism(&["PLAIN", "EXTERNAL"], &ALL, &props).unwrap();
        assert_eq!(got.name, "EXTERNAL", "equal strength: our order decides");
    }

    #[test]
    fn min_ssf_and_no_plaintext_filter() {
        let props = SecurityProperties {
            min_ssf: 56,
            ..Default::default()
        };
        assert_eq!(choose_mechanism(&["PLAIN", "EXTERNAL"], &ALL, &props), None);
        let props = SecurityProperties {
            min_ssf: 56,
            external_ssf: 256,
            no_plaintext: true,
            ..Default::default()
        };
        let got = choose_mechanism(&["PLAIN", "EXTERNAL"], &ALL, &props).unwrap();
        assert_eq!(got.name, "EXTERNAL");
        assert_eq!(choose_mechanism(&["PLAIN"], &ALL, &props), None);
        assert_eq!(choose_mechanism(&[], &ALL, &props), None);
    }

    #[test]
    fn layer_bounds() {
        let props = SecurityProperties {
            min_ssf: 1,
            max_ssf: 112,
            ..Default::default()
        };
        assert!(!props.accepts_layer(0));
        assert!(props.accepts_layer(1) && props.accepts_layer(112));
        assert!(!props.accepts_layer(128));
    }
}
