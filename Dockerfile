# syntax=docker/dockerfile:1
# The bucketcors operator image.
#
#   docker build -t bucketcors:dev .
#
# Stage 1 builds one static binary (musl, rustls: no libc or OpenSSL at run
# time); stage 2 is distroless "static": no shell, no package manager, a
# non-root user (65532), CA certificates for the provider and Cloudflare
# APIs. operator/tests/dockerfile.rs checks that the path copied below is
# the one this cargo command produces.

FROM rust:1-bookworm AS build
ARG RUST_TARGET=x86_64-unknown-linux-musl
RUN apt-get update \
 && apt-get install -y --no-install-recommends musl-tools \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . .
# rust-toolchain.toml selects the toolchain; the musl target is added to it.
RUN rustup target add "$RUST_TARGET"
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    --mount=type=cache,target=/src/target,id=bucketcors-target \
    cargo build --locked --release -p bucketcors-operator --bin bucketcors --target "$RUST_TARGET" \
 && mkdir -p /out \
 && cp "target/$RUST_TARGET/release/bucketcors" /out/bucketcors

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/bucketcors /usr/local/bin/bucketcors
USER 65532:65532
EXPOSE 8080
ENTRYPOINT ["/usr/local/bin/bucketcors"]
CMD ["run"]
