# Turnpike: kubebuilder-style targets. Everything a new machine needs is built
# or installed by these targets themselves (Go modules, envtest binaries,
# Debian packages); nothing prebuilt is downloaded.

SHELL := /usr/bin/env bash -o pipefail
.SHELLFLAGS := -ec

# The Go toolchain every target builds and tests with: go1.27.3, which the go
# command fetches from the Go module proxy (the machines have go1.26.8, whose
# standard library has reachable vulnerabilities fixed in go1.26.9/10; see
# docs/security.md). Set GOTOOLCHAIN=local to use the installed Go instead.
export GOTOOLCHAIN ?= go1.27.3

BIN ?= $(CURDIR)/bin
CONTROLLER_GEN_VERSION ?= v0.23.0
GOLANGCI_LINT_VERSION ?= v2.15.0
GOVULNCHECK_VERSION ?= v1.9.0
VULNDB_VERSION ?= v0.0.0-20261105234957-e22db6528018
CONTROLLER_GEN ?= $(BIN)/controller-gen
GOLANGCI_LINT ?= $(BIN)/golangci-lint
GOVULNCHECK ?= $(BIN)/govulncheck-$(GOVULNCHECK_VERSION)
INDEXDB ?= $(BIN)/indexdb-$(VULNDB_VERSION)
VULNDB ?= $(BIN)/vulndb-$(VULNDB_VERSION)
HELM_VERSION ?= v3.22.0
HELM ?= $(BIN)/helm
# The Lambda Runtime Interface Emulator (FUNCTION tests), built from the Go
# module proxy; keep in step with test/harness/rie.go.
RIE_MODULE ?= github.com/aws/aws-lambda-runtime-interface-emulator/cmd/aws-lambda-rie@v0.0.0-20261030222936-bef5c4ba774d
RIE ?= $(BIN)/aws-lambda-rie
IMG ?= turnpike:dev
ENVTEST_ASSETS ?= $(BIN)/k8s
GO_TEST_FLAGS ?= -count=1 -timeout 30m

.PHONY: all
all: build

##@ Development

.PHONY: generate
generate: $(CONTROLLER_GEN) ## Generate deepcopy code.
	$(CONTROLLER_GEN) object:headerFile=hack/boilerplate.go.txt paths=./api/...

.PHONY: manifests
manifests: $(CONTROLLER_GEN) ## Generate CRDs and RBAC from markers.
	$(CONTROLLER_GEN) crd rbac:roleName=turnpike paths=./api/... paths=./controllers/cluster/... \
		output:crd:artifacts:config=config/crd/bases output:rbac:artifacts:config=config/rbac
	$(MAKE) chart-crds

