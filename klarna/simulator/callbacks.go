package simulator

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"time"
)

var (
	errNotFound     = errors.New("simulator: no such session or order")
	errBadAuthorize = errors.New("simulator: authorization refused")
	errNotPending   = errors.New("simulator: order is not pending review")
)

// schedule runs fn after d unless the simulator is closed first.
func (s *Simulator) schedule(d time.Duration, fn func()) {
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		t := time.NewTimer(d)
		defer t.Stop()
		select {
		case <-t.C:
			fn()
		case <-s.ctx.Done():
		}
	}()
}

// deliverLater POSTs body to a merchant URL after delay, retrying with
// doubling waits until a 2xx or CallbackAttempts. Every attempt is recorded
// for the inspector.
func (s *Simulator) deliverLater(delay time.Duration, kind, target string, body []byte, sessionID, orderID string) {
	shown := redactJSON(body)
	if !s.origins.allows(target) {
		// Refused when the session was made; never sent, in any case.
		s.mu.Lock()
		s.calls = append(s.calls, &CallbackRecord{Kind: kind, URL: redactURL(target), Body: shown, Error: "not sent: the URL's origin is not on the allow-list", At: s.now(), SessionID: sessionID, OrderID: orderID})
		s.mu.Unlock()
		return
	}
	s.schedule(delay, func() {
		wait := s.cfg.CallbackBackoff
		for attempt := 1; attempt <= s.cfg.CallbackAttempts; attempt++ {
			rec := &CallbackRecord{Kind: kind, URL: redactURL(target), Body: shown, Attempt: attempt, At: s.now(), SessionID: sessionID, OrderID: orderID}
			req, err := http.NewRequestWithContext(s.ctx, http.MethodPost, target, bytes.NewReader(body))
			if err == nil {
				req.Header.Set("Content-Type", "application/json")
				req.Header.Set("User-Agent", "Klarna-Simulator/1.0")
				var resp *http.Response
				resp, err = s.http.Do(req)
				if err == nil {
					io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
					resp.Body.Close()
					rec.Status = resp.StatusCode
				}
			}
			if err != nil {
				rec.Error = err.Error()
			}
			s.mu.Lock()
			s.calls = append(s.calls, rec)
			if len(s.calls) > maxRecords {
				s.calls = s.calls[len(s.calls)-maxRecords:]
			}
			s.mu.Unlock()
			if rec.Status >= 200 && rec.Status < 300 {
				return
			}
			if attempt == s.cfg.CallbackAttempts {
				return
			}
			select {
			case <-time.After(wait):
			case <-s.ctx.Done():
				return
			}
			wait *= 2
		}
	})
}

// Decide settles a PENDING order ("accept", "reject" or "stop") and sends
// the notification Klarna sends for it.
func (s *Simulator) Decide(orderID, decision string) error {
	event, status := "", ""
	switch decision {
	case "accept":
		event, status = "FRAUD_RISK_ACCEPTED", "ACCEPTED"
	case "reject":
		event, status = "FRAUD_RISK_REJECTED", "REJECTED"
	case "stop":
		event, status = "FRAUD_RISK_STOPPED", "REJECTED"
	default:
		return errors.New("simulator: decision must be accept, reject or stop")
	}
	s.mu.Lock()
	o := s.orders[orderID]
	if o == nil {
		s.mu.Unlock()
		return errNotFound
	}
	if o.FraudStatus != "PENDING" {
		s.mu.Unlock()
		return errNotPending
	}
	now := s.now()
	o.FraudStatus = status
	o.DecidedAt = &now
	target := o.Notification
	s.mu.Unlock()
	if target != "" && !s.cfg.DisableCallbacks {
		body, _ := json.Marshal(map[string]string{"order_id": orderID, "event_type": event, "event_id": newID(), "decided_at": now.UTC().Format(time.RFC3339)})
		s.deliverLater(0, "notification", target, body, o.SessionID, orderID)
	}
	return nil
}

// Callbacks returns the recorded callback attempts, oldest first.
func (s *Simulator) Callbacks() []CallbackRecord {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]CallbackRecord, len(s.calls))
	for i, c := range s.calls {
		out[i] = *c
	}
	return out
}

// planDecisionLocked has a PENDING order decided as test data asked, once
// the simulator's clock has moved on by plan.After: when real time gets
// there, or sooner when the clock is advanced (Advance, POST /_sim/clock).
// Caller holds s.mu.
func (s *Simulator) planDecisionLocked(o *order, plan *pendingPlan) {
	at := s.now().Add(plan.After)
	o.DecideAt, o.DecideWith = &at, plan.Decision
	s.schedule(plan.After, s.decideDue)
}

// decideDue decides the pending orders whose planned decision is due.
func (s *Simulator) decideDue() {
	type due struct{ id, decision string }
	var list []due
	s.mu.Lock()
	now := s.now()
	for _, o := range s.orders {
		if o.DecideAt != nil && !now.Before(*o.DecideAt) {
			if o.FraudStatus == "PENDING" {
				list = append(list, due{o.ID, o.DecideWith})
			}
			o.DecideAt = nil
		}
	}
	s.mu.Unlock()
	for _, d := range list {
		s.Decide(d.id, d.decision)
	}
}
