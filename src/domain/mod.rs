//! The domain: validated names, tags, lifecycle presets, policy documents and the bookmark.

pub mod bookmark;
pub mod lifecycle;
pub mod names;
pub mod policy;
pub mod tags;
pub mod website;
