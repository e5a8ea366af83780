# Trailhound's build. `make demo` and `make test` work on a fresh machine with
# Go 1.26 and network access to the Go module proxy; everything else is
# installed here, into .bin/.

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

GO        ?= go
BIN       := $(CURDIR)/.bin
SHARED    ?= $(abspath $(CURDIR)/../shared)
DATASETS  ?= $(SHARED)/datasets
VULNDB    ?= $(SHARED)/vulndb
FUZZTIME  ?= 20000x

STATICCHECK_VERSION := v0.8.2
GOVULNCHECK_VERSION := v1.9.0

export TRAILHOUND_DATASETS := $(DATASETS)

.PHONY: help
help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'

$(BIN)/trailhound: $(shell find cmd shared -name '*.go' -not -name '*_test.go') go.mod go.sum
	$(GO) build -trimpath -o $@ ./cmd/trailhound

.PHONY: cli
cli: $(BIN)/trailhound ## build the trailhound CLI into .bin/

.PHONY: demo
demo: $(BIN)/trailhound ## replay the shipped attack story and print what Trailhound finds
	@echo "== trailhound replay events/demo: six days of an organisation's CloudTrail, 13,347 events"
	@$(BIN)/trailhound replay events/demo
	@echo "== trailhound investigate --identity chris@corp.ai events/demo (timeline cut to Saturday night)"
	@$(BIN)/trailhound investigate --identity chris@corp.ai events/demo 2>/dev/null | sed -n '/^Timeline/,$$p' | grep -E '^Timeline|2026-11-21T0[2-3]' | head -n 40

.PHONY: test
test: lint fuzz synth unit ## everything CI runs: lint, vet, vulnerabilities, short fuzzing, CDK synth + cfn-lint, tests

.PHONY: unit
unit: ## the Go tests, with moto's AWS emulator on a free loopback port (stopped afterwards)
	tests/emulator/with-moto $(GO) test -count=1 -timeout 30m ./...

.PHONY: race
race: ## the Go tests under the race detector
	$(GO) test -count=1 -race ./...

.PHONY: fuzz
fuzz: ## a short run of every fuzz target (FUZZTIME each: a count of inputs, or a duration such as 60s)
	@for spec in \
		./shared/cloudtrail:FuzzDecode \
		./shared/cloudtrail:FuzzReader \
		./shared/identity:FuzzAttribute ; do \
		pkg=$${spec%%:*}; target=$${spec##*:}; \
		echo "fuzz $$target ($(FUZZTIME))"; \
		$(GO) test -run='^$$' -fuzz="^$$target\$$" -fuzztime=$(FUZZTIME) -fuzzminimizetime=5s $$pkg > /tmp/trailhound-fuzz.log 2>&1 || { cat /tmp/trailhound-fuzz.log; exit 1; }; \
	done

.PHONY: lint
lint: $(BIN)/staticcheck $(BIN)/govulncheck ## gofmt, go vet, staticcheck, govulncheck
	@unformatted=$$(gofmt -l $$($(GO) list -f '{{.Dir}}' ./...)); \
	if [ -n "$$unformatted" ]; then echo "not gofmt'ed:"; echo "$$unformatted"; exit 1; fi
	$(GO) vet ./...
	$(BIN)/staticcheck ./...
	@if [ -d "$(VULNDB)" ]; then \
		echo "$(BIN)/govulncheck -db file://$(VULNDB) ./..."; \
		$(BIN)/govulncheck -db "file://$(VULNDB)" ./...; \
	else echo "govulncheck skipped: no offline vulnerability database at $(VULNDB)"; fi

$(BIN)/staticcheck:
	GOBIN=$(BIN) $(GO) install honnef.co/go/tools/cmd/staticcheck@$(STATICCHECK_VERSION)

$(BIN)/govulncheck:
	GOBIN=$(BIN) $(GO) install golang.org/x/vuln/cmd/govulncheck@$(GOVULNCHECK_VERSION)

.PHONY: bench
bench: ## a million events on one core (events/s, allocations, memory), then the serverless path's AWS calls and cost per event
	$(GO) run ./tests/bench -events 1000000
	tests/emulator/with-moto $(GO) run ./tests/awsbench

.PHONY: coverage
coverage: ## replay every public dataset and print the detection coverage table
	@$(GO) test -count=1 -v -run 'TestCoverage' ./tests/ -args -coverage-report | grep -Ev '^(=== RUN|--- PASS|PASS|ok )'

FUNCTIONS := detector correlator responder
DIST      := $(CURDIR)/dist

.PHONY: build
build: ## one bootstrap per Lambda function for provided.al2023 on arm64, zipped in dist/
	@mkdir -p $(DIST)
	@for fn in $(FUNCTIONS); do \
		GOOS=linux GOARCH=arm64 CGO_ENABLED=0 $(GO) build -tags lambda.norpc -trimpath -ldflags='-s -w' \
			-o $(DIST)/$$fn/bootstrap ./functions/$$fn || exit 1; \
		rm -f $(DIST)/$$fn.zip; (cd $(DIST)/$$fn && python3 -m zipfile -c ../$$fn.zip bootstrap); \
		printf '  %-11s bootstrap %6d KiB   zip %6d KiB\n' $$fn $$(( $$(stat -c %s $(DIST)/$$fn/bootstrap) / 1024 )) $$(( $$(stat -c %s $(DIST)/$$fn.zip) / 1024 )); \
	done

# The CDK CLI, pinned in _tools/cdk (a folder the go tool ignores: aws-cdk
# ships *.template.go files that break `go vet ./...` inside the module).
CDK_TOOLS := _tools/cdk
CDK       := $(CDK_TOOLS)/node_modules/.bin/cdk
export JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION := 20

$(CDK): $(CDK_TOOLS)/package.json $(CDK_TOOLS)/package-lock.json
	@command -v npm >/dev/null || { echo "make synth needs Node.js and npm (the CDK runs on Node.js)"; exit 1; }
	npm ci --prefix $(CDK_TOOLS) --no-audit --no-fund --loglevel=error
	@touch $@

.PHONY: synth
synth: build $(CDK) ## synthesise the CDK app (cdk.json's sample configuration, offline) into cdk.out/, then cfn-lint the templates
	@command -v cfn-lint >/dev/null || { echo "make synth needs cfn-lint (pip install cfn-lint==1.51.0)"; exit 1; }
	rm -rf cdk.out
	$(CDK) synth --no-version-reporting --no-notices --quiet --output cdk.out
	@templates=$$(find cdk.out -name '*.template.json' | sort); \
	echo "cfn-lint --non-zero-exit-code error ($$(echo "$$templates" | wc -l) templates)"; \
	cfn-lint --non-zero-exit-code error $$templates

.PHONY: golden
golden: ## rewrite the golden files from the current output (review the diff)
	$(GO) test ./cmd/trailhound -run Golden -update

.PHONY: clean
clean: ## remove build outputs
	rm -rf $(BIN) $(DIST) cdk.out
