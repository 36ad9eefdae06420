package checkout

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/fikaandform/storefront/klarna"
)

// Class says what kind of failure a Klarna call met, which decides what the
// shopper is told and whether an operator must act.
type Class string

// Classes of failure.
const (
	// ClassCredentials: Klarna refused the API credentials (401), or the
	// merchant account is inactive (403 MERCHANT_INACTIVE). The operator
	// must fix the account or the settings; waiting does not help.
	ClassCredentials Class = "credentials_refused"
	// ClassMarket: the account does not take this market or currency (400
	// BAD_VALUE naming purchase_country or purchase_currency), or the shop
	// has no account in the market's region.
	ClassMarket Class = "market_not_enabled"
	// ClassBadRequest: Klarna refused what the shop sent (another 4xx): a
	// bug in the shop.
	ClassBadRequest Class = "bad_request"
	// ClassRateLimited: over Klarna's rate limit (429), or the shop's own
	// pacing under it.
	ClassRateLimited Class = "rate_limited"
	// ClassOutage: no answer, or a 5xx: Klarna is having trouble.
	ClassOutage Class = "outage"
)

// NeedsOperator reports a class that does not go away by waiting: someone
// must change the account, the settings or the code.
func (c Class) NeedsOperator() bool {
	return c == ClassCredentials || c == ClassMarket || c == ClassBadRequest
}

// Transient reports a class worth trying again in a moment.
func (c Class) Transient() bool { return c == ClassRateLimited || c == ClassOutage }

// errPacing is the shop's own session quota, full for longer than a
// shopper should wait.
var errPacing = errors.New("checkout: the shop's Klarna session quota is busy")

// Classify says what kind of failure err is.
func Classify(err error) Class {
	var ke *klarna.Error
	switch {
	case klarna.IsNoAccount(err):
		return ClassMarket
	case errors.Is(err, errPacing):
		return ClassRateLimited
	case errors.As(err, &ke):
		switch {
		case ke.StatusCode == http.StatusUnauthorized, ke.StatusCode == http.StatusForbidden && ke.ErrorCode == klarna.CodeMerchantInactive:
			return ClassCredentials
		case ke.StatusCode == http.StatusTooManyRequests:
			return ClassRateLimited
		case ke.StatusCode >= 500:
			return ClassOutage
		case ke.StatusCode == http.StatusBadRequest && namesMarket(ke):
			return ClassMarket
		case ke.StatusCode >= 400:
			return ClassBadRequest
		}
	}
	return ClassOutage
}

// namesMarket reports a BAD_VALUE about the purchase country or currency:
// what Klarna answers for a market missing from the merchant's contract.
func namesMarket(ke *klarna.Error) bool {
	if ke.ErrorCode != klarna.CodeBadValue {
		return false
	}
	for _, m := range ke.ErrorMessages {
		if strings.Contains(m, "purchase_country") || strings.Contains(m, "purchase_currency") {
			return true
		}
	}
	return false
}

// Failure is a Klarna call that failed, classified. Begin returns one when
// a session cannot be created or updated, and Place when Klarna refuses to
// read the session or create the order; errors.As finds it. It wraps the
// cause (*klarna.Error, *klarna.RequestError, *klarna.RegionError), and for
// the transient classes also ErrUnavailable, so that errors.Is(err,
// ErrUnavailable) still means "try again in a moment".
type Failure struct {
	Op            string // klarna operation: create_session, update_session, get_session, create_order
	Class         Class
	Market        string
	CorrelationID string
	Err           error
}

func (f *Failure) Error() string {
	return fmt.Sprintf("checkout: %s for market %s failed (%s): %v", f.Op, f.Market, f.Class, f.Err)
}

func (f *Failure) Unwrap() []error {
	if f.Class.Transient() {
		return []error{f.Err, ErrUnavailable}
	}
	return []error{f.Err}
}

