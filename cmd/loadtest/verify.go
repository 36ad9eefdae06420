package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/fikaandform/storefront/internal/reconcile"
	"github.com/fikaandform/storefront/internal/shopclient"
	"github.com/fikaandform/storefront/klarna/simulator"
	"github.com/fikaandform/storefront/store"
)

// This file holds what makes a run's figures trustworthy: a page view
// counts only when the whole page arrived, a shopper's cart is checked
// before it is measured, and every order a shopper was told was placed
// must exist, with the right content, in the shop and at Klarna.

// fetch sends req and reads the whole answer. A success is a 200 whose
// body arrived whole: never a redirect (the page clients do not follow
// them) and never a cut-off body (net/http's reader fails on a body shorter
// than its Content-Length).
func fetch(c *http.Client, req *http.Request) error {
	resp, err := c.Do(req)
	if err != nil {
		return err
	}
	_, err = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	switch {
	case err != nil:
		return fmt.Errorf("%s %s: reading the body: %w", req.Method, req.URL.Path, err)
	case resp.StatusCode != http.StatusOK:
		return fmt.Errorf("%s %s: %d", req.Method, req.URL.Path, resp.StatusCode)
	}
	return nil
}

// cartProducts are the three items of a page-view shopper's cart.
var cartProducts = []string{"stoneware-mug", "house-blend", "linen-notebook"}

var cartCountRe = regexp.MustCompile(`data-testid="cart-count"[^>]*>(\d+)<`)

// shopperWithCart starts a session with a three-item cart and returns its
// cookie, after checking on the cart page that the cart holds the three.
// Without the check a failed add would leave the phase measuring another
// page (no cookie: the visitor's cached one) under the shopper's name.
func shopperWithCart(base string) (string, error) {
	s := shopclient.New(nil, 15*time.Second)
	if _, err := s.Get(base + "/"); err != nil {
		return "", err
	}
	for _, p := range cartProducts {
		if err := s.Add(base, p); err != nil {
			return "", fmt.Errorf("adding %s: %w", p, err)
		}
	}
	page, err := s.Get(base + "/cart") // shows, and so clears, the "added" message
	if err != nil {
		return "", err
	}
	if m := cartCountRe.FindStringSubmatch(page); m == nil || m[1] != strconv.Itoa(len(cartProducts)) {
		return "", fmt.Errorf("the cart page does not show %d items", len(cartProducts))
	}
	cookie := s.Cookie(base)
	if cookie == "" {
		return "", errors.New("no session cookie after adding to the cart")
	}
	return cookie, nil
}

// pageFor fetches a page as a shopper with this cookie sees it ("" for a
// visitor without a session): the bytes the bare handler serves for it.
func pageFor(base, path, cookie string) ([]byte, http.Header, error) {
	req, _ := http.NewRequest(http.MethodGet, base+path, nil)
	if cookie != "" {
		req.Header.Set("Cookie", cookie)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, nil, err
	}
	if resp.StatusCode != http.StatusOK {
		return nil, nil, fmt.Errorf("GET %s: %d", path, resp.StatusCode)
	}
	want := "0"
	if cookie != "" {
		want = strconv.Itoa(len(cartProducts))
	}
	if m := cartCountRe.FindSubmatch(b); m == nil || string(m[1]) != want {
		return nil, nil, fmt.Errorf("GET %s: the page does not show a cart of %s", path, want)
	}
	return b, resp.Header, nil
}

// placedOrders are the orders shoppers were told were placed, each by what
// the place answer led to: Klarna's redirect (its order id) or the shop's
// confirmation page (the shop's reference).
type placedOrders struct {
	mu   sync.Mutex
	keys []string
}

// add notes a place answer's redirect_url.
func (p *placedOrders) add(redirect string) {
	p.mu.Lock()
	p.keys = append(p.keys, orderKey(redirect))
	p.mu.Unlock()
}

func (p *placedOrders) len() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.keys)
}

