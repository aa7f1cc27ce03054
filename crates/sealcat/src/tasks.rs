//! Spawning tasks with names, so tokio-console shows what each one is.

use std::future::Future;

/// Spawn `future` on the current runtime, named `name` where tokio can name tasks (built with
/// `RUSTFLAGS="--cfg tokio_unstable"`, as the `console` feature requires).
pub(crate) fn spawn_named<F>(
    name: &str,
    future: F,
) -> std::io::Result<tokio::task::JoinHandle<F::Output>>
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    #[cfg(tokio_unstable)]
    {
        tokio::task::Builder::new().name(name).spawn(future)
    }
    #[cfg(not(tokio_unstable))]
    {
        let _ = name;
        Ok(tokio::spawn(future))
    }
}
