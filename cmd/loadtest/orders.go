package main

import (
	"context"
	"errors"
	"fmt"
	"html"
	"math/rand/v2"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/fikaandform/storefront/internal/shopclient"
	"github.com/fikaandform/storefront/store"
)

// omResult is what the order management phase did.
type omResult struct {
	*result
	orders, captures, refunds, refusals int
	firstErr                            string
}

var (
	versionRe = regexp.MustCompile(`name="version" value="(\d+)"`)
	hiddenRe  = regexp.MustCompile(`<input type="hidden" name="([^"]+)" value="([^"]*)"`)
	outcomeRe = regexp.MustCompile(`data-testid="outcome" data-status="(\w+)"`)
	flashRe   = regexp.MustCompile(`data-testid="flash">([^<]*)<`)
)

// errRefusedByShop: the shop did nothing and told the operator why (the
// order changed, another action was in progress, nothing left to do).
var errRefusedByShop = errors.New("refused by the shop")

// manageOrders acts on the placed orders over HTTP, as operators do in the
// orders area, from several workers at once for at most d: every order is
// shipped whole with a tracking number, one item is refunded, and every
// other order is refunded in full. One order in ten is given to two workers
// at once, as two operators racing; the shop must let one act and tell the
// other that nothing was done. Each action is planned, confirmed, and its
// outcome read from the order page.
func manageOrders(base, dbPath string, workers int, d time.Duration) (*omResult, error) {
	db, err := store.OpenSQLite(context.Background(), dbPath)
	if err != nil {
		return nil, err
	}
	placed, err := db.Orders(context.Background(), 1_000_000)
	db.Close()
	if err != nil {
		return nil, err
	}
	var refs []string
	for _, o := range placed {
		if o.State == store.StatePlaced && o.KlarnaOrderID != "" {
			refs = append(refs, o.ID)
		}
	}
	queue := make(chan string, 2*len(refs))
	for i, ref := range refs {
		queue <- ref
		if i%10 == 0 {
			queue <- ref // a second operator on the same order
		}
	}
	close(queue)

	res := &omResult{result: &result{name: "order management (plan + confirm)"}, orders: len(refs)}
	transport := &http.Transport{MaxIdleConnsPerHost: workers * 2, MaxConnsPerHost: workers * 2, DisableCompression: true}
	var mu sync.Mutex
	var wg sync.WaitGroup
	deadline := time.Now().Add(d)
	start := time.Now()
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(w), 7))
			for ref := range queue {
				if time.Now().After(deadline) {
					continue // drain the queue
				}
				op := shopclient.New(transport, 30*time.Second)
				steps := []url.Values{
					{"kind": {"capture_all"}, "carrier": {"Royal Mail"}, "tracking_number": {"RM" + ref[3:] + "GB"}},
					{"kind": {"refund_lines"}, "qty-0": {"1"}, "reason": {"Returned"}},
				}
				if rng.IntN(2) == 0 {
					steps = append(steps, url.Values{"kind": {"refund_all"}})
				}
				for _, form := range steps {
					t0 := time.Now()
					err := act(op, base, ref, form)
					lat := time.Since(t0)
					mu.Lock()
					switch {
					case err == nil:
						res.latencies = append(res.latencies, lat)
						res.requests++
						if strings.HasPrefix(form.Get("kind"), "capture") {
							res.captures++
						} else {
							res.refunds++
						}
					case errors.Is(err, errRefusedByShop):
						res.refusals++
					default:
						res.errors++
						if res.firstErr == "" {
							res.firstErr = err.Error()
						}
					}
					mu.Unlock()
				}
			}
		}()
	}
	wg.Wait()
	res.elapsed = time.Since(start)
	return res, nil
}

// act plans one action on an order's page and confirms it.
func act(op *shopclient.Client, base, ref string, form url.Values) error {
	orderURL := base + "/admin/orders/" + ref
	page, err := op.Get(orderURL)
	if err != nil {
		return err
	}
	m := versionRe.FindStringSubmatch(page)
	if m == nil {
		return fmt.Errorf("%s: no version on the order page", ref)
	}
	form.Set("version", m[1])
	confirmPage, err := op.Submit(orderURL+"/plan", form)
	if err != nil {
		return err
	}
	if !strings.Contains(confirmPage, `data-testid="confirm-page"`) {
		return refusal(ref, confirmPage)
	}
	fields := url.Values{}
	if i := strings.Index(confirmPage, `data-testid="confirm-form"`); i >= 0 {
		body := confirmPage[i:]
		body = body[:strings.Index(body, "</form>")]
		for _, f := range hiddenRe.FindAllStringSubmatch(body, -1) {
			if f[1] != "csrf" {
				fields.Add(html.UnescapeString(f[1]), html.UnescapeString(f[2]))
			}
		}
	}
	after, err := op.Submit(orderURL+"/confirm", fields)
	if err != nil {
		return err
	}
	out := outcomeRe.FindStringSubmatch(after)
	switch {
	case out == nil:
		return refusal(ref, after)
	case out[1] == "succeeded":
		return nil
	}
	return fmt.Errorf("%s: %s ended %s", ref, form.Get("kind"), out[1])
}

// refusal tells the shop refusing to act (and saying so) from a failure.
func refusal(ref, page string) error {
	m := flashRe.FindStringSubmatch(page)
	if m != nil && (strings.Contains(m[1], "Nothing was done") || strings.Contains(m[1], "Not done") || strings.Contains(m[1], "changed since")) {
		return errRefusedByShop
	}
	if m != nil {
		return fmt.Errorf("%s: %s", ref, html.UnescapeString(m[1]))
	}
	return fmt.Errorf("%s: neither a confirmation nor an explanation", ref)
}
