# stratbench as a container image, for load from several machines (deploy/kubernetes/).
#   docker build -t stratbench:latest .
# Stage 1 builds the release binary with the official Rust image; stage 2 is a slim Debian
# with the binary and the two pod commands only. The in-process strategies need nothing else.
# The networked ones start their servers inside the container, on loopback: add the packages
# scripts/system-packages.sh lists to stage 2.
FROM rust:1-bookworm AS build
WORKDIR /src
COPY . .
RUN cargo build --release --locked --bin stratbench \
    && cp target/release/stratbench /stratbench

FROM debian:bookworm-slim
COPY --from=build /stratbench /usr/local/bin/stratbench
COPY deploy/kubernetes/driver.sh deploy/kubernetes/merge.sh /usr/local/bin/
# Not root: a driver needs no privilege (PostgreSQL, if added, refuses to run as root).
RUN useradd --create-home --uid 10001 stratbench && mkdir /results && chown stratbench /results
USER stratbench
WORKDIR /home/stratbench
ENTRYPOINT ["/usr/local/bin/stratbench"]
CMD ["run"]
