//! A tar stream through the member judge and the tree model into a fresh directory (fetch/extract.rs, fetch/tree.rs): no panic, nothing outside it.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| therock_artifacts::fuzzing::extract_archive(data));
