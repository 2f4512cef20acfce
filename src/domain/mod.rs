//! The pure domain: naming rules and selection over plain data. No I/O here.

pub mod artifacts;
pub mod bisect;
pub mod buckets;
pub mod digest;
pub mod families;
pub mod pins;
pub mod run;
pub mod select;
pub mod time;
pub mod units;
pub mod walk;
