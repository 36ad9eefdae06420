// Command klarna-check tries the shop's Klarna accounts before a shopper
// does. It reads the shop's own settings (the environment, and .env) and,
// for every market the shop would offer, calls Klarna through that market's
// regional client:
//
//  1. create a session for a one-line cart, priced as the checkout prices it;
//  2. read the session back and compare the amount;
//  3. update it with the quantity doubled, and read the new amount;
//  4. cancel: Klarna Payments cancels authorizations, not sessions (an
//     unused session expires by itself 48 hours after its last update), and
//     the check has no authorization, which needs a shopper. It asks Klarna
//     to cancel an authorization that does not exist and expects 404: the
//     endpoint answers and takes the credentials.
//
// It prints a table of what worked per market, with the kind of failure
// and Klarna's correlation id for what did not, and exits with status 1 if
// any market failed.
//
//	go run ./cmd/klarna-check
//
// With KLARNA_ENV=simulator and no KLARNA_API_URL there is no Klarna to
// check (the shop's simulator lives inside the running shop): the command
// starts one of its own for the run, which checks the command itself.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"slices"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/google/uuid"
	"github.com/joho/godotenv"

	"github.com/fikaandform/storefront/checkout"
	"github.com/fikaandform/storefront/config"
	"github.com/fikaandform/storefront/klarna"
	"github.com/fikaandform/storefront/klarna/simulator"
	"github.com/fikaandform/storefront/shop"
)

