//! n-fold (RFC 3961 §5.1), which stretches or shrinks a constant to the cipher's block size
//! before the RFC 3962 key derivation encrypts it.
//!
//! "To n-fold a number X, replicate the input value to a length that is the least common
//! multiple of n and the length of X. Before each repetition, the input is rotated to the right
//! by 13 bit positions. The successive n-bit chunks are added together using 1's-complement
//! addition (that is, with end-around carry) to yield an n-bit result."
//!
//! It runs once per derived key, never per message, so it is written for clarity: the
//! replicated string is built bit by bit and summed chunk by chunk, as the definition reads.

/// The `out.len()`-byte n-fold of `input` (which must not be empty).
pub(crate) fn nfold(input: &[u8], out: &mut [u8]) {
    debug_assert!(!input.is_empty() && !out.is_empty());
    let (k, n) = (input.len(), out.len());
    let lcm = k / gcd(k, n) * n;
    let bits = k * 8;
    // Bit `i` (from the most significant) of the replicated string: repetition `r = i / bits`
    // is the input rotated right by 13 * r bits, so its bit `j` is the input's bit
    // `j - 13 * r` (mod the input's length).
    let bit = |i: usize| -> u8 {
        let (r, j) = (i / bits, i % bits);
        let from = (j + bits - (13 * r) % bits) % bits;
        (input[from / 8] >> (7 - from % 8)) & 1
    };
    let mut sum = vec![0u32; n];
    for chunk in 0..lcm / n {
        for (byte, slot) in sum.iter_mut().enumerate() {
            let start = (chunk * n + byte) * 8;
            let value = (0..8).fold(0u32, |v, b| v << 1 | u32::from(bit(start + b)));
            *slot += value;
        }
    }
    // 1's-complement addition: carries out of the top byte come back in at the bottom, until
    // none is left.
    loop {
        let mut carry = 0u32;
        for slot in sum.iter_mut().rev() {
            *slot += carry;
            carry = *slot >> 8;
            *slot &= 0xff;
        }
        if carry == 0 {
            break;
        }
        sum[n - 1] += carry;
    }
    for (o, s) in out.iter_mut().zip(&sum) {
        *o = *s as u8;
    }
}

fn gcd(mut a: usize, mut b: usize) -> usize {
    while b != 0 {
        (a, b) = (b, a % b);
    }
    a
}
