package e2e

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

var (
	binary    string // the shop, built once by TestMain
	simBinary string // the standalone simulator, klarna-sim
)

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "storefront-e2e")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binary, simBinary = filepath.Join(dir, "github.com/fikaandform/storefront"), filepath.Join(dir, "klarna-sim")
	for out, pkg := range map[string]string{binary: "..", simBinary: "../klarna/simulator/cmd/klarna-sim"} {
		build := exec.Command("go", "build", "-o", out, pkg)
		build.Stdout, build.Stderr = os.Stderr, os.Stderr
		if err := build.Run(); err != nil {
			fmt.Fprintln(os.Stderr, "building", pkg+":", err)
			os.Exit(1)
		}
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// chromium finds the system browser.
func chromium(t *testing.T) string {
	t.Helper()
	for _, name := range []string{os.Getenv("CHROME_PATH"), "chromium", "chromium-browser", "google-chrome"} {
		if name == "" {
			continue
		}
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("CI") == "true" {
		t.Fatal("no Chromium found: CI must install it (apt-get install chromium)")
	}
	t.Skip("no Chromium found; install chromium to run the browser tests")
	return ""
}

// app is a running shop.
type app struct {
	URL    string
	exited chan struct{}
}

// startApp runs the shop binary on a free port with a fresh database.
func startApp(t *testing.T, extraEnv ...string) *app {
	t.Helper()
	a, _ := launch(t, t.TempDir(), "127.0.0.1:0", extraEnv...)
	return a
}

// launch runs the shop binary with its database in dir, listening on addr,
// and waits until it prints its URL. The process is stopped (SIGINT) when
// the test ends, unless it died before.
func launch(t *testing.T, dir, addr string, extraEnv ...string) (*app, *exec.Cmd) {
	t.Helper()
	cmd := exec.Command(binary, "-addr", addr)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(),
		"KLARNA_ENV=simulator", "DATABASE_URL=sqlite:"+filepath.Join(dir, "shop.db"),
		"SESSION_SECRET=e2e-session-secret-0123456789abcdef0123456789", "LOG_LEVEL=warn",
		"KLARNA_SIM_CALLBACK_DELAY=200ms", "ADMIN_PASSWORD=", "ADMIN_OPEN=true", "KLARNA_USERNAME=", "KLARNA_PASSWORD=", "BASE_URL=", "PORT=",
		"KLARNA_API_URL=", "STOREFRONT_TEST_CRASH_AT=")
	cmd.Env = append(cmd.Env, extraEnv...)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	logs := &strings.Builder{}
	var logMu sync.Mutex
	cmd.Stderr = writerFunc(func(p []byte) (int, error) { logMu.Lock(); defer logMu.Unlock(); return logs.Write(p) })
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	go func() { cmd.Wait(); close(exited) }()
	t.Cleanup(func() {
		cmd.Process.Signal(os.Interrupt)
		select {
		case <-exited:
		case <-time.After(10 * time.Second):
			cmd.Process.Kill()
		}
		if t.Failed() {
			logMu.Lock()
			t.Logf("shop log:\n%s", logs.String())
			logMu.Unlock()
		}
	})
	urlRe := regexp.MustCompile(`open at (http://\S+)`)
	found := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			if m := urlRe.FindStringSubmatch(sc.Text()); m != nil {
				found <- m[1]
			}
		}
	}()
	select {
	case u := <-found:
		return &app{URL: u, exited: exited}, cmd
	case <-exited:
		t.Fatal("the shop exited at start")
	case <-time.After(20 * time.Second):
		t.Fatal("the shop did not start")
	}
	return nil, nil
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) { return f(p) }

// browser is one Chromium tab that records console errors.
type browser struct {
	ctx     context.Context
	mu      sync.Mutex
	errors  []string
	checked map[string]bool // pages already run through axe
	noAxe   bool            // scripts are off: axe cannot run
}

// Viewports used for screenshots and the phone scenario.
var (
	desktop = [2]int64{1280, 900}
	phone   = [2]int64{390, 844}
)

// newBrowser is a browser whose language is British English, the default
// market's: no market is suggested to it.
func newBrowser(t *testing.T, size [2]int64) *browser {
	t.Helper()
	return newBrowserIn(t, size, "en-GB,en")
}

