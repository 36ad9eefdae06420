package e2e

import (
	"bufio"
	"encoding/json"
	"net/http"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// startSimulator runs the klarna-sim binary on a free port, calling back
// and redirecting only to allowOrigins, and returns its URL.
func startSimulator(t *testing.T, allowOrigins string) string {
	t.Helper()
	cmd := exec.Command(simBinary, "-addr", "127.0.0.1:0", "-allow-origins", allowOrigins, "-callback-delay", "200ms")
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var logs strings.Builder
	cmd.Stderr = &logs
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
	})
	found := make(chan string, 1)
	go func() {
		re := regexp.MustCompile(`API base URL: (http://\S+)`)
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			if m := re.FindStringSubmatch(sc.Text()); m != nil {
				found <- m[1]
			}
		}
	}()
	select {
	case u := <-found:
		return u
	case <-exited:
		t.Fatalf("klarna-sim exited at start: %s", logs.String())
	case <-time.After(20 * time.Second):
		t.Fatal("klarna-sim did not start")
	}
	return ""
}

// TestStandaloneSimulatorCheckout: a shop pointed at a standalone simulator
// (KLARNA_API_URL) loads that simulator's widget, admits exactly its origin
// in the Content-Security-Policy, and completes a browser checkout with it,
// each market's calls on its regional host.
func TestStandaloneSimulatorCheckout(t *testing.T) {
	addr := freeAddr(t)
	shopOrigin := "http://localhost:" + addr[strings.LastIndex(addr, ":")+1:]
	simURL := startSimulator(t, shopOrigin)
	a, _ := launch(t, t.TempDir(), addr, "KLARNA_API_URL="+simURL)

	resp, err := http.Get(a.URL + "/")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	csp := resp.Header.Get("Content-Security-Policy")
	for _, directive := range []string{"script-src", "style-src", "img-src", "connect-src"} {
		if d := directiveOf(csp, directive); !strings.Contains(d, simURL) {
			t.Errorf("%s does not admit the simulator %s: %s", directive, simURL, d)
		}
	}
	if d := directiveOf(csp, "frame-src"); strings.Contains(d, simURL) || strings.Contains(csp, "klarna") {
		t.Errorf("the policy admits more than the simulator's origin: %s", csp)
	}

	b := newBrowser(t, desktop)
	b.visit(t, a.URL+"/", `[data-testid=product-grid]`)
	b.setMarket(t, "US")
	b.toCheckout(t, a, "wool-throw", "1")
	script, err := chromedp.Run(b.ctx, chromedp.Evaluate[string](`document.querySelector('script[src$="/kp/lib/v1/api.js"]').src`))
	if err != nil || script != simURL+"/kp/lib/v1/api.js" {
		t.Errorf("widget script %q, want the simulator's (%v)", script, err)
	}
	b.pay(t, "approve")
	ref := b.confirmed(t, "placed")
	if orders(t, a)[ref] != "placed" {
		t.Errorf("order %s not in the orders area", ref)
	}
	// The standalone simulator has the order, made on the North America host.
	resp, err = http.Get(simURL + "/_sim/state")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var state struct {
		Sessions []struct {
			Country string `json:"purchase_country"`
			Region  string `json:"region"`
			Status  string `json:"status"`
		} `json:"sessions"`
	}
	if err := jsonDecode(resp, &state); err != nil {
		t.Fatal(err)
	}
	if len(state.Sessions) != 1 || state.Sessions[0].Region != "na" || state.Sessions[0].Status != "complete" {
		t.Errorf("sessions at the simulator: %+v", state.Sessions)
	}
}

// TestBuiltInSimulatorOnAnotherHostName: a shopper who opens the demo as
// 127.0.0.1 rather than the printed localhost gets the widget from that
// origin, with no policy violation (the browser fails the test on any
// console error), and pays.
func TestBuiltInSimulatorOnAnotherHostName(t *testing.T) {
	a := startApp(t)
	a.URL = strings.Replace(a.URL, "://localhost:", "://127.0.0.1:", 1)
	b := newBrowser(t, desktop)
	b.toCheckout(t, a, "stoneware-mug", "1")
	b.pay(t, "approve")
	b.confirmed(t, "placed")
	loc, _ := chromedp.Run(b.ctx, chromedp.Location())
	if !strings.HasPrefix(loc, a.URL+"/confirmation/") {
		t.Errorf("the shopper left the origin they came by: %s", loc)
	}
	// The footer's inspector link, on the same origin.
	b.run(t, chromedp.Click(chromedp.CSS(`[data-testid=mode] a[href="/klarna-sim/_sim/"]`)), chromedp.WaitVisible(chromedp.CSS(`.ksim-inspector table`)))
	if color, _ := chromedp.Run(b.ctx, chromedp.Evaluate[string](`getComputedStyle(document.querySelector(".ksim-inspector header")).backgroundColor`)); color != "rgb(255, 179, 199)" {
		t.Errorf("the inspector's stylesheet did not load on this origin: header %q", color)
	}
}

