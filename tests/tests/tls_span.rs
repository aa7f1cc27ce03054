//! Where a TLS stream's tracing span goes: under the caller's span when the builder has one.
//!
//! The only test in its binary: tracing caches each callsite's interest process-wide, and a test
//! that installs a subscriber for its own thread races other tests' threads over that cache.

use sealstream_interop::{tcp_pair, tls};
use sealstream_tls::{TlsAcceptor, TlsConnector};

/// A span's name and its parent's.
type SpanAndParent = (String, Option<String>);

/// Records each new span's name and its parent's.
#[derive(Clone, Default)]
struct SpanParents(std::sync::Arc<std::sync::Mutex<Vec<SpanAndParent>>>);

impl<S> tracing_subscriber::Layer<S> for SpanParents
where
    S: tracing::Subscriber + for<'a> tracing_subscriber::registry::LookupSpan<'a>,
{
    fn on_new_span(
        &self,
        _attrs: &tracing::span::Attributes<'_>,
        id: &tracing::span::Id,
        ctx: tracing_subscriber::layer::Context<'_, S>,
    ) {
        let span = ctx.span(id).expect("a new span is registered");
        let parent = span.parent().map(|p| p.name().to_owned());
        self.0
            .lock()
            .unwrap()
            .push((span.name().to_owned(), parent));
    }
}

#[test]
fn a_span_given_to_the_builder_is_the_parent_of_the_tls_span() {
    use tracing_subscriber::layer::SubscriberExt;
    let spans = SpanParents::default();
    let subscriber = tracing_subscriber::registry().with(spans.clone());
    tracing::subscriber::with_default(subscriber, || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        runtime.block_on(async {
            let id = tls::identity();
            let (c, s) = tcp_pair().await.unwrap();
            let acceptor = TlsAcceptor::new(tls::server(&id, true, None));
            let connector = TlsConnector::new(tls::client(&id, true, None));
            let user = tracing::info_span!("user_connection");
            let (server, client) = tokio::join!(
                acceptor.accept(s),
                connector.connect_with(
                    tls::localhost(),
                    c,
                    sealstream::StreamBuilder::new().span(user.clone())
                )
            );
            drop((server.unwrap(), client.unwrap()));
        });
    });
    let spans = spans.0.lock().unwrap();
    let tls: Vec<_> = spans.iter().filter(|(name, _)| name == "tls").collect();
    assert_eq!(tls.len(), 2, "{spans:?}");
    // The client's stream goes under the user's span; the server's, given none, is a root.
    assert!(
        tls.contains(&&("tls".to_owned(), Some("user_connection".to_owned()))),
        "{spans:?}"
    );
    assert!(tls.contains(&&("tls".to_owned(), None)), "{spans:?}");
}