// newBrowserIn is a browser that asks for pages in these languages
// (Accept-Language).
func newBrowserIn(t *testing.T, size [2]int64, acceptLanguage string) *browser {
	t.Helper()
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.Flag("accept-lang", acceptLanguage),
		chromedp.ExecPath(chromium(t)),
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-quic", true),
		// The back/forward cache keeps a left page's JavaScript context alive,
		// and chromedp may then read the old page instead of the new one.
		chromedp.Flag("disable-features", "BackForwardCache"),
		chromedp.WindowSize(int(size[0]), int(size[1])),
		chromedp.UserDataDir(t.TempDir()),
	)
	actx, cancel := chromedp.NewExecAllocator(context.Background(), opts...)
	t.Cleanup(cancel)
	ctx, cancel2 := chromedp.NewContext(actx)
	t.Cleanup(cancel2)
	b := &browser{ctx: ctx, checked: map[string]bool{}}
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(size[0], size[1])); err != nil {
		t.Fatal(err)
	}
	// Collect console errors and uncaught exceptions for the whole test.
	go func() {
		for m, err := range chromedp.Console(ctx) {
			if err != nil {
				return
			}
			if m.IsException() || m.Type == "error" {
				b.addError(string(m.Type) + ": " + m.Text)
			}
		}
	}()
	t.Cleanup(func() {
		b.mu.Lock()
		defer b.mu.Unlock()
		for _, e := range b.errors {
			t.Errorf("browser reported %s", e)
		}
	})
	return b
}

func (b *browser) addError(s string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.errors = append(b.errors, s)
}

func (b *browser) run(t *testing.T, actions ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	// Each step waits on conditions, bounded so a broken one fails fast.
	ctx, cancel := context.WithTimeout(b.ctx, 15*time.Second)
	defer cancel()
	if err := chromedp.Do(ctx, actions...); err != nil {
		// Say where the browser was, for the failure report.
		lctx, lcancel := context.WithTimeout(b.ctx, 3*time.Second)
		defer lcancel()
		loc, _ := chromedp.Run(lctx, chromedp.Location())
		body, _ := chromedp.Run(lctx, chromedp.Evaluate[string](`document.readyState + " | " + (document.querySelector("main") ? document.querySelector("main").innerText : document.documentElement.outerHTML)`))
		t.Fatalf("%v\n  page: %s\n  main: %.400s", err, loc, strings.Join(strings.Fields(body), " "))
	}
}

// content reads the text of an element even where it is not rendered
// (inside a closed <details>).
func (b *browser) content(t *testing.T, sel string) string {
	t.Helper()
	v, err := chromedp.Run(b.ctx, chromedp.TextContent(chromedp.CSS(sel)))
	if err != nil {
		t.Fatalf("reading %s: %v", sel, err)
	}
	return strings.TrimSpace(v)
}

// text reads the text of the element a CSS selector finds.
func (b *browser) text(t *testing.T, sel string) string {
	t.Helper()
	v, err := chromedp.Run(b.ctx, chromedp.Text(chromedp.CSS(sel)))
	if err != nil {
		t.Fatalf("reading %s: %v", sel, err)
	}
	return strings.TrimSpace(v)
}

// shot saves a full-page screenshot under e2e/screenshots (ignored by git),
// and under docs/screenshots when UPDATE_SCREENSHOTS=1.
func (b *browser) shot(t *testing.T, name string) {
	t.Helper()
	// A full-page capture does not scroll, so lazy images below the fold
	// would stay blank: load them all first.
	if err := chromedp.Do(b.ctx, chromedp.Evaluate[chromedp.Void](`Promise.all(Array.from(document.images, i => { i.loading = "eager"; return i.decode().catch(() => {}); }))`, chromedp.EvalAwaitPromise)); err != nil {
		t.Fatal(err)
	}
	png, err := chromedp.Run(b.ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatal(err)
	}
	os.MkdirAll("screenshots", 0o755)
	if err := os.WriteFile(filepath.Join("screenshots", name+".png"), png, 0o644); err != nil {
		t.Fatal(err)
	}
	if os.Getenv("UPDATE_SCREENSHOTS") == "1" {
		os.MkdirAll(filepath.Join("..", "docs", "screenshots"), 0o755)
		os.WriteFile(filepath.Join("..", "docs", "screenshots", name+".png"), png, 0o644)
	}
}

