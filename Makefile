# watchparty — build, lint and test. `make test` is the one command that runs every test.
GO ?= go
STATICCHECK ?= $(GO) run honnef.co/go/tools/cmd/staticcheck@v0.8.2
GORELEASER ?= $(GO) run github.com/goreleaser/goreleaser/v2@v2.15.1

.PHONY: all build install fmt lint vet test test-go test-interop test-supabase bench release-check snapshot clean

all: build

build:
	$(GO) build -o bin/watchparty ./cmd/watchparty

install:
	$(GO) install ./cmd/watchparty

fmt:
	gofmt -s -w $$(git ls-files '*.go')

# go vet for the three release platforms; lint adds gofmt, staticcheck and the dead-code check
# (.ci/deadcode).
vet:
	$(GO) vet ./...
	GOOS=windows $(GO) vet ./...
	GOOS=darwin $(GO) vet ./...

lint: vet
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || { echo "gofmt needed:"; gofmt -l $$(git ls-files '*.go'); exit 1; }
	$(STATICCHECK) ./...
	./.ci/deadcode

# Every test: lint, Go tests with the race detector (real mpv, real server, real WebSockets),
# the supabase-js interop suite and the Supabase SQL/Edge Function suite.
test: lint test-go test-interop test-supabase

test-go:
	$(GO) test -race -timeout 15m ./...

test-interop:
	./interop/run.sh

# The SQL and Edge Function suite, then the shared contract cases against both backends.
test-supabase: build
	WATCHPARTY_BIN=$(CURDIR)/bin/watchparty ./supabase/tests/run.sh

bench:
	$(GO) test -run '^$$' -bench . -benchtime 3x ./party/ ./player/ ./realtime/phx/

# The README's pictures (docs/img/*.svg), made from a real party driven in tmux by
# tools/screenshots; the renderer, charmbracelet/freeze, is installed into bin/ first.
FREEZE_VERSION ?= v0.2.2

.PHONY: screenshots
screenshots:
	GOBIN=$(CURDIR)/bin $(GO) install github.com/charmbracelet/freeze@$(FREEZE_VERSION)
	$(GO) run ./tools/screenshots -freeze bin/freeze -out docs/img

release-check:
	$(GORELEASER) check

snapshot:
	$(GORELEASER) release --snapshot --clean

clean:
	rm -rf bin dist