func main() {
	_ = godotenv.Load()
	if err := run(context.Background(), os.Args[1:], os.Getenv, os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

// product is the one line of the test cart: the cheapest item that is not
// a subscription.
const product = "brass-pen"

func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("klarna-check", flag.ContinueOnError)
	fs.SetOutput(stderr)
	timeout := fs.Duration("timeout", 20*time.Second, "how long each Klarna call may take, retries included")
	if err := fs.Parse(args); err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()

	cfg, err := config.Load(getenv)
	if err != nil {
		return err
	}
	where := "Klarna " + string(cfg.Mode)
	simURL := ""
	switch {
	case cfg.Mode == config.ModeSimulator && cfg.KlarnaAPIURL == "":
		u, closeSim, err := startSimulator(cfg)
		if err != nil {
			return err
		}
		defer closeSim()
		simURL, where = u, "a Klarna simulator started for this check at "+u
	case cfg.Mode == config.ModeSimulator:
		where = "the Klarna simulator at " + cfg.KlarnaAPIURL
	}
	accounts, err := cfg.KlarnaAccounts(simURL)
	if err != nil {
		return err
	}
	clients, err := klarna.NewClients(accounts, klarna.WithEnvironment(cfg.KlarnaEnvironment()), klarna.WithTimeout(*timeout),
		klarna.WithUserAgent("FikaAndForm-klarna-check/1.0"))
	if err != nil {
		return err
	}

	fmt.Fprintf(stdout, "Klarna account check against %s, %s\n", where, time.Now().UTC().Format("2006-01-02 15:04 MST"))
	fmt.Fprintln(stdout, "Per market: create a session (one-line cart), read it, update it, read it again; cancel asks Klarna to cancel an")
	fmt.Fprintln(stdout, "authorization that does not exist and expects 404 (sessions have no cancel; an unused one expires after 48 h).")
	fmt.Fprintln(stdout)
	tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "market\tregion\tAPI\tcreate\tread\tupdate\tcancel\t")
	var results []result
	var notes []string
	failed, missing := 0, 0
	for _, m := range marketsByRegion() {
		region, _ := klarna.RegionOf(m.Code)
		client := clients.Region(region)
		if client == nil {
			missing++
			r := strings.ToUpper(string(region))
			fmt.Fprintf(tw, "%s\t%s\t-\tnot offered\t-\t-\t-\t\n", m.Code, region)
			notes = append(notes, fmt.Sprintf("  %s: not offered: no credentials for region %s (%s); set KLARNA_%s_USERNAME and KLARNA_%s_PASSWORD", m.Code, region, region.Name(), r, r))
			continue
		}
		res := check(ctx, client, m)
		results = append(results, res)
		if !res.ok() {
			failed++
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t\n", m.Code, region, client.BaseURL(), res.steps[0].cell(), res.steps[1].cell(), res.steps[2].cell(), res.steps[3].cell())
	}
	tw.Flush()
	for _, res := range results {
		for _, st := range res.steps {
			if st.err == nil {
				continue
			}
			msg := st.err.Error()
			if !strings.Contains(msg, st.corr) || st.corr == "" {
				msg += " (correlation id " + orNone(st.corr) + ")"
			}
			fmt.Fprintf(stdout, "  %s %s: %s: %s\n", res.market, st.name, st.class, msg)
		}
	}
	for _, n := range notes {
		fmt.Fprintln(stdout, n)
	}
	fmt.Fprintf(stdout, "\n%d market(s) ready, %d failed, %d not offered.\n", len(results)-failed, failed, missing)
	if failed > 0 {
		return fmt.Errorf("klarna-check: %d market(s) failed", failed)
	}
	return nil
}

// step is one call of the check and what came of it.
type step struct {
	name    string
	skipped bool
	note    string // what an OK means, when not obvious
	class   checkout.Class
	corr    string
	err     error
}

func (s step) cell() string {
	switch {
	case s.skipped:
		return "-"
	case s.err == nil && s.note != "":
		return "OK (" + s.note + ")"
	case s.err == nil:
		return "OK"
	}
	return string(s.class) + " (below)"
}

func orNone(s string) string {
	if s == "" {
		return "none (no answer)"
	}
	return s
}

type result struct {
	market string
	steps  [4]step
}

func (r result) ok() bool {
	for _, s := range r.steps {
		if s.err != nil || s.skipped {
			return false
		}
	}
	return true
}

// check runs the four steps for one market; after a failure the steps that
// depend on it are skipped.
func check(ctx context.Context, k *klarna.Client, m shop.Market) result {
	res := result{market: m.Code, steps: [4]step{{name: "create session"}, {name: "read session"}, {name: "update session"}, {name: "cancel"}}}
	fail := func(i int, resp *klarna.Response, err error) {
		s := &res.steps[i]
		s.err, s.class = err, checkout.Classify(err)
		var ke *klarna.Error
		if errors.As(err, &ke) {
			s.corr = ke.CorrelationID
		} else if resp != nil {
			s.corr = resp.CorrelationID
		}
		for j := i + 1; j < 3; j++ { // cancel does not need the session
			res.steps[j].skipped = true
		}
	}
	cat := shop.DefaultCatalog()
	priced := func(qty int) (*klarna.SessionRequest, error) {
		cart, err := shop.DecodeCart(fmt.Sprintf("%s:%d", product, qty), cat)
		if err != nil {
			return nil, err
		}
		p, err := shop.Price(cart, m, m.Locale(), cat)
		if err != nil {
			return nil, err
		}
		return &klarna.SessionRequest{PurchaseCountry: m.Code, PurchaseCurrency: m.Currency, Locale: p.Locale, OrderAmount: p.Total,
			OrderTaxAmount: p.Tax, OrderLines: checkout.OrderLines(p, nil), Intent: klarna.IntentBuy, MerchantReference1: "klarna-check"}, nil
	}
	one, err := priced(1)
	if err != nil {
		fail(0, nil, err)
		return res
	}
	ms, resp, err := k.CreateSession(ctx, one)
	if err != nil {
		fail(0, resp, err)
	} else {
		res.steps[0].note = "session " + shortID(ms.SessionID)
		if s, resp, err := k.GetSession(ctx, ms.SessionID); err != nil {
			fail(1, resp, err)
		} else if s.OrderAmount != one.OrderAmount {
			fail(1, resp, fmt.Errorf("the session reads %d, %d was sent", s.OrderAmount, one.OrderAmount))
		} else if two, err := priced(2); err != nil {
			fail(2, nil, err)
		} else if resp, err := k.UpdateSession(ctx, ms.SessionID, &klarna.SessionUpdate{OrderAmount: klarna.Int64(two.OrderAmount),
			OrderTaxAmount: klarna.Int64(two.OrderTaxAmount), OrderLines: two.OrderLines}); err != nil {
			fail(2, resp, err)
		} else if s, resp, err := k.GetSession(ctx, ms.SessionID); err != nil || s.OrderAmount != two.OrderAmount {
			if err == nil {
				err = fmt.Errorf("after the update the session reads %d, %d was sent", s.OrderAmount, two.OrderAmount)
			}
			fail(2, resp, err)
		}
	}
	// No authorization exists without a shopper: an unknown one must be
	// 404, which shows the endpoint answers and takes the credentials.
	resp, err = k.CancelAuthorization(ctx, uuid.NewString())
	switch {
	case klarna.IsNotFound(err):
		res.steps[3].note = "404 as expected"
	case err == nil:
		res.steps[3].err, res.steps[3].class = errors.New("klarna accepted the cancellation of an authorization that does not exist"), checkout.ClassBadRequest
	default:
		s := &res.steps[3]
		s.err, s.class = err, checkout.Classify(err)
		if resp != nil {
			s.corr = resp.CorrelationID
		}
	}
	return res
}

func shortID(id string) string {
	if len(id) > 8 {
		return id[:8] + "…"
	}
	return id
}

// startSimulator serves a Klarna simulator on loopback with the accounts'
// credentials, for a check in simulator mode without KLARNA_API_URL.
func startSimulator(cfg *config.Config) (string, func(), error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, err
	}
	base := "http://" + ln.Addr().String()
	regions := map[string]simulator.Credentials{}
	for _, a := range cfg.Accounts {
		regions[string(a.Region)] = simulator.Credentials{Username: a.Username, Password: a.Password}
	}
	sim, err := simulator.New(simulator.Config{BaseURL: base, Username: "sim_unused", Password: uuid.NewString(), Regions: regions, DisableCallbacks: true})
	if err != nil {
		ln.Close()
		return "", nil, err
	}
	srv := &http.Server{Handler: sim, ReadHeaderTimeout: 10 * time.Second}
	go srv.Serve(ln)
	return base, func() { srv.Close(); sim.Close() }, nil
}

// marketsByRegion lists the shop's markets region by region (eu, na, oc),
// by country code within each.
func marketsByRegion() []shop.Market {
	all := shop.Markets()
	slices.SortStableFunc(all, func(a, b shop.Market) int {
		ra, _ := klarna.RegionOf(a.Code)
		rb, _ := klarna.RegionOf(b.Code)
		if c := slices.Index(klarna.Regions, ra) - slices.Index(klarna.Regions, rb); c != 0 {
			return c
		}
		return strings.Compare(a.Code, b.Code)
	})
	return all
}