// buy runs a purchase from the product page to the authorize dialog.
func buy(t *testing.T, b *browser, a *app, product string, qty string) {
	t.Helper()
	b.run(t,
		chromedp.Navigate(a.URL+"/products/"+product),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid=add-to-cart]`)),
		chromedp.SetValue(chromedp.CSS(`#qty`), qty),
		chromedp.Click(chromedp.CSS(`[data-testid=add-to-cart]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid=cart-lines]`)),
		chromedp.Click(chromedp.CSS(`[data-testid=go-to-checkout]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid=klarna-sim-widget]`)),
		chromedp.WaitEnabled(chromedp.CSS(`[data-testid=pay-button]`)),
	)
}

func TestBuyWithKlarna(t *testing.T) {
	a := startApp(t)
	b := newBrowser(t, desktop)
	b.run(t, chromedp.Navigate(a.URL+"/"), chromedp.WaitVisible(chromedp.CSS(`[data-testid=product-grid]`)))
	b.shot(t, "catalog-desktop")
	b.run(t, chromedp.Navigate(a.URL+"/products/pour-over-kettle"), chromedp.WaitVisible(chromedp.CSS(`[data-testid=add-to-cart]`)))
	b.shot(t, "product-desktop")
	buy(t, b, a, "stoneware-mug", "2")
	b.shot(t, "checkout-desktop")
	total := b.text(t, `.cart-side [data-testid=total]`)
	b.run(t,
		chromedp.Click(chromedp.CSS(`[data-testid=pay-button]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid=klarna-sim-dialog]`)),
	)
	amount := b.text(t, `[data-testid=klarna-sim-amount]`)
	b.shot(t, "klarna-dialog-desktop")
	if amount != total {
		t.Errorf("dialog shows %q, checkout total is %q", amount, total)
	}
	b.run(t,
		chromedp.Click(chromedp.CSS(`[data-testid=klarna-sim-approve]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid=confirmation][data-state=placed]`)),
	)
	state, ref, count := b.text(t, `[data-testid=state-label]`), b.text(t, `[data-testid=order-ref]`), b.text(t, `[data-testid=cart-count]`)
	b.shot(t, "confirmation-desktop")
	if !strings.Contains(state, "confirmed") || !strings.HasPrefix(ref, "KS-") || count != "0" {
		t.Errorf("confirmation: state %q ref %q cart count %q", state, ref, count)
	}
	// A reload shows the same order.
	b.run(t, chromedp.Reload(), chromedp.WaitVisible(chromedp.CSS(`[data-testid=order-ref]`)))
	ref2 := b.text(t, `[data-testid=order-ref]`)
	if ref2 != ref {
		t.Errorf("after reload: %q, want %q", ref2, ref)
	}
	// The orders area lists it (open in simulator mode without a password).
	b.run(t, chromedp.Navigate(a.URL+"/admin"), chromedp.WaitVisible(chromedp.CSS(`[data-testid=admin-order-`+ref+`]`)))
	b.check(t)
	b.shot(t, "orders-desktop")
	// The simulator's inspector shows the same order from Klarna's side.
	b.run(t, chromedp.Navigate(a.URL+"/klarna-sim/_sim/"), chromedp.WaitVisible(chromedp.CSS(`.ksim-inspector table`)))
	b.check(t)
	b.shot(t, "simulator-inspector-desktop")
}

func TestPhoneCartAndDecline(t *testing.T) {
	a := startApp(t)
	b := newBrowser(t, phone)
	b.run(t, chromedp.Navigate(a.URL+"/"), chromedp.WaitVisible(chromedp.CSS(`[data-testid=product-grid]`)))
	b.shot(t, "catalog-phone")
	buy(t, b, a, "wool-throw", "1")
	b.shot(t, "checkout-phone")
	b.run(t,
		chromedp.Click(chromedp.CSS(`[data-testid=pay-button]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid=klarna-sim-dialog]`)),
	)
	b.shot(t, "klarna-dialog-phone")
	b.run(t,
		chromedp.Click(chromedp.CSS(`[data-testid=klarna-sim-decline]`)),
		chromedp.WaitVisible(chromedp.CSS(`#pay-status.is-error`)),
	)
	status := b.text(t, `[data-testid=pay-status]`)
	if !strings.Contains(status, "could not approve") {
		t.Errorf("declined: status %q", status)
	}
	b.run(t, chromedp.Navigate(a.URL+"/cart"), chromedp.WaitVisible(chromedp.CSS(`[data-testid=cart-lines]`)))
	b.shot(t, "cart-phone")
}

