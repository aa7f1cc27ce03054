#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| sealstream_testkit::fuzzing::stream_read(data));
