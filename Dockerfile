# webra2-mock and webra2-client in one small image.
#   docker compose up          (see docker-compose.yml and the README)
#   docker build -t webra2-mock .
# Stage 1 builds both binaries; stage 2 carries only them, the system trust
# store (SMTP over TLS uses it) and curl (for the health check).
FROM rust:1-bookworm AS build
WORKDIR /src
COPY . .
RUN cargo build --release --locked -p webra2-mock -p webra2-client \
 && cp target/release/webra2-mock target/release/webra2-client /usr/local/bin/

FROM debian:bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates curl \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --create-home --home-dir /data webra2
COPY --from=build /usr/local/bin/webra2-mock /usr/local/bin/webra2-client /usr/local/bin/
USER webra2
WORKDIR /data
EXPOSE 8080 8081 8443
HEALTHCHECK --interval=5s --timeout=3s --retries=12 \
  CMD curl -fsS http://127.0.0.1:8080/healthz || exit 1
CMD ["webra2-mock", "serve"]
