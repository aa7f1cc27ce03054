//! The published vectors: RFC 3961 A.1 (n-fold), RFC 3962 B (string-to-key and ciphertext
//! stealing) and RFC 8009 A (string-to-key, key derivation, encryption, checksums).

use super::cipher::Aes;
use super::derive::{Sha2, kdf_hmac_sha2};
use super::nfold::nfold;
use super::*;
use crate::enctype::Enctype;

fn hex(s: &str) -> Vec<u8> {
    assert!(s.len() % 2 == 0, "{s}");
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

/// RFC 3961 A.1: (output bits, input, output).
const NFOLD: &[(usize, &str, &str)] = &[
    (64, "303132333435", "be072631276b1955"),
    (56, "70617373776f7264", "78a07b6caf85fa"),
    (
        64,
        "526f75676820436f6e73656e7375732c20616e642052756e6e696e6720436f6465",
        "bb6ed30870b7f0e0",
    ),
    (
        168,
        "70617373776f7264",
        "59e4a8ca7c0385c3c37b3f6d2000247cb6e6bd5b3e",
    ),
    (
        192,
        "4d41535341434856534554545320494e53544954565445204f4620544543484e4f4c4f4759",
        "db3b0d8f0b061e603282b308a50841229ad798fab9540c1b",
    ),
    (168, "51", "518a54a215a8452a518a54a215a8452a518a54a215"),
    (168, "6261", "fb25d531ae8974499f52fd92ea9857c4ba24cf297e"),
    (64, "6b65726265726f73", "6b65726265726f73"),
    (128, "6b65726265726f73", "6b65726265726f737b9b5b2b93132b93"),
    (
        168,
        "6b65726265726f73",
        "8372c236344e5f1550cd0747e15d62ca7a5a3bcea4",
    ),
    (
        256,
        "6b65726265726f73",
        "6b65726265726f737b9b5b2b93132b935c9bdcdad95c9899c4cae4dee6d6cae4",
    ),
];

#[test]
fn rfc3961_nfold() {
    for (bits, input, expected) in NFOLD {
        let mut out = vec![0u8; bits / 8];
        nfold(&hex(input), &mut out);
        assert_eq!(out, hex(expected), "{bits}-fold of {input}");
    }
}

/// RFC 3962 B: (iterations, pass, salt, AES-128 key, AES-256 key), all hex.
const RFC3962_S2K: &[(u32, &str, &str, &str, &str)] = &[
    (
        1,
        "70617373776f7264",
        "415448454e412e4d49542e4544557261656275726e",
        "42263c6e89f4fc28b8df68ee09799f15",
        "fe697b52bc0d3ce14432ba036a92e65bbb52280990a2fa27883998d72af30161",
    ),
    (
        2,
        "70617373776f7264",
        "415448454e412e4d49542e4544557261656275726e",
        "c651bf29e2300ac27fa469d693bdda13",
        "a2e16d16b36069c135d5e9d2e25f896102685618b95914b467c67622225824ff",
    ),
    (
        1200,
        "70617373776f7264",
        "415448454e412e4d49542e4544557261656275726e",
        "4c01cd46d632d01e6dbe230a01ed642a",
        "55a6ac740ad17b4846941051e1e8b0a7548d93b0ab30a8bc3ff16280382b8c2a",
    ),
    (
        5,
        "70617373776f7264",
        "1234567878563412",
        "e9b23d52273747dd5c35cb55be619d8e",
        "97a4e786be20d81a382d5ebc96d5909cabcdadc87ca48f574504159f16c36e31",
    ),
    (
        1200,
        "58585858585858585858585858585858585858585858585858585858585858585858585858585858585858585858585858585858585858585858585858585858",
        "706173732070687261736520657175616c7320626c6f636b2073697a65",
        "59d1bb789a828b1aa54ef9c2883f69ed",
        "89adee3608db8bc71f1bfbfe459486b05618b70cbae22092534e56c553ba4b34",
    ),
    (
        1200,
        "5858585858585858585858585858585858585858585858585858585858585858585858585858585858585858585858585858585858585858585858585858585858",
        "7061737320706872617365206578636565647320626c6f636b2073697a65",
        "cb8005dc5f90179a7f02104c0018751d",
        "d78c5c9cb872a8c9dad4697f0bb5b2d21496c82beb2caeda2112fceea057401b",
    ),
    (
        50,
        "f09d849e",
        "4558414d504c452e434f4d7069616e697374",
        "f149c1f2e154a73452d43e7fe62a56e5",
        "4b6d9839f84406df1f09cc166db4b83c571848b784a3d6bdc346589a3e393f9e",
    ),
];

#[test]
fn rfc3962_string_to_key() {
    for (iterations, pass, salt, aes128, aes256) in RFC3962_S2K {
        let params = iterations.to_be_bytes();
        for (enctype, expected) in [
            (Enctype::Aes128CtsHmacSha196, aes128),
            (Enctype::Aes256CtsHmacSha196, aes256),
        ] {
            let key = Key::from_password(enctype, &hex(pass), &hex(salt), Some(&params)).unwrap();
            assert_eq!(
                key.as_bytes(),
                hex(expected),
                "{enctype}, {iterations} iterations"
            );
        }
    }
}

/// RFC 3962 B, AES-128 with ciphertext stealing and a zero IV: (input, output).
const RFC3962_CTS_KEY: &str = "636869636b656e207465726979616b69";
const RFC3962_CTS: &[(&str, &str)] = &[
    (
        "4920776f756c64206c696b652074686520",
        "c6353568f2bf8cb4d8a580362da7ff7f97",
    ),
    (
        "4920776f756c64206c696b65207468652047656e6572616c20476175277320",
        "fc00783e0efdb2c1d445d4c8eff7ed2297687268d6ecccc0c07b25e25ecfe5",
    ),
    (
        "4920776f756c64206c696b65207468652047656e6572616c2047617527732043",
        "39312523a78662d5be7fcbcc98ebf5a897687268d6ecccc0c07b25e25ecfe584",
    ),
    (
        "4920776f756c64206c696b65207468652047656e6572616c20476175277320436869636b656e2c20706c656173652c",
        "97687268d6ecccc0c07b25e25ecfe584b3fffd940c16a18c1b5549d2f838029e39312523a78662d5be7fcbcc98ebf5",
    ),
    (
        "4920776f756c64206c696b65207468652047656e6572616c20476175277320436869636b656e2c20706c656173652c20",
        "97687268d6ecccc0c07b25e25ecfe5849dad8bbb96c4cdc03bc103e1a194bbd839312523a78662d5be7fcbcc98ebf5a8",
    ),
    (
        "4920776f756c64206c696b65207468652047656e6572616c20476175277320436869636b656e2c20706c656173652c20616e6420776f6e746f6e20736f75702e",
        "97687268d6ecccc0c07b25e25ecfe58439312523a78662d5be7fcbcc98ebf5a84807efe836ee89a526730dbc2f7bc8409dad8bbb96c4cdc03bc103e1a194bbd8",
    ),
];

#[test]
fn rfc3962_ciphertext_stealing() {
    let aes = Aes::new(&hex(RFC3962_CTS_KEY));
    for (input, output) in RFC3962_CTS {
        let mut data = hex(input);
        aes.encrypt_cts(&mut data);
        assert_eq!(data, hex(output), "{} bytes", data.len());
        aes.decrypt_cts(&mut data);
        assert_eq!(data, hex(input));
    }
}

/// RFC 8009 A: (enctype, pass, salt, key), 32768 iterations.
const RFC8009_S2K: &[(Enctype, &str, &str, &str)] = &[
    (
        Enctype::Aes128CtsHmacSha256128,
        "password",
        "10df9dd783e5bc8acea1730e74355f61415448454e412e4d49542e4544557261656275726e",
        "089bca48b105ea6ea77ca5d2f39dc5e7",
    ),
    (
        Enctype::Aes256CtsHmacSha384192,
        "password",
        "10df9dd783e5bc8acea1730e74355f61415448454e412e4d49542e4544557261656275726e",
        "45bd806dbf6a833a9cffc1c94589a222367a79bc21c413718906e9f578a78467",
    ),
];

#[test]
fn rfc8009_string_to_key() {
    for (enctype, pass, salt, expected) in RFC8009_S2K {
        // 32768 is the default; the same count given as s2kparams gives the same key.
        for params in [None, Some(&32768u32.to_be_bytes()[..])] {
            let key = Key::from_password(*enctype, pass.as_bytes(), &hex(salt), params).unwrap();
            assert_eq!(key.as_bytes(), hex(expected), "{enctype}");
        }
    }
}

/// RFC 8009 A, usage 2: (enctype, base key, Kc, Ke, Ki).
const RFC8009_DERIVE: &[(Enctype, &str, &str, &str, &str)] = &[
    (
        Enctype::Aes128CtsHmacSha256128,
        "3705d96080c17728a0e800eab6e0d23c",
        "b31a018a48f54776f403e9a396325dc3",
        "9b197dd1e8c5609d6e67c3e37c62c72e",
        "9fda0e56ab2d85e1569a688696c26a6c",
    ),
    (
        Enctype::Aes256CtsHmacSha384192,
        "6d404d37faf79f9df0d33568d320669800eb4836472ea8a026d16b7182460c52",
        "ef5718be86cc84963d8bbb5031e9f5c4ba41f28faf69e73d",
        "56ab22bee63d82d7bc5227f6773f8ea7a5eb1c825160c38312980c442e5c7e49",
        "69b16514e3cd8e56b82010d5c73012b622c4d00ffc23ed1f",
    ),
];

#[test]
fn rfc8009_key_derivation() {
    for (enctype, base, kc, ke, ki) in RFC8009_DERIVE {
        let hash = if *enctype == Enctype::Aes128CtsHmacSha256128 {
            Sha2::Sha256
        } else {
            Sha2::Sha384
        };
        let label = |suffix: u8| [0, 0, 0, 2, suffix];
        let base = hex(base);
        for (suffix, expected) in [(0x99, kc), (0xAA, ke), (0x55, ki)] {
            let bits = (hex(expected).len() * 8) as u32;
            let derived = kdf_hmac_sha2(hash, &base, &label(suffix), bits);
            assert_eq!(&derived[..], hex(expected), "{enctype} {suffix:02x}");
        }
    }
}

/// RFC 8009 A, usage 2: (enctype, base key, plaintext, confounder, ciphertext).
const RFC8009_ENCRYPT: &[(Enctype, &str, &str, &str, &str)] = &[
    (
        Enctype::Aes128CtsHmacSha256128,
        "3705d96080c17728a0e800eab6e0d23c",
        "",
        "7e5895eaf2672435bad817f545a37148",
        "ef85fb890bb8472f4dab20394dca781dad877eda39d50c870c0d5a0a8e48c718",
    ),
    (
        Enctype::Aes128CtsHmacSha256128,
        "3705d96080c17728a0e800eab6e0d23c",
        "000102030405",
        "7bca285e2fd4130fb55b1a5c83bc5b24",
        "84d7f30754ed987bab0bf3506beb09cfb55402cef7e6877ce99e247e52d16ed4421dfdf8976c",
    ),
    (
        Enctype::Aes128CtsHmacSha256128,
        "3705d96080c17728a0e800eab6e0d23c",
        "000102030405060708090a0b0c0d0e0f",
        "56ab21713ff62c0a1457200f6fa9948f",
        "3517d640f50ddc8ad3628722b3569d2ae07493fa8263254080ea65c1008e8fc295fb4852e7d83e1e7c48c37eebe6b0d3",
    ),
    (
        Enctype::Aes128CtsHmacSha256128,
        "3705d96080c17728a0e800eab6e0d23c",
        "000102030405060708090a0b0c0d0e0f1011121314",
        "a7a4e29a4728ce10664fb64e49ad3fac",
        "720f73b18d9859cd6ccb4346115cd336c70f58edc0c4437c5573544c31c813bce1e6d072c186b39a413c2f92ca9b8334a287ffcbfc",
    ),
    (
        Enctype::Aes256CtsHmacSha384192,
        "6d404d37faf79f9df0d33568d320669800eb4836472ea8a026d16b7182460c52",
        "",
        "f764e9fa15c276478b2c7d0c4e5f58e4",
        "41f53fa5bfe7026d91faf9be959195a058707273a96a40f0a01960621ac612748b9bbfbe7eb4ce3c",
    ),
    (
        Enctype::Aes256CtsHmacSha384192,
        "6d404d37faf79f9df0d33568d320669800eb4836472ea8a026d16b7182460c52",
        "000102030405",
        "b80d3251c1f6471494256ffe712d0b9a",
        "4ed7b37c2bcac8f74f23c1cf07e62bc7b75fb3f637b9f559c7f664f69eab7b6092237526ea0d1f61cb20d69d10f2",
    ),
    (
        Enctype::Aes256CtsHmacSha384192,
        "6d404d37faf79f9df0d33568d320669800eb4836472ea8a026d16b7182460c52",
        "000102030405060708090a0b0c0d0e0f",
        "53bf8a0d105265d4e276428624ce5e63",
        "bc47ffec7998eb91e8115cf8d19dac4bbbe2e163e87dd37f49beca92027764f68cf51f14d798c2273f35df574d1f932e40c4ff255b36a266",
    ),
    (
        Enctype::Aes256CtsHmacSha384192,
        "6d404d37faf79f9df0d33568d320669800eb4836472ea8a026d16b7182460c52",
        "000102030405060708090a0b0c0d0e0f1011121314",
        "763e65367e864f02f55153c7e3b58af1",
        "40013e2df58e8751957d2878bcd2d6fe101ccfd556cb1eae79db3c3ee86429f2b2a602ac86fef6ecb647d6295fae077a1feb517508d2c16b4192e01f62",
    ),
];

#[test]
fn rfc8009_encryption() {
    for (enctype, base, plaintext, confounder, ciphertext) in RFC8009_ENCRYPT {
        let keys = Key::new(*enctype, &hex(base)).unwrap().derive(2);
        let mut data = [hex(confounder), hex(plaintext)].concat();
        let mut mac = vec![0u8; enctype.mac_len()];
        keys.encrypt(&mut data, &mut mac).unwrap();
        assert_eq!([&data[..], &mac[..]].concat(), hex(ciphertext), "{enctype}");
        keys.decrypt(&mut data, &mac).unwrap();
        assert_eq!(data, [hex(confounder), hex(plaintext)].concat());
        // Any flipped bit, in the ciphertext or the HMAC, is refused before decryption.
        let sealed = hex(ciphertext);
        for bit in 0..sealed.len() * 8 {
            let mut tampered = sealed.clone();
            tampered[bit / 8] ^= 1 << (bit % 8);
            let (data, mac) = tampered.split_at_mut(sealed.len() - enctype.mac_len());
            let err = keys.decrypt(data, mac).unwrap_err();
            assert_eq!(err.status(), sealstream::Status::MessageAltered);
        }
    }
}

/// RFC 8009 A, usage 2: (enctype, base key, plaintext, checksum).
const RFC8009_CHECKSUM: &[(Enctype, &str, &str, &str)] = &[
    (
        Enctype::Aes128CtsHmacSha256128,
        "3705d96080c17728a0e800eab6e0d23c",
        "000102030405060708090a0b0c0d0e0f1011121314",
        "d78367186643d67b411cba9139fc1dee",
    ),
    (
        Enctype::Aes256CtsHmacSha384192,
        "6d404d37faf79f9df0d33568d320669800eb4836472ea8a026d16b7182460c52",
        "000102030405060708090a0b0c0d0e0f1011121314",
        "45ee791567eefca37f4ac1e0222de80d43c3bfa06699672a",
    ),
];

#[test]
fn rfc8009_checksums() {
    for (enctype, base, plaintext, expected) in RFC8009_CHECKSUM {
        let keys = Key::new(*enctype, &hex(base)).unwrap().derive(2);
        let mut out = vec![0u8; enctype.checksum_len()];
        let plain = hex(plaintext);
        let (a, b) = plain.split_at(5);
        keys.checksum(&[a, b], &mut out).unwrap();
        assert_eq!(out, hex(expected), "{enctype}");
        assert!(keys.verify_checksum(&[&hex(plaintext)], &hex(expected)));
        let mut wrong = hex(expected);
        wrong[0] ^= 1;
        assert!(!keys.verify_checksum(&[&hex(plaintext)], &wrong));
    }
}
