//! BUILD_TOPOLOGY.toml (domain/topology.rs, domain/stage_impact.rs): first line a changed input, then the file.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| therock_artifacts::fuzzing::topology(data));
