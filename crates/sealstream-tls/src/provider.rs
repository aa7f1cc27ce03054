//! The crypto backend of the record layer, chosen by Cargo feature: `aws-lc-rs` (the default)
//! or `ring`. With both (feature unification can turn on both), aws-lc-rs is used.
//!
//! The two crates' `aead` modules have the same API for most of what [`crate::cipher`] uses
//! (`LessSafeKey`, `UnboundKey`, `Nonce::assume_unique_for_key`, `Aad::from`,
//! `seal_in_place_separate_tag`, `open_in_place`), so one alias switches them. aws-lc-rs alone
//! seals and opens out of place (`seal_out_of_place_scatter`, `open_separate_gather`); under
//! ring the cipher copies and works in place instead (`open_in_place_separate_tag`). The
//! handshake is not affected: it runs with whatever `CryptoProvider` the caller's rustls config
//! holds, and the record layer only receives the secrets rustls extracted.

#[cfg(not(any(feature = "aws-lc-rs", feature = "ring")))]
compile_error!(
    "sealstream-tls needs a crypto backend for its record layer: enable the `aws-lc-rs` \
     feature (the default) or the `ring` feature"
);

#[cfg(feature = "aws-lc-rs")]
pub(crate) use aws_lc_rs::aead;
#[cfg(all(feature = "ring", not(feature = "aws-lc-rs")))]
pub(crate) use ring::aead;

/// rustls's provider module for the same backend (its cipher suite definitions), for the
/// fuzzing entry points and the tests.
#[cfg(all(feature = "aws-lc-rs", any(fuzzing, test)))]
pub(crate) use rustls::crypto::aws_lc_rs as rustls_crypto;
/// rustls's provider module for the same backend (its cipher suite definitions), for the
/// fuzzing entry points and the tests.
#[cfg(all(feature = "ring", not(feature = "aws-lc-rs"), any(fuzzing, test)))]
pub(crate) use rustls::crypto::ring as rustls_crypto;
