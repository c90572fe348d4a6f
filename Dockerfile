# Multi-stage build of a static, non-root turnpike image.
FROM golang:1.27 AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN CGO_ENABLED=0 go build -trimpath -ldflags "-s -w" -o /out/turnpike ./cmd/turnpike

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/turnpike /turnpike
USER 65532:65532
ENTRYPOINT ["/turnpike"]
CMD ["serve"]