var (
	axeOnce   sync.Once
	axeSource string
	axeErr    error
)

// axe returns axe-core's script, installed by npm (package-lock.json pins
// it). Without it the accessibility checks skip, except under CI=true.
func axe(t *testing.T) string {
	axeOnce.Do(func() {
		b, err := os.ReadFile(filepath.Join("..", "node_modules", "axe-core", "axe.min.js"))
		axeSource, axeErr = string(b), err
	})
	if axeErr != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("axe-core is not installed (npm ci): %v", axeErr)
		}
		return ""
	}
	return axeSource
}

// check runs axe-core on the current page, once per path, and fails the test
// on serious or critical violations.
func (b *browser) check(t *testing.T) {
	t.Helper()
	src := axe(t)
	if src == "" || b.noAxe {
		return
	}
	loc, err := chromedp.Run(b.ctx, chromedp.Location())
	if err != nil {
		t.Fatal(err)
	}
	path := loc
	if i := strings.Index(loc[8:], "/"); i >= 0 {
		path = loc[8+i:]
	}
	if j := strings.IndexAny(path, "?#"); j >= 0 {
		path = path[:j]
	}
	path = regexp.MustCompile(`KS-[A-Z0-9]+`).ReplaceAllString(path, "KS-*")
	if b.checked[path] {
		return
	}
	b.checked[path] = true
	if err := chromedp.Do(b.ctx, chromedp.Evaluate[chromedp.Void](src)); err != nil {
		t.Fatalf("loading axe: %v", err)
	}
	// preload off: axe would fetch the widget's stylesheet from its own
	// origin (Klarna's CDN, a standalone simulator) to rebuild a CSSOM that
	// the page's CSP then refuses to apply; only css-orientation-lock reads
	// it, and no page of the shop locks the orientation.
	violations, err := chromedp.Run(b.ctx, chromedp.Evaluate[[]string](`axe.run(document, {resultTypes: ["violations"], preload: false}).then(r =>
		r.violations.filter(v => v.impact === "serious" || v.impact === "critical")
		 .map(v => v.impact + " " + v.id + ": " + v.help + " at " + v.nodes.slice(0, 3).map(n => n.target.join(" ")).join(", ")))`, chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatalf("running axe on %s: %v", path, err)
	}
	for _, v := range violations {
		t.Errorf("accessibility on %s: %s", path, v)
	}
}

// TestShopperPagesWithACart: once a shopper has a cart, the catalog and
// product pages they get are kept pages with their own token put in (see
// handlers/pages.go). They look the same, count the cart, pass axe, and
// their forms work: a second product goes into the same cart.
func TestShopperPagesWithACart(t *testing.T) {
	a := startApp(t)
	for _, form := range []struct {
		name string
		size [2]int64
	}{{"desktop", desktop}, {"phone", phone}} {
		b := newBrowser(t, form.size)
		b.run(t,
			chromedp.Navigate(a.URL+"/products/stoneware-mug"),
			chromedp.WaitVisible(chromedp.CSS(`[data-testid=add-to-cart]`)),
			chromedp.Click(chromedp.CSS(`[data-testid=add-to-cart]`)),
			chromedp.WaitVisible(chromedp.CSS(`[data-testid=cart-lines]`)),
			chromedp.Navigate(a.URL+"/"),
			chromedp.WaitVisible(chromedp.CSS(`[data-testid=product-grid]`)),
		)
		if n := b.text(t, `[data-testid=cart-count]`); n != "1" {
			t.Errorf("%s: catalog counts %q in the cart", form.name, n)
		}
		b.check(t)
		b.shot(t, "catalog-with-cart-"+form.name)
		b.run(t,
			chromedp.Navigate(a.URL+"/products/pour-over-kettle"),
			chromedp.WaitVisible(chromedp.CSS(`[data-testid=add-to-cart]`)),
		)
		b.check(t)
		b.shot(t, "product-with-cart-"+form.name)
		b.run(t,
			chromedp.Click(chromedp.CSS(`[data-testid=add-to-cart]`)),
			chromedp.WaitVisible(chromedp.CSS(`[data-testid=cart-lines]`)),
		)
		if n := b.text(t, `[data-testid=cart-count]`); n != "2" {
			t.Errorf("%s: after adding from a kept product page the cart counts %q", form.name, n)
		}
	}
}
