package klarna

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Version is the version of this client, sent in the User-Agent.
const Version = "1.0.0"

// Environment selects Klarna's test (playground) or live (production) hosts.
type Environment string

// Environments.
const (
	Playground Environment = "playground"
	Production Environment = "production"
)

// Region selects Klarna's regional API host. A merchant account lives in one
// region and its credentials only work there.
type Region string

// Regions.
const (
	RegionEU Region = "eu"
	RegionNA Region = "na"
	RegionOC Region = "oc"
)

// BaseURL returns Klarna's API base URL for an environment and region.
func BaseURL(env Environment, region Region) (string, error) {
	host := map[Region]string{RegionEU: "api", RegionNA: "api-na", RegionOC: "api-oc"}[region]
	if host == "" {
		return "", fmt.Errorf("klarna: unknown region %q (want eu, na or oc)", region)
	}
	switch env {
	case Production:
		return "https://" + host + ".klarna.com/", nil
	case Playground:
		return "https://" + host + ".playground.klarna.com/", nil
	}
	return "", fmt.Errorf("klarna: unknown environment %q (want playground or production)", env)
}

// Defaults used by NewClient.
const (
	DefaultTimeout        = 30 * time.Second
	DefaultAttemptTimeout = 10 * time.Second
	DefaultMaxRetries     = 2
	maxResponseBody       = 1 << 20
	minBackoff            = 200 * time.Millisecond
	maxBackoff            = 5 * time.Second
)

// Client calls the Klarna Payments API v1. It is safe for concurrent use.
// Create one with NewClient and share it.
type Client struct {
	baseURL *url.URL
	// base is baseURL as text, and shown its scheme and host only (paths
	// carry tokens); header holds the headers every request sends, built
	// once and shared read-only by all requests.
	base, shown    string
	header         http.Header
	username       string
	password       string
	httpClient     *http.Client
	userAgent      string
	maxRetries     int
	timeout        time.Duration
	attemptTimeout time.Duration
	logger         *slog.Logger
	observe        func(CallInfo)

	// sleep waits between retries; tests replace it to record the waits
	// instead of sleeping.
	sleep func(ctx context.Context, d time.Duration) error
}

// Option configures a Client.
type Option func(*settings)

type settings struct {
	username, password string
	env                Environment
	region             Region
	baseURL            string
	httpClient         *http.Client
	userAgent          string
	maxRetries         int
	timeout            time.Duration
	attemptTimeout     time.Duration
	logger             *slog.Logger
	observe            func(CallInfo)
}

// WithCredentials sets the API username and password, sent as HTTP Basic
// authentication on every request.
func WithCredentials(username, password string) Option {
	return func(s *settings) { s.username, s.password = username, password }
}

// WithEnvironment chooses playground (the default) or production.
func WithEnvironment(env Environment) Option { return func(s *settings) { s.env = env } }

// WithRegion chooses eu (the default), na or oc.
func WithRegion(r Region) Option { return func(s *settings) { s.region = r } }

// WithBaseURL overrides the environment's and region's URL, for a proxy or a
// simulator. It must be an absolute http or https URL.
func WithBaseURL(u string) Option { return func(s *settings) { s.baseURL = u } }

// WithHTTPClient sets the HTTP client, for custom transports or tracing. Its
// own Timeout, if any, applies on top of the client's timeouts.
func WithHTTPClient(hc *http.Client) Option { return func(s *settings) { s.httpClient = hc } }

// WithUserAgent appends a product token (for example "MyShop/2.1") to the
// User-Agent, so Klarna can tell integrations apart.
func WithUserAgent(product string) Option { return func(s *settings) { s.userAgent = product } }

// WithMaxRetries sets how many times a safe request is retried (default 2;
// 0 disables retries).
func WithMaxRetries(n int) Option { return func(s *settings) { s.maxRetries = n } }

// WithTimeout bounds a whole call, retries included (default 30s).
func WithTimeout(d time.Duration) Option { return func(s *settings) { s.timeout = d } }

// WithAttemptTimeout bounds one HTTP attempt (default 10s), so that a hung
// read can still be retried within the overall timeout.
func WithAttemptTimeout(d time.Duration) Option { return func(s *settings) { s.attemptTimeout = d } }

// WithLogger logs one line per call: operation, status, duration, attempts
// and Klarna's correlation id. Bodies, tokens, idempotency keys and paths
// (which contain authorization tokens and customer tokens) are never logged.
func WithLogger(l *slog.Logger) Option { return func(s *settings) { s.logger = l } }

// CallInfo describes one finished call, for an observer (metrics): the
// operation ("create_session", "capture", …), the status of the last attempt
// (0 when no answer came), its round trip, the attempts made and the error.
type CallInfo struct {
	Operation  string
	StatusCode int
	Duration   time.Duration
	Attempts   int
	Err        error
}

