# syntax=docker/dockerfile:1
# jolt: a multi-stage build. The build stage compiles the release binary with the pinned Rust
# toolchain; the runtime stage is Debian slim with the binary alone, run as an unprivileged user.
FROM rust:1.95-bookworm AS build
WORKDIR /src
COPY . .
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    --mount=type=cache,target=/src/target \
    cargo build --release --locked --bin jolt \
    && install -D -m 0755 target/release/jolt /out/jolt \
    && strip /out/jolt

FROM debian:bookworm-slim
RUN useradd --system --uid 10001 --no-create-home --shell /usr/sbin/nologin jolt \
    && install -d -o jolt -g jolt /var/lib/jolt
COPY --from=build /out/jolt /usr/local/bin/jolt
# Reading the host's /proc, /sys and / (mounted read-only by compose.yaml) needs no privilege;
# jolt's scratch files (disk actions) live in /var/lib/jolt.
USER jolt
ENV JOLT_STATE_DIR=/var/lib/jolt
# metrics, control, simulated services
EXPOSE 9477 9478 9479
ENTRYPOINT ["/usr/local/bin/jolt"]
