package main

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/url"
	"strings"

	"github.com/fikaandform/storefront/config"
	"github.com/fikaandform/storefront/handlers"
	"github.com/fikaandform/storefront/klarna"
	"github.com/fikaandform/storefront/klarna/simulator"
)

// connectKlarna builds a Klarna client per region with an account, first
// starting the built-in simulator they talk to in simulator mode, and
// settles the markets those regions serve.
func (a *app) connectKlarna() error {
	simURL := ""
	if a.cfg.Mode == config.ModeSimulator && a.cfg.KlarnaAPIURL == "" {
		simURL = a.baseURL + handlers.SimulatorPath
		if err := a.startSimulator(simURL); err != nil {
			return err
		}
	}
	a.showWidget(simURL)
	accounts, err := a.cfg.KlarnaAccounts(simURL)
	if err != nil {
		return err
	}
	a.clients, err = klarna.NewClients(accounts, klarna.WithEnvironment(a.cfg.KlarnaEnvironment()),
		klarna.WithUserAgent("FikaAndForm/1.0"), klarna.WithLogger(a.log.With("component", "klarna")), klarna.WithObserver(a.metrics.KlarnaCall))
	if err != nil {
		return err
	}
	a.markets = liveMarkets(a.clients)
	if len(a.markets.codes) == 0 {
		return fmt.Errorf("no market can be offered: Klarna accounts in %v serve none of the shop's markets", a.clients.Regions())
	}
	a.web.Markets, a.web.MarketNotes, a.web.MarketDetail = a.markets.codes, a.markets.notes, a.markets.detail
	a.web.ModeDetail = "regions " + strings.Join(a.markets.regions, ", ")
	return nil
}

// startSimulator starts the built-in simulator, to be mounted at simURL,
// with a regional host per account.
func (a *app) startSimulator(simURL string) error {
	regions := map[string]simulator.Credentials{}
	for _, acc := range a.cfg.Accounts {
		regions[string(acc.Region)] = simulator.Credentials{Username: acc.Username, Password: acc.Password}
	}
	sim, err := simulator.New(simulator.Config{
		// The root and the regions without an account take credentials
		// nobody is given: they answer 401, like a region where the
		// merchant has no account.
		BaseURL: simURL, Username: "sim_unused", Password: randomPassword(), Regions: regions,
		CallbackDelay:        a.cfg.Simulator.CallbackDelay,
		PendingDecisionDelay: a.cfg.Simulator.PendingDecisionDelay,
		PendingDecision:      a.cfg.Simulator.PendingDecision,
		Faults:               a.cfg.Simulator.Faults,
		MaxSessions:          a.cfg.Simulator.MaxSessions,
		AllowedOrigins:       simulatorOrigins(a.baseURL, a.web.AllowedHosts),
		Logger:               a.log.With("component", "simulator"),
	})
	if err != nil {
		return err
	}
	a.sim = sim
	a.onClose(func() { sim.Close() })
	makeRoomForSimulator(a.cfg.Simulator.MaxSessions)
	return nil
}

// showWidget tells the handlers where the checkout page loads Klarna's
// widget from in this mode, and what the mode is called.
func (a *app) showWidget(simURL string) {
	w := &a.web
	switch {
	case a.sim != nil:
		// The browser reaches the widget by the name it used for the shop
		// (localhost, 127.0.0.1, a LAN address): paths, not URLs.
		w.Mode, w.Simulator, w.SimulatorBase = "Klarna simulator", true, simURL
		w.InspectorURL, w.WidgetScript = handlers.SimulatorPath+"/_sim/", handlers.SimulatorPath+"/kp/lib/v1/api.js"
		w.OSM = handlers.OSM{Script: handlers.SimulatorPath + "/web-sdk/v1/klarna.js", ClientID: simulatorClientID(a.cfg.KlarnaClientID)}
	case a.cfg.Mode == config.ModeSimulator:
		// A standalone simulator (klarna-sim): its widget, from the origin
		// browsers reach it at.
		standalone := strings.TrimRight(a.cfg.KlarnaSimPublicURL, "/")
		u, _ := url.Parse(standalone)
		w.Mode, w.Simulator = "Klarna simulator (standalone)", true
		w.InspectorURL, w.WidgetScript = standalone+"/_sim/", standalone+"/kp/lib/v1/api.js"
		w.KlarnaHosts = handlers.SimulatorCSP(u.Scheme + "://" + u.Host)
		w.OSM = handlers.OSM{Script: standalone + "/web-sdk/v1/klarna.js", ClientID: simulatorClientID(a.cfg.KlarnaClientID)}
	default:
		w.Mode = "Klarna " + string(a.cfg.Mode)
		w.WidgetScript = "https://x.klarnacdn.net/kp/lib/v1/api.js"
		w.KlarnaHosts = handlers.KlarnaCSP(a.cfg.Mode == config.ModePlayground)
		w.OSM = handlers.KlarnaOSM(a.cfg.KlarnaClientID, string(a.cfg.Mode))
	}
}

// simulatorOrigins are where the built-in simulator may call back and
// redirect: the shop's BASE_URL and its local names, never another host.
func simulatorOrigins(baseURL string, hosts []string) []string {
	out := []string{baseURL}
	if u, err := url.Parse(baseURL); err == nil {
		out[0] = u.Scheme + "://" + u.Host
	}
	for _, h := range hosts {
		out = append(out, "http://"+h)
	}
	return out
}

// randomPassword is a password nobody is told.
func randomPassword() string {
	b := make([]byte, 16)
	rand.Read(b)
	return "sim_" + hex.EncodeToString(b)
}