// WithObserver calls fn once per finished call, success or not. It must be
// quick and safe for concurrent use; it receives no body, token or path.
func WithObserver(fn func(CallInfo)) Option { return func(s *settings) { s.observe = fn } }

// NewClient builds a client. Without WithBaseURL it talks to Klarna itself,
// and then refuses empty or placeholder credentials immediately rather than
// failing with 401 at the first checkout.
func NewClient(opts ...Option) (*Client, error) {
	s := settings{
		env:            Playground,
		region:         RegionEU,
		maxRetries:     DefaultMaxRetries,
		timeout:        DefaultTimeout,
		attemptTimeout: DefaultAttemptTimeout,
	}
	for _, o := range opts {
		o(&s)
	}
	raw := s.baseURL
	if raw == "" {
		u, err := BaseURL(s.env, s.region)
		if err != nil {
			return nil, err
		}
		raw = u
	}
	base, err := url.Parse(raw)
	if err != nil || (base.Scheme != "http" && base.Scheme != "https") || base.Host == "" {
		return nil, fmt.Errorf("klarna: base URL %q must be an absolute http(s) URL", raw)
	}
	if !strings.HasSuffix(base.Path, "/") {
		base.Path += "/"
	}
	if IsKlarnaHost(base.Host) {
		if err := CheckCredentials(s.username, s.password); err != nil {
			return nil, err
		}
	}
	if s.maxRetries < 0 {
		return nil, errors.New("klarna: max retries must not be negative")
	}
	if s.timeout <= 0 || s.attemptTimeout <= 0 {
		return nil, errors.New("klarna: timeouts must be positive")
	}
	hc := s.httpClient
	if hc == nil {
		hc = &http.Client{Transport: defaultTransport}
	}
	ua := fmt.Sprintf("Library/storefront-klarna-go_%s Language/go_%s OS/%s_%s",
		Version, strings.TrimPrefix(runtime.Version(), "go"), runtime.GOOS, runtime.GOARCH)
	if s.userAgent != "" {
		ua += " " + s.userAgent
	}
	logger := s.logger
	if logger == nil {
		logger = slog.New(discardHandler{})
	}
	auth := base64.StdEncoding.EncodeToString([]byte(s.username + ":" + s.password))
	return &Client{
		baseURL:        base,
		base:           base.String(),
		shown:          base.Scheme + "://" + base.Host + "/…",
		header:         http.Header{"Authorization": {"Basic " + auth}, "User-Agent": {ua}, "Accept": {"application/json"}},
		username:       s.username,
		password:       s.password,
		httpClient:     hc,
		userAgent:      ua,
		maxRetries:     s.maxRetries,
		timeout:        s.timeout,
		attemptTimeout: s.attemptTimeout,
		logger:         logger,
		observe:        s.observe,
		sleep:          sleepContext,
	}, nil
}

// defaultTransport keeps enough idle connections for a busy shop: the
// standard library's default of 2 per host forces new TLS handshakes under
// load.
var defaultTransport = func() http.RoundTripper {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxIdleConnsPerHost = 64
	return t
}()

// BaseURL returns the API base URL the client talks to.
func (c *Client) BaseURL() string { return c.baseURL.String() }

// IsKlarnaHost reports whether host (with or without port) is one of
// Klarna's own API hosts.
func IsKlarnaHost(host string) bool {
	h := host
	if hh, _, err := net.SplitHostPort(host); err == nil {
		h = hh
	}
	h = strings.ToLower(h)
	return h == "klarna.com" || strings.HasSuffix(h, ".klarna.com")
}

// placeholderWords are fragments found in example credentials copied from
// documentation or .env.example files.
var placeholderWords = []string{"changeme", "change-me", "placeholder", "your_", "your-", "<", "xxx", "example", "todo"}

// LooksLikePlaceholder reports a value copied from documentation or an
// example file ("your_password", "changeme", "<secret>") rather than a real
// secret.
func LooksLikePlaceholder(v string) bool {
	v = strings.ToLower(strings.TrimSpace(v))
	for _, w := range placeholderWords {
		if strings.Contains(v, w) {
			return true
		}
	}
	return false
}

// CheckCredentials reports empty or obviously placeholder credentials.
func CheckCredentials(username, password string) error {
	var problems []string
	for _, f := range []struct{ name, v string }{{"username", username}, {"password", password}} {
		switch {
		case strings.TrimSpace(f.v) == "":
			problems = append(problems, f.name+" is empty")
		case LooksLikePlaceholder(f.v):
			problems = append(problems, f.name+" looks like a placeholder")
		}
	}
	if len(problems) > 0 {
		return fmt.Errorf("klarna: credentials for Klarna's API: %s", strings.Join(problems, ", "))
	}
	return nil
}

