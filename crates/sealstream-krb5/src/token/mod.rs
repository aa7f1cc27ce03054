//! RFC 4121 per-message tokens: a context's Wrap and MIC tokens, in place, as the two halves of a
//! security layer.

mod context;
mod header;
mod unwrap;
mod wrap;

pub use context::{LayerOptions, Protection, Role, SecurityContext};
pub use unwrap::Krb5Unwrap;
pub use wrap::Krb5Wrap;

#[cfg(test)]
mod tests;