// orderKey names the order a place answer's redirect_url leads to:
// "klarna:<order id>" for Klarna's redirect, "ref:<reference>" for the
// shop's confirmation page, "?<url>" for anything else (which no order
// matches, so it is reported).
func orderKey(redirect string) string {
	u, err := url.Parse(redirect)
	if err != nil {
		return "?" + redirect
	}
	dir, last, _ := strings.Cut(strings.TrimPrefix(u.Path, "/"), "/")
	for strings.Contains(last, "/") {
		dir, last, _ = strings.Cut(last, "/")
	}
	switch dir {
	case "redirect":
		return "klarna:" + last
	case "confirmation":
		return "ref:" + last
	}
	return "?" + redirect
}

// checked is one phase's reconciliation, with what the shoppers were told.
type checked struct {
	reconcile.Report
	placed   int      // orders shoppers were told were placed
	problems []string // a told order missing on a side, wrong content, no orders at all
}

func (c checked) ok() bool { return c.Report.OK() && len(c.problems) == 0 }

func (c checked) String() string {
	s := fmt.Sprintf("%d placed as shoppers were told; %s", c.placed, c.Report)
	for i, p := range c.problems {
		if i == 5 {
			s += fmt.Sprintf("\n  … and %d more", len(c.problems)-5)
			break
		}
		s += "\n  " + p
	}
	return s
}

// reconcilePhase compares the shop's orders with Klarna's (the
// simulator's) by content, one to one, and checks them against the
// shoppers: at least one order; every order a shopper was told was placed
// present in the shop and at Klarna; every Klarna order exactly one unit
// of product, the only thing the shoppers bought. since limits the shop's
// side to the orders placed from then on (a PostgreSQL database outlives
// the run; SQLite starts empty: the zero time).
func reconcilePhase(ctx context.Context, sim string, db *store.SQL, since time.Time, placed *placedOrders, product string) (checked, error) {
	resp, err := http.Get(sim + "/_sim/state")
	if err != nil {
		return checked{}, err
	}
	var st struct {
		Orders []simulator.OrderRecord `json:"orders"`
	}
	err = json.NewDecoder(resp.Body).Decode(&st)
	resp.Body.Close()
	if err != nil {
		return checked{}, err
	}
	orders, err := db.Orders(ctx, 10_000_000)
	if err != nil {
		return checked{}, err
	}
	kept := orders[:0]
	for _, o := range orders {
		if o.PlacedAt != nil && !o.PlacedAt.Before(since) {
			kept = append(kept, o)
		}
	}
	local, err := reconcile.Local(kept)
	if err != nil {
		return checked{}, err
	}
	money, err := db.MoneyTotals(ctx)
	if err != nil {
		return checked{}, err
	}
	remote := reconcile.FromSimulator(st.Orders)
	out := checked{Report: reconcile.Compare(reconcile.WithMoney(local, money), remote), placed: placed.len()}
	out.problems = told(placed, local, remote)
	if len(local) == 0 || len(remote) == 0 {
		out.problems = append(out.problems, fmt.Sprintf("no orders to reconcile (%d in the shop, %d at Klarna)", len(local), len(remote)))
	}
	for _, o := range remote {
		if p := oneUnitOf(o, product); p != "" {
			out.problems = append(out.problems, p)
		}
	}
	return out, nil
}

// told lists the orders shoppers were told were placed that a side lacks.
func told(placed *placedOrders, local, remote []reconcile.Order) []string {
	has := func(orders []reconcile.Order) map[string]bool {
		m := map[string]bool{}
		for _, o := range orders {
			m["klarna:"+o.ID], m["ref:"+o.Reference] = true, true
		}
		return m
	}
	inShop, atKlarna := has(local), has(remote)
	placed.mu.Lock()
	defer placed.mu.Unlock()
	var out []string
	for _, k := range placed.keys {
		if !inShop[k] {
			out = append(out, "told placed, not in the shop: "+k)
		}
		if !atKlarna[k] {
			out = append(out, "told placed, not at Klarna: "+k)
		}
	}
	return out
}

