#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| sealstream_negotiate::fuzzing::spnego_tokens(data));
