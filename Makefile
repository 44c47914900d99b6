# aa-flow: build, test and prove it.
#
#   make demo    the whole workflow on a real AppArmor kernel under qemu
#   make test    everything CI checks (installs what it needs)
#
# Every target installs its own system packages (Debian 12, as root) and Go
# modules; nothing needs to be set up by hand.

GO        ?= go
BIN       := bin/aa-flow
VERSION   ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
COMMIT    ?= $(shell git rev-parse --short=12 HEAD 2>/dev/null)
LDFLAGS   := -s -w -X main.version=$(VERSION) -X main.commit=$(COMMIT)
# Debian packages the tests use: the real parser and profiles, AppArmor's
# Python tools as an oracle, a real journal writer, the C toolchain and
# headers of the optional sd-journal build (-tags sdjournal), and the VM for e2e.
APT_TEST  := apparmor apparmor-utils apparmor-profiles apparmor-profiles-extra python3-apparmor systemd-journal-remote \
             gcc libc6-dev libsystemd-dev
APT_E2E   := qemu-system-x86 busybox-static cpio gzip
FUZZTIME  ?= 10s

.PHONY: all build deps deps-e2e test unit lint fuzz bench e2e demo clean

all: build

build:
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $(BIN) ./cmd/aa-flow

# deps installs the Debian packages that are missing (one apt-get run, only
# when something is missing) and downloads the Go modules.
deps:
	@./scripts/apt-need $(APT_TEST)
	$(GO) mod download

deps-e2e:
	@./scripts/apt-need $(APT_E2E) $(APT_TEST)

test: deps lint unit fuzz

unit:
	$(GO) test -count=1 ./...
	CGO_ENABLED=1 $(GO) test -count=1 -tags sdjournal -run 'Journal' ./audit/

lint:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
		if [ -n "$$out" ]; then echo "gofmt would change: $$out"; exit 1; fi
	$(GO) vet ./...
	CGO_ENABLED=1 $(GO) vet -tags sdjournal ./audit/
	$(GO) tool staticcheck ./...
	CGO_ENABLED=1 $(GO) tool staticcheck -tags sdjournal ./audit/

# Short fuzz runs of every fuzz target (CI); FUZZTIME=5m for a longer run.
fuzz:
	@./scripts/fuzz-all $(FUZZTIME)

bench: deps build
	./scripts/bench

e2e: deps-e2e build
	./e2e/run-all

demo: deps-e2e build
	./e2e/demo

clean:
	rm -rf bin
