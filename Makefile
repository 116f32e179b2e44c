# maskstream: every task a developer or CI runs. `make help` lists them.
GO      ?= go
BIN     ?= bin/maskstream
PKGS    ?= ./...
# -race doubles test time on 2 cores; CI sets it, `make test-fast` skips it.
RACE    ?= -race
BENCHTIME ?= 2s

.PHONY: help build test test-fast test-interop bench bench-engine bench-textscan bench-kafka bench-http demo lint fuzz clean

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-14s %s\n", $$1, $$2}'

build: ## build bin/maskstream
	$(GO) build -o $(BIN) ./cmd/maskstream

test: ## run every unit and in-process integration test (kfake, embedded NATS)
	$(GO) vet $(PKGS)
	$(GO) test $(RACE) -count=1 -timeout 20m $(PKGS)

test-fast: ## the tests without -race
	$(GO) test -count=1 -timeout 20m $(PKGS)

test-interop: build ## interop with real third-party clients (kcat, Debian's nats-server, chromium, promtool)
	MASKSTREAM_BIN=$(abspath $(BIN)) $(GO) test -count=1 -timeout 20m -tags interop ./interop/...

# The targets run one after the other (never -j): they share the machine's
# CPUs and each compares against a baseline measured in its own run.
bench: ## every benchmark (engine, text scanners, Kafka route, HTTP endpoint) with baselines in the same run
	$(MAKE) --no-print-directory -j1 bench-engine bench-textscan bench-kafka bench-http

bench-engine: ## engine vs. a sonic decode+encode round trip of the same records
	$(GO) test -run '^$$' -bench 'BenchmarkEngine' -benchmem -benchtime $(BENCHTIME) ./engine/

bench-textscan: ## unstructured_text's hand-written scanners vs. the equivalent Go regexps
	$(GO) test -run '^$$' -bench 'BenchmarkTextscan' -benchmem -benchtime $(BENCHTIME) ./engine/textscan/

bench-http: ## the HTTP mask endpoint over loopback: fixed 1,000 req/s, then flat out with 32 connections, beside /healthz
	$(GO) test -run '^$$' -bench 'BenchmarkHTTP' -benchtime 1x -count 1 ./httpapi/

bench-kafka: ## the Kafka route (broker in its own process): orders.yaml vs. a ruleset that masks nothing vs. a plain franz-go copy, 200k records (MASKSTREAM_BENCH_RECORDS to change)
	$(GO) test -run '^$$' -bench 'BenchmarkKafkaRoute' -benchtime 1x -timeout 30m ./processor/

demo: build ## run the embedded demo: in-process Kafka and NATS, a producer, two masking routes
	$(BIN) demo

lint: ## gofmt and go vet
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || { gofmt -l $$(git ls-files '*.go'); echo "run gofmt -w on the files above"; exit 1; }
	$(GO) vet $(PKGS)
	$(GO) vet -tags interop ./interop/

fuzz: ## run each fuzz target for FUZZTIME (default 30s)
	@for t in $$(grep -rhoE '^func Fuzz[A-Za-z0-9_]+' --include='*_test.go' . | sed 's/func //'); do \
		pkg=$$(grep -rlE "^func $$t\(" --include='*_test.go' . | xargs -n1 dirname | head -1); \
		echo "== $$pkg $$t"; $(GO) test -run '^$$' -fuzz "^$$t$$" -fuzztime $${FUZZTIME:-30s} $$pkg || exit 1; \
	done

clean: ## remove build output
	rm -rf bin
