//! The pure domain: naming rules and selection over plain data. No I/O here.

pub mod artifacts;
pub mod bisect;
pub mod bisect_plan;
pub mod buckets;
pub mod components;
pub mod contains;
pub mod digest;
pub mod families;
pub mod gitlinks;
pub mod manifest;
pub mod pins;
pub mod pins_multiarch;
pub mod rejection;
pub mod release;
pub mod run;
pub mod select;
pub mod sha;
pub mod stage_impact;
pub mod stage_platforms;
pub mod stage_reuse;
pub mod status;
pub mod time;
pub mod topology;
pub mod units;
pub mod walk;
pub mod workflows;
