#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| sealstream_tls::fuzzing::tls_unseal(data));
