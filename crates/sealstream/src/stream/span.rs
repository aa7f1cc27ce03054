//! The tracing span a half records its events under, kept only while it records anything.
//!
//! A `tracing::Span` takes 40 bytes even when no subscriber wants it, and every half of every
//! connection carries one: 160 bytes a connection pair for nothing, when tracing is off. A
//! disabled span has no id and records nothing, so the half keeps just the id of an enabled one
//! (boxed with the span, so that the span lives as long as the half).

use tracing::{Id, Span};

/// A half's span: `None` when the span is disabled.
#[derive(Debug)]
pub(crate) struct HalfSpan(Option<Box<Span>>);

impl HalfSpan {
    pub(crate) fn new(span: Span) -> Self {
        Self((!span.is_disabled()).then(|| Box::new(span)))
    }

    /// The parent for the half's events: `None` (a root event) when the span is disabled,
    /// as passing the disabled span itself would give.
    pub(crate) fn id(&self) -> Option<Id> {
        self.0.as_ref().and_then(|span| span.id())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_disabled_span_is_not_kept() {
        // No subscriber in unit tests: every span is disabled.
        let span = HalfSpan::new(tracing::debug_span!("sealed_stream"));
        assert!(span.0.is_none());
        assert_eq!(span.id(), None);
        assert_eq!(std::mem::size_of::<HalfSpan>(), 8);
    }

    #[test]
    fn an_enabled_span_is_kept_and_parents_the_events() {
        let subscriber = tracing_subscriber::registry();
        tracing::subscriber::with_default(subscriber, || {
            let span = tracing::debug_span!("sealed_stream");
            let id = span.id();
            assert!(id.is_some());
            let half = HalfSpan::new(span);
            assert_eq!(half.id(), id);
        });
    }
}
