#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| sealstream_testkit::fuzzing::sasl_frames(data));
