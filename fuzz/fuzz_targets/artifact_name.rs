//! The archive filename grammar (domain/artifacts.rs), a manifest line's stage, family and target names.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| therock_artifacts::fuzzing::artifact_name(data));
