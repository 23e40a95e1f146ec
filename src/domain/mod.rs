//! The domain: validated names, tags, lifecycle presets, policy documents, the bookmark, and the kinds of failure
//! of an AWS call.

pub mod bookmark;
pub mod failure;
pub mod lifecycle;
pub mod names;
pub mod policy;
pub mod tags;
pub mod website;
