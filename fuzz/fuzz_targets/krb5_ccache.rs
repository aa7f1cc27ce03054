#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| sealstream_krb5::fuzzing::krb5_ccache(data));
