//! The layers point one way, `http` → `orchestration` → `aws` / `domain`: the HTTP layer names nothing of the AWS
//! layer or of the AWS SDK, so AWS objects and errors reach it only as the workflows' own records and failures.
//! (The workflows' AWS clients are private to the orchestration layer, which the compiler enforces.)

use std::path::{Path, PathBuf};

/// The lines of `source` that reach into the AWS layer or the SDK, as `line: text`.
fn reaches_aws(source: &str) -> Vec<String> {
    let path = regex::Regex::new(
        r"(^|[^\w.])aws::|::aws\b|[{,]\s*aws\b|\baws_(sdk|smithy|config|types|credential_types)\w*",
    )
    .unwrap();
    source
        .lines()
        .enumerate()
        .filter(|(_, line)| {
            let code = line.split("//").next().unwrap_or_default();
            path.is_match(code)
        })
        .map(|(n, line)| format!("{}: {}", n + 1, line.trim()))
        .collect()
}

fn rust_files(dir: &Path, files: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, files);
        } else if path.extension().is_some_and(|e| e == "rs") {
            files.push(path);
        }
    }
}

#[test]
fn the_check_finds_every_way_of_naming_the_aws_layer() {
    for reach in [
        "use crate::aws::AwsError;",
        "use crate::aws;",
        "use crate::{aws, domain};",
        "use crate::{domain, aws::s3::BucketState};",
        "fn f(e: crate::aws::ErrorKind) {}",
        "    if r.r#type == aws_sdk_route53::types::RrType::A {",
        "use aws_smithy_types::DateTime;",
        "let config = aws_config::defaults();",
        "use super::super::aws::AwsAccount;",
    ] {
        assert_eq!(reaches_aws(reach).len(), 1, "{reach}");
    }
    for fine in [
        "use crate::orchestration::records;",
        "// AWS answers 409 here: see crate::aws::s3",
        "let aws_says = e.message();",
        "format!(\"AWS {} {}\", a, b)",
    ] {
        assert!(reaches_aws(fine).is_empty(), "{fine}");
    }
}

#[test]
fn the_http_layer_imports_nothing_from_the_aws_layer() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/http");
    let mut files = Vec::new();
    rust_files(&dir, &mut files);
    assert!(files.len() >= 10, "the HTTP layer's files: {files:?}");
    let offences: Vec<String> = files
        .iter()
        .flat_map(|f| {
            let source = std::fs::read_to_string(f).unwrap();
            let name = f.strip_prefix(&dir).unwrap().display().to_string();
            reaches_aws(&source)
                .into_iter()
                .map(move |line| format!("src/http/{name}:{line}"))
        })
        .collect();
    assert!(
        offences.is_empty(),
        "the HTTP layer reaches into the AWS layer:\n{}",
        offences.join("\n")
    );
}
