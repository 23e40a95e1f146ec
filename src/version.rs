//! What was built: the crate version, the git commit and the build time, filled in by `build.rs`.

pub const VERSION: &str = env!("CARGO_PKG_VERSION");
pub const GIT_HASH: &str = env!("S3API_GIT_HASH");
pub const BUILD_STAMP: &str = env!("S3API_BUILD_STAMP");
