//! Lifecycle presets a caller can name when creating a bucket.

use serde::{Deserialize, Serialize};

/// A named lifecycle configuration. Each is one enabled rule over the whole bucket.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub enum Lifecycle {
    /// Objects move to S3 Glacier Deep Archive one day after creation.
    #[serde(rename = "deep-archive")]
    DeepArchive,
    /// Objects move to S3 Glacier Flexible Retrieval one day after creation.
    #[serde(rename = "glacier")]
    Glacier,
    /// Objects move to S3 Intelligent-Tiering as soon as possible.
    #[serde(rename = "intelligent-tiering")]
    IntelligentTiering,
}

impl Lifecycle {
    pub const NAMES: &'static str = "deep-archive, glacier, intelligent-tiering";

    /// The rule's id, the storage class objects transition to, and after how many days.
    pub fn transition(self) -> (&'static str, &'static str, i32) {
        match self {
            Lifecycle::DeepArchive => ("deep-archive", "DEEP_ARCHIVE", 1),
            Lifecycle::Glacier => ("glacier", "GLACIER", 1),
            Lifecycle::IntelligentTiering => ("intelligent-tiering", "INTELLIGENT_TIERING", 0),
        }
    }
}