// Response is the metadata of one call: what the seed SDK exposes as `raw`
// and `round_trip_time`. It is returned by every method, with or without an
// error, and is nil only when no HTTP response arrived at all.
type Response struct {
	Operation     string
	StatusCode    int
	Header        http.Header
	CorrelationID string
	// Duration is the round trip of the last attempt.
	Duration time.Duration
	// Attempts counts the HTTP attempts made, retries included.
	Attempts int
}

// retryPolicy says when a request may be sent again.
type retryPolicy int

const (
	// retrySafe: reads, idempotent writes (update, cancel) and writes that
	// carry a Klarna-Idempotency-Key are retried on network errors, 429 and
	// 5xx.
	retrySafe retryPolicy = iota
	// retryUnprocessed: writes that must not happen twice (create session,
	// create order, customer token) are retried only when Klarna cannot have
	// processed them: the connection was never made, or the answer was 429.
	retryUnprocessed
)

type call struct {
	op     string
	method string
	path   string
	body   any
	out    any
	policy retryPolicy
	// key is sent as Klarna-Idempotency-Key on every attempt.
	key string
}

// do runs a call with retries, decodes a 2xx body into c.out and turns
// everything else into *Error or *RequestError.
func (c *Client) do(ctx context.Context, cl call) (*Response, error) {
	// The whole call ends at deadline, retries included. It is a time, not
	// a context of its own: each attempt's context ends at the earlier of
	// the two, which saves a context and a timer on every call.
	deadline := time.Now().Add(c.timeout)
	if dl, ok := ctx.Deadline(); ok && dl.Before(deadline) {
		deadline = dl
	}
	var payload []byte
	if cl.body != nil {
		var err error
		if payload, err = json.Marshal(cl.body); err != nil {
			return nil, fmt.Errorf("klarna: %s: encoding request: %w", cl.op, err)
		}
	}
	// Paths are built from escaped segments, so join them as text rather
	// than through url.URL.Path, which would unescape them again.
	target := c.base + cl.path

	var resp *Response
	var err error
	for attempt := 1; ; attempt++ {
		var wait time.Duration
		var retry bool
		resp, retry, wait, err = c.attempt(ctx, deadline, cl, target, payload)
		if resp != nil {
			resp.Attempts = attempt
		}
		if err == nil || !retry || attempt > c.maxRetries || ctx.Err() != nil || !time.Now().Before(deadline) {
			break
		}
		if wait <= 0 {
			wait = backoff(attempt)
		}
		if time.Until(deadline) < wait {
			break // the wait would outlive the call: report the error we have
		}
		if serr := c.sleep(ctx, wait); serr != nil {
			break
		}
	}
	c.log(ctx, cl.op, resp, err)
	return resp, err
}

