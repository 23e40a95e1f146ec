//! s3-api: a token-protected REST API over AWS for S3 buckets, their IAM policies, groups and users.
//!
//! Layers, with dependencies pointing one way: `http` → `orchestration` → `aws` / `domain`.

pub mod app;
pub mod aws;
pub mod config;
pub mod convert;
pub mod deadline;
pub mod domain;
pub mod http;
pub mod orchestration;
pub mod server;
pub mod telemetry;
pub mod version;