// TestWidgetFidelity drives the simulator's Klarna.Payments as a merchant
// page would, where it differed from Klarna's: several widgets by
// instance_id, Klarna's errors, a token shaped like Klarna's documentation
// example, a drawn payment review, and a playground test identity.
func TestWidgetFidelity(t *testing.T) {
	// The authorization callback would place an order for the first
	// approval and complete the session before the others: hold it back.
	a := startApp(t, "KLARNA_SIM_CALLBACK_DELAY=10m")
	b := newBrowser(t, desktop)
	b.visit(t, a.URL+"/", `[data-testid=product-grid]`)
	b.setMarket(t, "US")
	b.toCheckout(t, a, "linen-notebook", "1")
	got, err := chromedp.Run(b.ctx, chromedp.Evaluate[map[string]any](widgetScript, chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]any{
		"docToken":        "ok",
		"noToken":         "InvalidClientTokenError",
		"noInstance":      "InstanceIDNotProvidedError;false",
		"badInstance":     "InvalidInstanceIDError;false",
		"unknownCategory": "PaymentMethodCategoryNotSupportedError;false",
		"unknownMethod":   "PreferredPaymentMethodNotSupportedError;false",
		"multiLoaded":     "true;2",
		"authorized":      "true;pay_over_time",
		"reauthorized":    "true",
		"finalized":       "true",
		"unknownInstance": "PaymentMethodCategoryNotSupportedError;false",
		"review":          "true;Pay in 3 parts",
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s: %v, want %v", k, got[k], v)
		}
	}
}

// widgetScript runs on a US checkout page, whose checkout script has
// already initialised the widget and loaded pay_later.
const widgetScript = `(async () => {
  const P = Klarna.Payments, out = {};
  const token = document.getElementById("klarna-checkout").dataset.clientToken;
  const box = () => { const d = document.createElement("div"); document.body.appendChild(d); return d; };
  const attempt = (fn) => { let cb; try { fn(r => cb = r); return "ok"; } catch (e) { return e.name + ";" + (cb ? cb.show_form : "none"); } };
  // Klarna's documentation's own example token: an HS256 JWT of {"foo":"bar"}.
  try { P.init({client_token: "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJmb28iOiJiYXIifQ.dtxWM6MIcgoeMgH87tGvsNDY6cHWL6MGW4LeYvnm1JA"}); out.docToken = "ok"; } catch (e) { out.docToken = e.name; }
  try { P.init({client_token: "not-a-jwt"}); out.noToken = "ok"; } catch (e) { out.noToken = e.name; }
  P.init({client_token: token});
  out.noInstance = attempt(cb => P.load({container: box(), payment_method_categories: ["pay_later"]}, {}, cb));
  out.badInstance = attempt(cb => P.load({container: box(), payment_method_categories: ["pay_later"], instance_id: "no spaces"}, {}, cb));
  out.unknownCategory = attempt(cb => P.load({container: box(), payment_method_category: "pay_with_gold"}, {}, cb));
  out.unknownMethod = attempt(cb => P.load({container: box(), payment_method_category: "pay_later", preferred_payment_method: "gold"}, {}, cb));
  const multi = box();
  const loaded = await new Promise(r => P.load({container: multi, payment_method_categories: ["pay_later", "pay_over_time"], instance_id: "multi"}, {}, r));
  out.multiLoaded = loaded.show_form + ";" + multi.querySelectorAll("input[type=radio]").length;
  multi.querySelector("input[value=pay_over_time]").click();
  const who = {billing_address: {email: "customer@email.us"}};
  const auth = await new Promise(r => P.authorize({instance_id: "multi"}, who, r));
  const state = await (await fetch("/klarna-sim/_sim/state")).json();
  const mine = state.authorizations.filter(x => x.order_id === undefined || x.order_id === "").map(x => x.category);
  out.authorized = (auth.approved && !!auth.authorization_token) + ";" + (mine.includes("pay_over_time") ? "pay_over_time" : mine.join(","));
  const re = await new Promise(r => P.reauthorize({instance_id: "multi"}, who, r));
  out.reauthorized = String(re.approved && !!re.authorization_token && re.show_form === undefined);
  const fin = await new Promise(r => P.finalize({instance_id: "multi"}, who, r));
  out.finalized = String(fin.approved && !!fin.authorization_token);
  out.unknownInstance = (() => { let cb; try { P.authorize({instance_id: "nope"}, {}, r => cb = r); return "ok"; } catch (e) { return e.name + ";" + (cb ? cb.show_form : "none"); } })();
  const review = box();
  const rv = await new Promise(r => P.loadPaymentReview({container: review}, r));
  const drawn = review.querySelector("[data-testid=klarna-sim-payment-review]");
  out.review = rv.show_form + ";" + (drawn && drawn.textContent.includes("Pay in 3 parts") ? "Pay in 3 parts" : (drawn ? drawn.textContent : "nothing drawn"));
  return out;
})()`

// directiveOf returns one directive of a Content-Security-Policy.
func directiveOf(csp, name string) string {
	for _, d := range strings.Split(csp, ";") {
		if d = strings.TrimSpace(d); strings.HasPrefix(d, name+" ") {
			return d
		}
	}
	return ""
}

func jsonDecode(resp *http.Response, v any) error { return json.NewDecoder(resp.Body).Decode(v) }
