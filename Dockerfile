# maskstream: a static binary on a distroless, non-root base.
# Build: docker build -t maskstream .
FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=dev
RUN CGO_ENABLED=0 GOOS=linux go build -trimpath -ldflags "-s -w -X main.version=${VERSION}" -o /out/maskstream ./cmd/maskstream

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/maskstream /usr/local/bin/maskstream
COPY rulesets/examples /etc/maskstream/rulesets
USER nonroot:nonroot
EXPOSE 8080
ENTRYPOINT ["/usr/local/bin/maskstream"]
CMD ["run", "-c", "/etc/maskstream/maskstream.yaml"]