// fail classifies a failed Klarna call, logs it with its class, market and
// correlation id, and notes for the operator what needs one. payload, when
// not nil, is what was sent: a bad request logs its shape (fields, types,
// lengths), never its values.
func (s *Service) fail(ctx context.Context, log *slog.Logger, op, market string, resp *klarna.Response, err error, payload any) *Failure {
	f := &Failure{Op: op, Class: Classify(err), Market: market, CorrelationID: klarna.CorrelationID(resp, err), Err: err}
	attrs := []any{"class", string(f.Class), "market", market, "klarna_op", op, "correlation_id", f.CorrelationID, "error", err}
	switch f.Class {
	case ClassCredentials:
		log.ErrorContext(ctx, "Klarna refused the shop's API credentials for this market's region: fix the account or its settings", attrs...)
	case ClassMarket:
		log.ErrorContext(ctx, "this market or currency is not enabled on the Klarna account (or the shop has no account in its region)", attrs...)
	case ClassBadRequest:
		if payload != nil {
			attrs = append(attrs, "payload_shape", Shape(payload))
		}
		log.ErrorContext(ctx, "Klarna refused the request as malformed: a bug in the shop", attrs...)
	case ClassRateLimited:
		log.WarnContext(ctx, "over Klarna's rate limit", attrs...)
	default:
		log.WarnContext(ctx, "Klarna could not be reached", attrs...)
	}
	if f.Class.NeedsOperator() {
		s.problems.add(f, s.now())
	}
	return f
}

// Shape describes a JSON payload without its values: object keys, value
// types and array lengths ({"order_lines":[3]{"name":string,…},…}), so a
// bad request can be logged without personal data or amounts.
func Shape(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return "unencodable"
	}
	var x any
	if json.Unmarshal(b, &x) != nil {
		return "unencodable"
	}
	var sb strings.Builder
	shape(&sb, x)
	return sb.String()
}

func shape(sb *strings.Builder, x any) {
	switch v := x.(type) {
	case map[string]any:
		keys := make([]string, 0, len(v))
		for k := range v {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		sb.WriteByte('{')
		for i, k := range keys {
			if i > 0 {
				sb.WriteByte(',')
			}
			sb.WriteString(k + ":")
			shape(sb, v[k])
		}
		sb.WriteByte('}')
	case []any:
		fmt.Fprintf(sb, "[%d]", len(v))
		if len(v) > 0 {
			shape(sb, v[0])
		}
	case string:
		sb.WriteString("string")
	case float64:
		sb.WriteString("number")
	case bool:
		sb.WriteString("bool")
	default:
		sb.WriteString("null")
	}
}

// Problem is a recent Klarna failure that needs the operator, for the
// orders area: credentials refused, a market not enabled, a bad request.
// Repeats of one class, market and operation are counted on one Problem.
type Problem struct {
	Class         Class
	Market        string
	Op            string
	Detail        string // Klarna's status, error code and messages
	CorrelationID string // of the latest occurrence
	First, Last   time.Time
	Count         int
}

// problemLog keeps the recent problems of this process (each instance of
// a shop keeps its own).
type problemLog struct {
	mu   sync.Mutex
	list []*Problem
}

const (
	maxProblems   = 20
	problemMaxAge = 24 * time.Hour
)

func (l *problemLog) add(f *Failure, now time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	detail := f.Err.Error()
	var ke *klarna.Error
	if errors.As(f.Err, &ke) {
		detail = strings.TrimSpace(fmt.Sprintf("%d %s %s", ke.StatusCode, ke.ErrorCode, strings.Join(ke.ErrorMessages, "; ")))
	}
	for _, p := range l.list {
		if p.Class == f.Class && p.Market == f.Market && p.Op == f.Op {
			p.Last, p.Detail, p.CorrelationID = now, detail, f.CorrelationID
			p.Count++
			return
		}
	}
	l.list = append(l.list, &Problem{Class: f.Class, Market: f.Market, Op: f.Op, Detail: detail, CorrelationID: f.CorrelationID, First: now, Last: now, Count: 1})
	if len(l.list) > maxProblems {
		l.list = l.list[len(l.list)-maxProblems:]
	}
}

// Problems lists the Klarna failures of the last 24 hours that need the
// operator, newest first.
func (s *Service) Problems() []Problem {
	l := &s.problems
	l.mu.Lock()
	defer l.mu.Unlock()
	now := s.now()
	var out []Problem
	for _, p := range l.list {
		if now.Sub(p.Last) < problemMaxAge {
			out = append(out, *p)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Last.After(out[j].Last) })
	return out
}
