# syntax=docker/dockerfile:1
# The s3-api image: the release binary on distroless/cc (glibc, libgcc, CA certificates for HTTPS to AWS; no
# shell, no package manager), running as the unprivileged user 65532.
#
#   docker build -t s3-api:0.1.0 \
#     --build-arg S3API_GIT_HASH="$(git rev-parse --short=12 HEAD)" \
#     --build-arg S3API_BUILD_STAMP="$(date -u +%Y-%m-%dT%H:%M:%SZ)" .
#   docker run --rm -p 8080:8080 -v "$PWD/my-config.toml:/etc/s3-api/config.toml:ro" \
#     -e S3API__TOKEN=… s3-api:0.1.0
#
# The configuration is not in the image: mount it at /etc/s3-api/config.toml (or point S3API_CONFIG elsewhere) and
# pass secrets as S3API__TOKEN, S3API__ACCOUNTS__<NAME>__SECRET, … environment variables.
# docker/compose.yaml runs the image against a local AWS emulator; deploy/kubernetes/ has the manifests.

FROM rust:1-bookworm AS builder
WORKDIR /build

# Dependencies first, built against stub sources: this layer is reused until Cargo.toml or Cargo.lock changes.
COPY Cargo.toml Cargo.lock build.rs ./
RUN mkdir src \
 && printf 'fn main() {}\n' > src/main.rs \
 && touch src/lib.rs \
 && cargo build --release --locked \
 && rm -rf src

# Declared after the dependency layer, because a new value invalidates every later RUN. build.rs reads both
# (there is no .git in the build context).
ARG S3API_GIT_HASH=unknown
ARG S3API_BUILD_STAMP=unknown
COPY src ./src
# Cargo decides freshness by mtime and the stubs are newer than the copied sources: touch them, or the stub
# binary would be shipped.
RUN touch src/main.rs src/lib.rs \
 && S3API_GIT_HASH="${S3API_GIT_HASH}" S3API_BUILD_STAMP="${S3API_BUILD_STAMP}" cargo build --release --locked \
 && install -m 0755 target/release/s3-api /usr/local/bin/s3-api \
 && /usr/local/bin/s3-api --version

FROM gcr.io/distroless/cc-debian12:nonroot
# Keep S3API_VERSION equal to Cargo.toml's version (scripts/check-deploy checks it).
ARG S3API_VERSION=0.1.0
ARG S3API_GIT_HASH=unknown
ARG S3API_BUILD_STAMP=unknown
# The repository URL, for the source label (AGPL-3.0: network users are entitled to the source).
ARG S3API_SOURCE=""
LABEL org.opencontainers.image.title="s3-api" \
      org.opencontainers.image.description="REST API over AWS for S3 buckets, their IAM users and static websites" \
      org.opencontainers.image.version="${S3API_VERSION}" \
      org.opencontainers.image.revision="${S3API_GIT_HASH}" \
      org.opencontainers.image.created="${S3API_BUILD_STAMP}" \
      org.opencontainers.image.licenses="AGPL-3.0-only" \
      org.opencontainers.image.source="${S3API_SOURCE}"

COPY --from=builder /usr/local/bin/s3-api /usr/local/bin/s3-api
COPY LICENSE /usr/share/doc/s3-api/LICENSE
# Numeric, so that Kubernetes' runAsNonRoot can verify it (the base image's "nonroot" user is 65532).
USER 65532:65532
ENV S3API_CONFIG=/etc/s3-api/config.toml
EXPOSE 8080
# The image has no curl: the binary asks GET /v1/s3/ping itself. It checks 127.0.0.1:8080; a container that
# listens elsewhere needs its own health check (`s3-api healthcheck --address HOST:PORT`).
HEALTHCHECK --interval=30s --timeout=5s --start-period=10s --retries=3 \
  CMD ["/usr/local/bin/s3-api", "healthcheck"]
ENTRYPOINT ["/usr/local/bin/s3-api"]
CMD ["serve"]