// oneUnitOf says how a Klarna order differs from one unit of product (and
// what else a cart of it carries: shipping, discount, tax lines).
func oneUnitOf(o reconcile.Order, product string) string {
	units := int64(0)
	for _, l := range o.Lines {
		switch l.Type {
		case "shipping_fee", "discount", "sales_tax":
			continue
		}
		if l.Reference != product {
			return fmt.Sprintf("Klarna order %s holds %s, which no shopper bought", o.ID, l.Reference)
		}
		units += l.Quantity
	}
	if units != 1 {
		return fmt.Sprintf("Klarna order %s holds %d of %s, where each shopper bought one", o.ID, units, product)
	}
	return ""
}

// effectiveCores is how many cores this process may use: the affinity
// mask (runtime.NumCPU) and its cgroup's CPU quota, v1 or v2, the
// tightest from its own cgroup up to the root. The checkout target is for
// two.
func effectiveCores() float64 {
	return coresIn("/", runtime.NumCPU())
}

// coresIn is effectiveCores with the file system at root (for tests).
func coresIn(root string, cpus int) float64 {
	n := float64(cpus)
	self, err := os.ReadFile(filepath.Join(root, "proc/self/cgroup"))
	if err != nil {
		return n
	}
	for line := range strings.SplitSeq(strings.TrimSpace(string(self)), "\n") {
		// hierarchy-id:controllers:path; v2 is "0::path".
		parts := strings.SplitN(line, ":", 3)
		if len(parts) != 3 {
			continue
		}
		controllers, path := strings.Split(parts[1], ","), parts[2]
		switch {
		case parts[0] == "0" && parts[1] == "":
			// Mounted alone, or beside v1 ("unified") on hybrid hosts.
			for _, mount := range []string{"", "unified"} {
				n = min(n, tightest(filepath.Join(root, "sys/fs/cgroup", mount), path, quotaV2))
			}
		case slices.Contains(controllers, "cpu"):
			for _, mount := range []string{"cpu", "cpu,cpuacct", "cpuacct,cpu"} {
				n = min(n, tightest(filepath.Join(root, "sys/fs/cgroup", mount), path, quotaV1))
			}
		}
	}
	return n
}

// tightest walks from a cgroup up to its hierarchy's root (inside a
// cgroup namespace the path is "/" and the mount is the process's own)
// and returns the smallest quota found, in cores (+Inf for none).
func tightest(mount, path string, quota func(dir string) (float64, bool)) float64 {
	best := math.Inf(1)
	for p := filepath.Clean("/" + path); ; p = filepath.Dir(p) {
		if q, ok := quota(filepath.Join(mount, p)); ok {
			best = min(best, q)
		}
		if p == "/" {
			return best
		}
	}
}

// quotaV2 reads cpu.max ("max 100000", or "200000 100000" for two cores).
func quotaV2(dir string) (float64, bool) {
	b, err := os.ReadFile(filepath.Join(dir, "cpu.max"))
	if err != nil {
		return 0, false
	}
	quota, period, _ := strings.Cut(strings.TrimSpace(string(b)), " ")
	return ratio(quota, period)
}

// quotaV1 reads cpu.cfs_quota_us and cpu.cfs_period_us (-1: no quota).
func quotaV1(dir string) (float64, bool) {
	q, err1 := os.ReadFile(filepath.Join(dir, "cpu.cfs_quota_us"))
	p, err2 := os.ReadFile(filepath.Join(dir, "cpu.cfs_period_us"))
	if err1 != nil || err2 != nil {
		return 0, false
	}
	return ratio(strings.TrimSpace(string(q)), strings.TrimSpace(string(p)))
}

func ratio(quota, period string) (float64, bool) {
	q, err1 := strconv.ParseFloat(quota, 64)
	p, err2 := strconv.ParseFloat(period, 64)
	if err1 != nil || err2 != nil || q <= 0 || p <= 0 {
		return 0, false // "max", -1: no quota
	}
	return q / p, true
}
