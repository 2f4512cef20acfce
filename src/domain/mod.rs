//! The pure domain: naming rules and selection over plain data. No I/O here.

pub mod artifacts;
pub mod bisect;
pub mod buckets;
pub mod digest;
pub mod families;
pub mod manifest;
pub mod pins;
// Issue 22 phase A: the rules are in place and tested; phase B wires them into resolve/.
#[allow(dead_code)]
pub mod pins_multiarch;
pub mod rejection;
pub mod run;
pub mod select;
pub mod sha;
pub mod status;
pub mod time;
pub mod units;
pub mod walk;
pub mod winname;
#[allow(dead_code)]
pub mod workflows;
