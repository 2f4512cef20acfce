//! The pin readers, YAML and JSON (domain/pins.rs, domain/pins_multiarch.rs): first line the file's path, then its text.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| therock_artifacts::fuzzing::pins(data));