.PHONY: chart-crds
chart-crds: ## Copy the generated CRDs into the Helm chart (charts/turnpike/crds).
	rm -f charts/turnpike/crds/*.yaml
	cp config/crd/bases/*.yaml charts/turnpike/crds/

.PHONY: check-generated
check-generated: generate manifests ## Fail when generated files are not committed.
	@git diff --exit-code -- api config/crd config/rbac charts/turnpike/crds || { echo "generated files are stale: run 'make generate manifests' and commit"; exit 1; }

.PHONY: fmt
fmt: ## gofmt the tree.
	go fmt ./...

.PHONY: vet
vet: ## go vet the tree.
	go vet ./...

.PHONY: lint
lint: $(GOLANGCI_LINT) ## golangci-lint with the layout rules of architecture.md, file-size check, govulncheck.
	$(GOLANGCI_LINT) run ./...
	hack/check-file-size.sh
	$(MAKE) vulncheck

.PHONY: vulncheck
vulncheck: $(GOVULNCHECK) $(VULNDB) ## govulncheck on a local database built from golang.org/x/vulndb (no network); fails on a reachable vulnerability.
	$(GOVULNCHECK) -db file://$(VULNDB) -format json ./... | go run ./hack/vulncheck -accepted hack/vulncheck/accepted-stdlib.txt

.PHONY: test
test: deps envtest helm rie check-generated ## Unit, golden, dataplane, standalone, envtest and e2e tests.
	go test $(GO_TEST_FLAGS) ./...
	go test $(GO_TEST_FLAGS) -race ./dataplane/... ./controllers/ ./controllers/translate/...
	$(MAKE) fuzz FUZZTIME=10s

.PHONY: chaos
chaos: deps envtest ## Faults under load with real processes (test/chaos, ~5 min): SIGTERM, API server outage, Redis restart, endpoint churn, table swaps.
	TURNPIKE_CHAOS=1 go test $(GO_TEST_FLAGS) -v ./test/chaos/

FUZZTIME ?= 30s
.PHONY: fuzz
fuzz: ## Run each fuzz target for FUZZTIME, e.g. make fuzz FUZZTIME=10m (corpora: f.Add seeds and each package's testdata/fuzz).
	go test -run='^$$' -fuzz='^FuzzParseRouteKey$$' -fuzztime=$(FUZZTIME) ./dataplane/table/
	go test -run='^$$' -fuzz='^FuzzAllowOrigin$$' -fuzztime=$(FUZZTIME) ./dataplane/table/
	go test -run='^$$' -fuzz='^FuzzParsePath$$' -fuzztime=$(FUZZTIME) ./dataplane/
	go test -run='^$$' -fuzz='^FuzzTranslate$$' -fuzztime=$(FUZZTIME) ./controllers/translate/
	go test -run='^$$' -fuzz='^FuzzDecodeResponse$$' -fuzztime=$(FUZZTIME) ./dataplane/lambda/
	go test -run='^$$' -fuzz='^FuzzImport$$' -fuzztime=$(FUZZTIME) ./controllers/awsimport/
	go test -run='^$$' -fuzz='^FuzzTokenHeaderAndClaims$$' -fuzztime=$(FUZZTIME) ./dataplane/auth/jwt/
	go test -run='^$$' -fuzz='^FuzzParseKeys$$' -fuzztime=$(FUZZTIME) ./dataplane/auth/jwt/
	go test -run='^$$' -fuzz='^FuzzRequestParameters$$' -fuzztime=$(FUZZTIME) ./dataplane/mapping/
	go test -run='^$$' -fuzz='^FuzzRouteSelection$$' -fuzztime=$(FUZZTIME) ./dataplane/mapping/
	go test -run='^$$' -fuzz='^FuzzCompileFormat$$' -fuzztime=$(FUZZTIME) ./dataplane/reqctx/

.PHONY: helm
helm: $(HELM) ## Build the helm CLI from the Go module proxy into bin/ (test/helm uses it).

.PHONY: rie
rie: $(RIE) ## Build the Lambda Runtime Interface Emulator into bin/ (FUNCTION tests run Lambda handlers under it).

.PHONY: envtest
envtest: ## Build kube-apiserver and etcd from Go modules into bin/k8s (once).
	hack/envtest-assets.sh

.PHONY: deps
deps: ## Install the Debian packages the tests use (iproute2 for network namespaces).
	hack/install-deps.sh

.PHONY: testdata
testdata: ## Regenerate golden files.
	go test ./controllers/translate/... -update
	go test ./controllers/awsimport/... -update

##@ Build

.PHONY: build
build: ## Build bin/turnpike.
	CGO_ENABLED=0 go build -trimpath -o $(BIN)/turnpike ./cmd/turnpike

.PHONY: run
run: build ## Run standalone on config/samples with a demo backend, and print curl lines.
	hack/run-demo.sh

.PHONY: bench
bench: ## Turnpike vs nginx under load, swaps, propagation, micro-benchmarks; rate limits at 2x overload and Redis vs in-process; response cache hits vs plain proxy and nginx proxy_cache, request validation; rewrites docs/benchmarks.md (~12 min; not part of test).
	hack/bench/run.sh

.PHONY: docker-build
docker-build: ## Build the container image (needs a Docker engine).
	docker build -t $(IMG) .

$(CONTROLLER_GEN):
	GOBIN=$(BIN) go install sigs.k8s.io/controller-tools/cmd/controller-gen@$(CONTROLLER_GEN_VERSION)

$(HELM):
	GOBIN=$(BIN) go install helm.sh/helm/v3/cmd/helm@$(HELM_VERSION)

$(RIE):
	CGO_ENABLED=0 GOBIN=$(BIN) go install $(RIE_MODULE)

$(GOLANGCI_LINT):
	GOBIN=$(BIN) go install github.com/golangci/golangci-lint/v2/cmd/golangci-lint@$(GOLANGCI_LINT_VERSION)

$(GOVULNCHECK):
	tmp=$$(mktemp -d) && GOBIN=$$tmp go install golang.org/x/vuln/cmd/govulncheck@$(GOVULNCHECK_VERSION) && mkdir -p $(BIN) && mv $$tmp/govulncheck $@ && rm -rf $$tmp

$(INDEXDB):
	tmp=$$(mktemp -d) && GOBIN=$$tmp go install golang.org/x/vulndb/cmd/indexdb@$(VULNDB_VERSION) && mkdir -p $(BIN) && mv $$tmp/indexdb $@ && rm -rf $$tmp

$(VULNDB): $(INDEXDB)
	hack/vulndb.sh $(VULNDB_VERSION) $(INDEXDB) $@

.PHONY: help
help: ## Show targets.
	@awk 'BEGIN {FS = ":.*##"} /^[a-zA-Z_-]+:.*?##/ { printf "  %-16s %s\n", $$1, $$2 }' $(MAKEFILE_LIST)
