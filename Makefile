# The few commands a newcomer needs. `make help` lists them.
.PHONY: help run test race sim account generate check screenshots bench perf

help: ## list the commands
	@grep -E '^[a-z]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-12s %s\n", $$1, $$2}'

run: ## start the shop with the Klarna simulator (prints its URL)
	go run .

test: ## run every test (browser tests need chromium, PostgreSQL tests a server)
	go test ./...

race: ## run every test with the race detector (needs a C compiler)
	go test -race ./...

sim: ## run the Klarna simulator alone on 127.0.0.1:8090
	go run ./klarna/simulator/cmd/klarna-sim -addr 127.0.0.1:8090

account: ## try the configured Klarna accounts: a session per offered market
	go run ./cmd/klarna-check

generate: ## regenerate the templ views and the fingerprinted static assets
	go tool templ generate
	go generate ./static

check: ## what CI checks: generated files, gofmt, vet, staticcheck, fuzzing, tests
	bash .ci/run

screenshots: ## refresh docs/screenshots from the browser tests
	UPDATE_SCREENSHOTS=1 go test -count=1 ./e2e/

bench: ## benchmarks of the client, the simulator and pricing
	go test -run '^$$' -bench . -benchmem ./klarna/... ./shop/

perf: ## load test and Lighthouse (docs/PERFORMANCE.md)
	npm ci --prefix cmd/loadtest --no-audit --no-fund
	go run ./cmd/loadtest -lighthouse
