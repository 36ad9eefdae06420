# Fika & Form: a static binary on a distroless base, running as non-root.
#
#   docker build -t fika-and-form .
#   docker run -p 8080:8080 -e LISTEN_ADDR=:8080 fika-and-form      # simulator demo
#
# deploy/compose.yaml runs two instances on PostgreSQL behind Caddy.

FROM golang:1.26-bookworm AS build
WORKDIR /src
# Modules first, so that a code change does not download them again.
COPY go.mod go.sum ./
RUN go mod download
COPY . .
# Pure Go (SQLite is modernc.org/sqlite): no C toolchain, a static binary.
RUN CGO_ENABLED=0 go build -trimpath -ldflags="-s -w" -o /out/storefront . \
 && CGO_ENABLED=0 go build -trimpath -ldflags="-s -w" -o /out/klarna-sim ./klarna/simulator/cmd/klarna-sim \
 && mkdir -p /out/data

FROM gcr.io/distroless/static-debian12:nonroot
WORKDIR /app
COPY --from=build /out/storefront /out/klarna-sim /usr/local/bin/
# SQLite's default file lives here; mount a volume to keep it.
COPY --from=build --chown=nonroot:nonroot /out/data /app/data
USER nonroot:nonroot
ENV PORT=8080 LOG_FORMAT=json
EXPOSE 8080
# The image has no shell or curl: the binary checks itself.
HEALTHCHECK --interval=10s --timeout=4s --start-period=5s --retries=3 \
  CMD ["/usr/local/bin/storefront", "-healthcheck", "http://127.0.0.1:8080"]
ENTRYPOINT ["/usr/local/bin/storefront"]
