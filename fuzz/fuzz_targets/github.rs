//! GitHub's JSON into the domain's runs, commits and jobs (sources/github/api.rs), a Link header, a timestamp.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| therock_artifacts::fuzzing::github(data));
