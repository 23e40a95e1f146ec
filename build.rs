//! Records the git commit and the build time for `/v1/s3/version`. Docker builds, which have no `.git`, pass them
//! in as `S3API_GIT_HASH` / `S3API_BUILD_STAMP`.

use std::process::Command;

fn main() {
    println!("cargo:rerun-if-env-changed=S3API_GIT_HASH");
    println!("cargo:rerun-if-env-changed=S3API_BUILD_STAMP");
    // A new commit changes the branch's ref file (or packed-refs), not HEAD itself.
    println!("cargo:rerun-if-changed=.git/HEAD");
    println!("cargo:rerun-if-changed=.git/packed-refs");
    if let Ok(head) = std::fs::read_to_string(".git/HEAD") {
        if let Some(branch) = head.trim().strip_prefix("ref: ") {
            println!("cargo:rerun-if-changed=.git/{branch}");
        }
    }

    let hash = std::env::var("S3API_GIT_HASH")
        .ok()
        .filter(|h| !h.is_empty())
        .or_else(|| run("git", &["rev-parse", "--short=12", "HEAD"]))
        .unwrap_or_else(|| "unknown".into());
    let stamp = std::env::var("S3API_BUILD_STAMP")
        .ok()
        .filter(|s| !s.is_empty())
        .or_else(|| run("date", &["-u", "+%Y-%m-%dT%H:%M:%SZ"]))
        .unwrap_or_else(|| "unknown".into());
    println!("cargo:rustc-env=S3API_GIT_HASH={hash}");
    println!("cargo:rustc-env=S3API_BUILD_STAMP={stamp}");
}

fn run(cmd: &str, args: &[&str]) -> Option<String> {
    let out = Command::new(cmd).args(args).output().ok()?;
    let text = String::from_utf8(out.stdout).ok()?.trim().to_owned();
    (out.status.success() && !text.is_empty()).then_some(text)
}