// buffers hold response bodies while they are decoded.
var buffers = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// attempt sends the request once. It reports whether the failure may be
// retried under the call's policy, and how long Klarna asked us to wait.
func (c *Client) attempt(ctx context.Context, deadline time.Time, cl call, target string, payload []byte) (resp *Response, retry bool, wait time.Duration, err error) {
	if d := time.Now().Add(c.attemptTimeout); d.Before(deadline) {
		deadline = d
	}
	actx, cancel := context.WithDeadline(ctx, deadline)
	defer cancel()
	var body io.Reader
	if payload != nil {
		body = bytes.NewReader(payload)
	}
	req, err := http.NewRequestWithContext(actx, cl.method, target, body)
	if err != nil {
		return nil, false, 0, fmt.Errorf("klarna: %s: building request: %w", cl.op, err)
	}
	req.Header = c.header
	if payload != nil || cl.key != "" {
		// Headers of this request only: a map of its own (never the shared
		// one) that shares the values, which nothing modifies.
		req.Header = make(http.Header, len(c.header)+2)
		for k, v := range c.header {
			req.Header[k] = v
		}
		if payload != nil {
			req.Header["Content-Type"] = jsonType
		}
		if cl.key != "" {
			req.Header.Set(IdempotencyKeyHeader, cl.key)
		}
	}

	start := time.Now()
	hr, err := c.httpClient.Do(req)
	if err != nil {
		// *url.Error repeats the full URL, token included: keep only the cause.
		var uerr *url.Error
		if errors.As(err, &uerr) {
			err = uerr.Err
		}
		rerr := &RequestError{Operation: cl.op, Method: cl.method, URL: c.shown, Duration: time.Since(start), Err: err}
		if ctx.Err() != nil {
			rerr.Err = fmt.Errorf("%w (%w)", err, context.Cause(ctx))
			return nil, false, 0, rerr
		}
		return nil, cl.policy == retrySafe || notSent(err), 0, rerr
	}
	defer hr.Body.Close()
	buf := buffers.Get().(*bytes.Buffer)
	buf.Reset()
	defer func() {
		if buf.Cap() <= 64<<10 {
			buffers.Put(buf)
		}
	}()
	_, readErr := buf.ReadFrom(io.LimitReader(hr.Body, maxResponseBody))
	raw := buf.Bytes()
	resp = &Response{
		Operation:     cl.op,
		StatusCode:    hr.StatusCode,
		Header:        hr.Header,
		CorrelationID: hr.Header.Get("Klarna-Correlation-Id"),
		Duration:      time.Since(start),
	}
	if hr.StatusCode >= 200 && hr.StatusCode < 300 {
		if readErr == nil && cl.out != nil {
			readErr = json.Unmarshal(raw, cl.out)
		}
		if readErr != nil {
			// Klarna did the work but its answer is unusable (cut off or not
			// JSON). For a write this means "done, answer lost": the caller
			// must resolve the outcome, so this is a RequestError, not an
			// Error with a success status.
			return resp, cl.policy == retrySafe, 0, &RequestError{Operation: cl.op, Method: cl.method, URL: c.shown, Duration: resp.Duration,
				Err: fmt.Errorf("reading %d response: %w", hr.StatusCode, readErr)}
		}
		return resp, false, 0, nil
	}
	kerr := newError(cl.op, resp, bytes.Clone(raw)) // the buffer goes back to the pool
	switch {
	case hr.StatusCode == http.StatusTooManyRequests:
		return resp, true, retryAfter(hr.Header.Get("Retry-After")), kerr
	case hr.StatusCode >= 500 && cl.policy == retrySafe:
		return resp, true, retryAfter(hr.Header.Get("Retry-After")), kerr
	}
	return resp, false, 0, kerr
}

// notSent reports whether err shows the request never reached the server,
// which makes even a non-idempotent write safe to retry.
func notSent(err error) bool {
	var op *net.OpError
	return errors.As(err, &op) && op.Op == "dial"
}

// backoff is capped exponential backoff with full jitter: a random wait in
// [0, min(max, base*2^(attempt-1))], so that many clients failing at once do
// not retry in lockstep.
func backoff(attempt int) time.Duration {
	ceil := minBackoff << (attempt - 1)
	if ceil > maxBackoff || ceil <= 0 {
		ceil = maxBackoff
	}
	return time.Duration(rand.Int64N(int64(ceil)) + 1)
}

// retryAfter parses a Retry-After header (seconds or an HTTP date); zero
// means "not given".
func retryAfter(v string) time.Duration {
	if v == "" {
		return 0
	}
	if secs, err := strconv.Atoi(strings.TrimSpace(v)); err == nil && secs >= 0 {
		return time.Duration(secs) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil {
		return time.Until(t)
	}
	return 0
}

func sleepContext(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// jsonType is the Content-Type of every request body.
var jsonType = []string{"application/json"}

func (c *Client) log(ctx context.Context, op string, resp *Response, err error) {
	if c.observe != nil {
		info := CallInfo{Operation: op, Err: err}
		if resp != nil {
			info.StatusCode, info.Duration, info.Attempts = resp.StatusCode, resp.Duration, resp.Attempts
		}
		c.observe(info)
	}
	level := slog.LevelInfo
	if err != nil {
		level = slog.LevelWarn
	}
	if !c.logger.Enabled(ctx, level) {
		return
	}
	attrs := []slog.Attr{slog.String("klarna_op", op)}
	if resp != nil {
		attrs = append(attrs,
			slog.Int("status", resp.StatusCode),
			slog.Duration("duration", resp.Duration),
			slog.Int("attempts", resp.Attempts),
			slog.String("correlation_id", resp.CorrelationID))
	}
	if err != nil {
		attrs = append(attrs, slog.String("error", err.Error()))
		c.logger.LogAttrs(ctx, slog.LevelWarn, "klarna call failed", attrs...)
		return
	}
	c.logger.LogAttrs(ctx, slog.LevelInfo, "klarna call", attrs...)
}

type discardHandler struct{}

func (discardHandler) Enabled(context.Context, slog.Level) bool  { return false }
func (discardHandler) Handle(context.Context, slog.Record) error { return nil }
func (d discardHandler) WithAttrs([]slog.Attr) slog.Handler      { return d }
func (d discardHandler) WithGroup(string) slog.Handler           { return d }

// pathEscape escapes an id or token for use as one path segment.
func pathEscape(s string) string { return url.PathEscape(s) }
