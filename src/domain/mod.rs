//! The pure domain: naming rules and selection over plain data. No I/O here.

pub mod artifacts;
pub mod buckets;
pub mod families;
pub mod pins;
pub mod time;
pub mod walk;
