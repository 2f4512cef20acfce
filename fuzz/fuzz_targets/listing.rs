//! A run prefix's S3 keys into a RunListing (domain/artifacts.rs) and therock_manifest.json (domain/manifest.rs).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| therock_artifacts::fuzzing::listing(data));
