# aa-flow: build, test and prove it.
#
#   make demo    the whole workflow on a real AppArmor kernel under qemu
#   make test    everything CI checks (installs what it needs)
#   make install the static binary, man pages and shell completions
#                (PREFIX=/usr/local, DESTDIR honoured; a Debian package
#                uses PREFIX=/usr)
#   make e2e     every e2e scenario in a Debian guest (GUEST=debian-12, the
#                default, or GUEST=debian-13)
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
             gcc libc6-dev libsystemd-dev man-db bash-completion
# The e2e guests are built from Debian's packages (mmdebstrap, mkfs.ext4 -d)
# and booted under qemu.
APT_E2E   := qemu-system-x86 mmdebstrap e2fsprogs
GUEST     ?= debian-12
FUZZTIME  ?= 10s

# Where make install puts things. /usr/local is the local administrator's
# (FHS, Debian Policy 9.1.2); a Debian package builds with PREFIX=/usr. The
# binary goes to sbin and its pages to section 8, beside apparmor_parser
# and aa-logprof: aa-flow administers the host's security policy. Each
# completion goes where that shell looks for the prefix: bash-completion
# and fish search both /usr/local/share and /usr/share; Debian's zsh reads
# /usr/share/zsh/vendor-completions for packages and
# /usr/local/share/zsh/site-functions for local installs.
PREFIX      ?= /usr/local
DESTDIR     ?=
SBINDIR     ?= $(PREFIX)/sbin
DATADIR     ?= $(PREFIX)/share
MANDIR      ?= $(DATADIR)/man
BASHCOMPDIR ?= $(DATADIR)/bash-completion/completions
ZSHCOMPDIR  ?= $(if $(filter /usr,$(PREFIX)),$(DATADIR)/zsh/vendor-completions,$(DATADIR)/zsh/site-functions)
FISHCOMPDIR ?= $(DATADIR)/fish/vendor_completions.d
# The boot loader of profile subdirectories (dist/): systemd searches
# PREFIX/lib/systemd/system for both /usr and /usr/local; its helper goes
# where Debian puts a package's private programs.
UNITDIR     ?= $(PREFIX)/lib/systemd/system
LIBDIR      ?= $(PREFIX)/lib/aa-flow
# The man pages' date: the last commit's, so that a rebuild is identical.
MANDATE     ?= $(shell git log -1 --format=%cs 2>/dev/null)

.PHONY: all build deps deps-e2e test unit lint fuzz bench e2e demo clean man completions install uninstall install-check

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

test: deps lint unit fuzz install-check

unit:
	$(GO) test -count=1 ./...
	CGO_ENABLED=1 $(GO) test -count=1 -tags sdjournal -run 'Journal' ./audit/ ./audit/source/

lint:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
		if [ -n "$$out" ]; then echo "gofmt would change: $$out"; exit 1; fi
	$(GO) vet ./...
	CGO_ENABLED=1 $(GO) vet -tags sdjournal ./audit/ ./audit/source/
	$(GO) tool staticcheck ./...
	CGO_ENABLED=1 $(GO) tool staticcheck -tags sdjournal ./audit/ ./audit/source/

# Short fuzz runs of every fuzz target (CI); FUZZTIME=5m for a longer run.
fuzz:
	@./scripts/fuzz-all $(FUZZTIME)

bench: deps build
	./scripts/bench

e2e: deps-e2e build
	GUEST=$(GUEST) ./e2e/run-all

demo: deps-e2e build
	GUEST=$(GUEST) ./e2e/demo

# The manual, one page per command, generated from the commands' own help.
man: build
	rm -rf bin/man
	$(BIN) manpages $(if $(MANDATE),--date $(MANDATE)) bin/man >/dev/null

completions: build
	mkdir -p bin/completions
	$(BIN) completion bash >bin/completions/aa-flow
	$(BIN) completion zsh >bin/completions/_aa-flow
	$(BIN) completion fish >bin/completions/aa-flow.fish

install: build man completions
	install -D -m 0755 $(BIN) $(DESTDIR)$(SBINDIR)/aa-flow
	install -d $(DESTDIR)$(MANDIR)/man8
	install -m 0644 bin/man/*.8 $(DESTDIR)$(MANDIR)/man8/
	install -D -m 0644 bin/completions/aa-flow $(DESTDIR)$(BASHCOMPDIR)/aa-flow
	install -D -m 0644 bin/completions/_aa-flow $(DESTDIR)$(ZSHCOMPDIR)/_aa-flow
	install -D -m 0644 bin/completions/aa-flow.fish $(DESTDIR)$(FISHCOMPDIR)/aa-flow.fish
	install -D -m 0755 dist/load-profiles $(DESTDIR)$(LIBDIR)/load-profiles
	install -d $(DESTDIR)$(UNITDIR)
	sed 's|@LIBDIR@|$(LIBDIR)|g' dist/aa-flow-profiles@.service >$(DESTDIR)$(UNITDIR)/aa-flow-profiles@.service
	chmod 0644 $(DESTDIR)$(UNITDIR)/aa-flow-profiles@.service

uninstall:
	rm -f $(DESTDIR)$(SBINDIR)/aa-flow $(DESTDIR)$(MANDIR)/man8/aa-flow.8 $(DESTDIR)$(MANDIR)/man8/aa-flow-*.8 \
		$(DESTDIR)$(BASHCOMPDIR)/aa-flow $(DESTDIR)$(ZSHCOMPDIR)/_aa-flow $(DESTDIR)$(FISHCOMPDIR)/aa-flow.fish \
		$(DESTDIR)$(LIBDIR)/load-profiles $(DESTDIR)$(UNITDIR)/aa-flow-profiles@.service

# make install into scratch directories, then check what landed: the static
# binary runs, man renders its pages, bash completes through the script.
install-check:
	./scripts/install-check

clean:
	rm -rf bin
