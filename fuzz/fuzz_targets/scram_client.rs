#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| sealstream_sasl::fuzzing::scram_client(data));
