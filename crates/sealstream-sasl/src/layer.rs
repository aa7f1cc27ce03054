//! A negotiated security layer turned into the sealer halves a `SealedStream` runs.
//!
//! Each mechanism has its own wrap and unwrap types (DIGEST-MD5 here; Kerberos and NTLM in their
//! own crates later), but a client that picks its mechanism at run time needs one sealer type.
//! [`LayerWrap`] and [`LayerUnwrap`] box the mechanism's halves once per connection, so the
//! sealer type is the same for every mechanism and no record allocates: each record costs one
//! virtual call into the mechanism.

use std::fmt;
use std::ops::Range;

use sealstream::sasl::{FramedSeal, FramedUnseal, Unwrap, Wrap, WrapOverhead};
use sealstream::{Error, Protection, Qop, RecordMut};

/// The sealer of every SASL layer: `SealedStream::new(io, layer.into_sealer()?)`.
pub type SaslSealer = (FramedSeal<LayerWrap>, FramedUnseal<LayerUnwrap>);

/// A mechanism's sending direction, boxed.
pub struct LayerWrap(Box<dyn Wrap>);

/// A mechanism's receiving direction, boxed.
pub struct LayerUnwrap(Box<dyn Unwrap>);

impl fmt::Debug for LayerWrap {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LayerWrap")
            .field("sequence", &self.0.sequence())
            .finish_non_exhaustive()
    }
}

impl fmt::Debug for LayerUnwrap {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LayerUnwrap")
            .field("sequence", &self.0.sequence())
            .finish_non_exhaustive()
    }
}

impl Wrap for LayerWrap {
    fn overhead(&self) -> WrapOverhead {
        self.0.overhead()
    }

    fn wrap(&mut self, qop: Qop, token: RecordMut<'_>) -> Result<usize, Error> {
        self.0.wrap(qop, token)
    }

    fn wrap_copying(
        &mut self,
        qop: Qop,
        plaintext: &[u8],
        token: RecordMut<'_>,
    ) -> Result<usize, Error> {
        self.0.wrap_copying(qop, plaintext, token)
    }

    fn supports_qop(&self, qop: Qop) -> bool {
        self.0.supports_qop(qop)
    }

    fn sequence(&self) -> u64 {
        self.0.sequence()
    }
}

impl Unwrap for LayerUnwrap {
    fn unwrap(&mut self, token: &mut [u8]) -> Result<Range<usize>, Error> {
        self.0.unwrap(token)
    }

    fn protection(&self) -> Protection {
        self.0.protection()
    }

    fn sequence(&self) -> u64 {
        self.0.sequence()
    }
}

/// A negotiated security layer: the mechanism's two directions and both sides' maxbuf.
pub struct SecurityLayer {
    wrap: LayerWrap,
    unwrap: LayerUnwrap,
    our_maxbuf: u32,
    peer_maxbuf: u32,
}

impl fmt::Debug for SecurityLayer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SecurityLayer")
            .field("our_maxbuf", &self.our_maxbuf)
            .field("peer_maxbuf", &self.peer_maxbuf)
            .finish_non_exhaustive()
    }
}

impl SecurityLayer {
    /// A layer from a mechanism's halves. `our_maxbuf` is the largest token we announced we
    /// accept; `peer_maxbuf` the largest the peer accepts (0: no limit).
    pub fn new(wrap: impl Wrap, unwrap: impl Unwrap, our_maxbuf: u32, peer_maxbuf: u32) -> Self {
        Self {
            wrap: LayerWrap(Box::new(wrap)),
            unwrap: LayerUnwrap(Box::new(unwrap)),
            our_maxbuf,
            peer_maxbuf,
        }
    }

    /// The largest token we accept.
    pub fn our_maxbuf(&self) -> u32 {
        self.our_maxbuf
    }

    /// The largest token the peer accepts.
    pub fn peer_maxbuf(&self) -> u32 {
        self.peer_maxbuf
    }

    /// The sealer halves, framed per RFC 4422 §3.7: frames cut to the peer's maxbuf going out,
    /// frames above ours refused coming in.
    ///
    /// Fails with `SEC_E_INVALID_PARAMETER` when the peer's maxbuf leaves no room for data after
    /// the mechanism's overhead, or our maxbuf is 0.
    pub fn into_sealer(self) -> Result<SaslSealer, Error> {
        Ok((
            FramedSeal::new(self.wrap, self.peer_maxbuf)?,
            FramedUnseal::new(self.unwrap, self.our_maxbuf)?,
        ))
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};

    use sealstream::{Seal, Unseal, Unsealed, seal_message};

    use super::*;
    use crate::digest::DigestQop;
    use crate::digest::layer::halves;

    /// A mechanism's wrap that counts the tokens it was given to copy.
    struct Counted {
        inner: Box<dyn Wrap>,
        copying: Arc<AtomicUsize>,
    }

    impl Wrap for Counted {
        fn overhead(&self) -> WrapOverhead {
            self.inner.overhead()
        }

        fn wrap(&mut self, qop: Qop, token: RecordMut<'_>) -> Result<usize, Error> {
            self.inner.wrap(qop, token)
        }

        fn wrap_copying(
            &mut self,
            qop: Qop,
            plaintext: &[u8],
            token: RecordMut<'_>,
        ) -> Result<usize, Error> {
            self.copying.fetch_add(1, Ordering::Relaxed);
            self.inner.wrap_copying(qop, plaintext, token)
        }

        fn sequence(&self) -> u64 {
            self.inner.sequence()
        }
    }

    #[test]
    fn the_boxed_layer_hands_plaintext_to_copy_to_the_mechanism() {
        let ha1 = [7u8; 16];
        let (wrap, unwrap) = halves(&ha1, DigestQop::AuthInt, true).unwrap();
        let (_, peer_unwrap) = halves(&ha1, DigestQop::AuthInt, false).unwrap();
        let copying = Arc::new(AtomicUsize::new(0));
        let counted = Counted {
            inner: Box::new(wrap),
            copying: copying.clone(),
        };
        let (mut seal, _) = SecurityLayer::new(counted, unwrap, 65536, 65536)
            .into_sealer()
            .unwrap();
        let mut record = vec![0u8; seal.sizes().max_record()];
        let n = seal_message(&mut seal, Qop::Default, b"hello", &mut record).unwrap();
        assert_eq!(copying.load(Ordering::Relaxed), 1);

        let mut peer = FramedUnseal::new(LayerUnwrap(Box::new(peer_unwrap)), 65536).unwrap();
        let Unsealed::Data { plaintext, .. } = peer.unseal(&mut record[..n]).unwrap() else {
            panic!("a data record");
        };
        assert_eq!(&record[plaintext], b"hello");
    }
}
