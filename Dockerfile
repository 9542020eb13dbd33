# syntax=docker/dockerfile:1
# The bucketcors operator image.
#
#   docker build -t bucketcors:dev .
#
# Stage 1 builds the `bucketcors` binary exactly as this workspace does on a
# Debian bookworm machine (glibc; rustls with aws-lc-rs and ring, so no
# OpenSSL). Stage 2 is distroless "cc" on the same Debian release: glibc,
# libgcc and CA certificates, no shell, no package manager, user 65532.
# operator/tests/dockerfile.rs checks that the path copied below is the one
# this cargo command produces, and that user and port match the Helm chart.

FROM rust:1-bookworm AS build
WORKDIR /src
COPY . .
# rust-toolchain.toml selects the toolchain. The target dir is a cache
# mount, so the binary is copied out of it within the same step.
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    --mount=type=cache,target=/src/target,id=bucketcors-target \
    cargo build --locked --release -p bucketcors-operator --bin bucketcors \
 && mkdir -p /out \
 && cp target/release/bucketcors /out/bucketcors

FROM gcr.io/distroless/cc-debian12:nonroot
COPY --from=build /out/bucketcors /usr/local/bin/bucketcors
USER 65532:65532
EXPOSE 8080
ENTRYPOINT ["/usr/local/bin/bucketcors"]
CMD ["run"]
