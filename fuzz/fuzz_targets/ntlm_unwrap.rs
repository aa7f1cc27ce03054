#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| sealstream_ntlm::fuzzing::ntlm_unwrap(data));
