//! A SASL-mechanism-shaped wrap for tests only: `seq(4, BE) | plaintext | HMAC-SHA-256(key,
//! seq || plaintext)[..16]`, integrity only, like DIGEST-MD5 auth-int in shape.

use std::ops::Range;

use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;
use subtle::ConstantTimeEq;

use sealstream::sasl::{Unwrap, Wrap, WrapOverhead};
use sealstream::{Error, Protection, Qop, RecordMut, Status};

const SEQ: usize = 4;
const MAC: usize = 16;

fn mac(key: &[u8], seq: &[u8], data: &[u8]) -> [u8; MAC] {
    let mut m = Hmac::<Sha256>::new_from_slice(key).expect("HMAC takes any key length");
    m.update(seq);
    m.update(data);
    let full = m.finalize().into_bytes();
    full[..MAC].try_into().expect("16 bytes")
}

/// The sending direction.
#[derive(Debug)]
pub struct TestWrap {
    key: Vec<u8>,
    seq: u32,
}

/// The receiving direction.
#[derive(Debug)]
pub struct TestUnwrap {
    key: Vec<u8>,
    seq: u32,
}

/// A wrap and the matching unwrap for one direction.
pub fn direction(key: &[u8]) -> (TestWrap, TestUnwrap) {
    (
        TestWrap {
            key: key.to_vec(),
            seq: 0,
        },
        TestUnwrap {
            key: key.to_vec(),
            seq: 0,
        },
    )
}

impl Wrap for TestWrap {
    fn overhead(&self) -> WrapOverhead {
        WrapOverhead {
            header: SEQ,
            trailer: MAC,
            block_size: 1,
        }
    }

    fn wrap(&mut self, qop: Qop, mut token: RecordMut<'_>) -> Result<usize, Error> {
        if qop == Qop::OutOfBand {
            return Err(Error::new(Status::QopNotSupported, "no alerts in SASL"));
        }
        let seq = self.seq.to_be_bytes();
        let (header, payload, trailer) = token.split_mut();
        header.copy_from_slice(&seq);
        let tag = mac(&self.key, &seq, payload);
        trailer[..MAC].copy_from_slice(&tag);
        self.seq = self.seq.wrapping_add(1);
        Ok(SEQ + payload.len() + MAC)
    }

    fn supports_qop(&self, qop: Qop) -> bool {
        qop != Qop::OutOfBand
    }

    fn sequence(&self) -> u64 {
        self.seq.into()
    }
}

impl Unwrap for TestUnwrap {
    fn unwrap(&mut self, token: &mut [u8]) -> Result<Range<usize>, Error> {
        if token.len() < SEQ + MAC {
            return Err(Error::new(
                Status::InvalidToken,
                "token shorter than its overhead",
            ));
        }
        let (seq, rest) = token.split_at(SEQ);
        let (data, tag) = rest.split_at(rest.len() - MAC);
        if !bool::from(mac(&self.key, seq, data).ct_eq(tag)) {
            return Err(Error::message_altered("token MAC does not verify"));
        }
        let got = u32::from_be_bytes(seq.try_into().expect("4 bytes"));
        if got != self.seq {
            return Err(Error::out_of_sequence(self.seq.into(), got.into()));
        }
        self.seq = self.seq.wrapping_add(1);
        Ok(SEQ..token.len() - MAC)
    }

    // A MAC and no cipher: every token is signed only.
    fn protection(&self) -> Protection {
        Protection::IntegrityOnly
    }

    fn sequence(&self) -> u64 {
        self.seq.into()
    }
}
