// Package metrics is the shop's Prometheus instrumentation: what an operator
// watches to know the shop takes money. It serves on a listener of its own
// (METRICS_ADDR), never on the public one.
//
// The domain packages do not import Prometheus: they report to small
// observer interfaces (checkout.Observer, subscriptions.Observer,
// klarna.WithObserver), which *Metrics implements.
package metrics

import (
	"net/http"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/fikaandform/storefront/klarna"
)

// Metrics holds the shop's collectors in a registry of its own. Create it
// with New.
type Metrics struct {
	reg            *prometheus.Registry
	httpRequests   *prometheus.CounterVec
	httpDuration   *prometheus.HistogramVec
	checkouts      *prometheus.CounterVec
	placing        prometheus.Gauge
	klarnaCalls    *prometheus.CounterVec
	klarnaDuration *prometheus.HistogramVec
	recovery       *prometheus.CounterVec
	renewals       *prometheus.CounterVec
}

// New builds the collectors, with the Go runtime's and the process's.
func New() *Metrics {
	m := &Metrics{
		reg: prometheus.NewRegistry(),
		httpRequests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "shop_http_requests_total", Help: "HTTP requests by route template, method and status.",
		}, []string{"route", "method", "status"}),
		httpDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "shop_http_request_duration_seconds", Help: "HTTP request latency by route template and method.",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 10},
		}, []string{"route", "method"}),
		checkouts: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "shop_checkouts_total",
			Help: "Checkouts by event: begun (a Klarna session opened), placed (by resulting state), failed (by reason).",
		}, []string{"event", "detail"}),
		placing: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "shop_placements_in_flight", Help: "Order placements waiting on Klarna right now.",
		}),
		klarnaCalls: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "shop_klarna_calls_total", Help: "Calls to Klarna by operation and outcome (ok, a 4xx/5xx status, no_answer).",
		}, []string{"operation", "outcome"}),
		klarnaDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "shop_klarna_call_duration_seconds", Help: "Latency of the last attempt of each Klarna call, by operation.",
			Buckets: []float64{.01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30},
		}, []string{"operation"}),
		recovery: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "shop_recovery_actions_total", Help: "What recovery did: placements taken over, reviews decided, tokens requested.",
		}, []string{"action"}),
		renewals: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "shop_renewals_total", Help: "Subscription renewal attempts by outcome: charged, declined, paused, deferred.",
		}, []string{"outcome"}),
	}
	m.reg.MustRegister(m.httpRequests, m.httpDuration, m.checkouts, m.placing, m.klarnaCalls, m.klarnaDuration, m.recovery, m.renewals,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// Handler serves the metrics in Prometheus's text format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{Registry: m.reg})
}

// Middleware counts every request by its route template (never the raw
// path: that would put order references and tokens in labels, and let
// clients create series without end).
func (m *Metrics) Middleware(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		start := time.Now()
		err := next(c)
		if err != nil {
			c.Error(err)
		}
		route := c.Path()
		if route == "" {
			route = "unmatched"
		}
		method := c.Request().Method
		m.httpRequests.WithLabelValues(route, method, strconv.Itoa(c.Response().Status)).Inc()
		m.httpDuration.WithLabelValues(route, method).Observe(time.Since(start).Seconds())
		return nil
	}
}

// KlarnaCall is a klarna.WithObserver callback.
func (m *Metrics) KlarnaCall(c klarna.CallInfo) {
	outcome := "ok"
	switch {
	case c.StatusCode == 0 && c.Err != nil:
		outcome = "no_answer"
	case c.Err != nil:
		outcome = strconv.Itoa(c.StatusCode)
	}
	m.klarnaCalls.WithLabelValues(c.Operation, outcome).Inc()
	if c.Duration > 0 {
		m.klarnaDuration.WithLabelValues(c.Operation).Observe(c.Duration.Seconds())
	}
}

// Begun counts a checkout whose Klarna session opened (checkout.Observer).
func (m *Metrics) Begun(market string) { m.checkouts.WithLabelValues("begun", market).Inc() }

// Placed counts an order by the state it was recorded in.
func (m *Metrics) Placed(state string) { m.checkouts.WithLabelValues("placed", state).Inc() }

// Failed counts a placement that made no order, by reason.
func (m *Metrics) Failed(reason string) { m.checkouts.WithLabelValues("failed", reason).Inc() }

// InFlight moves the placements-in-flight gauge.
func (m *Metrics) InFlight(delta int) { m.placing.Add(float64(delta)) }

// Recovered counts a recovery action.
func (m *Metrics) Recovered(action string) { m.recovery.WithLabelValues(action).Inc() }

// Renewal counts a renewal attempt by outcome (subscriptions.Observer).
func (m *Metrics) Renewal(outcome string) { m.renewals.WithLabelValues(outcome).Inc() }
