package simulator

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// FaultKind is what an injected fault does to a request.
type FaultKind string

// Fault kinds.
const (
	// FaultStatus answers with an HTTP error (500, 503 or 429) without
	// running the operation.
	FaultStatus FaultKind = "status"
	// FaultLatency delays the request, then runs it.
	FaultLatency FaultKind = "latency"
	// FaultHang never answers (until the client gives up).
	FaultHang FaultKind = "hang"
	// FaultDrop closes the connection without running the operation.
	FaultDrop FaultKind = "drop"
	// FaultAnswerLost runs the operation, then closes the connection
	// without answering: "done at Klarna but the answer lost".
	FaultAnswerLost FaultKind = "lost"
)

// Fault is one injected fault for one operation.
type Fault struct {
	Operation  string        `json:"operation"`
	Kind       FaultKind     `json:"kind"`
	Status     int           `json:"status,omitempty"`
	RetryAfter int           `json:"retry_after,omitempty"`
	Latency    time.Duration `json:"latency,omitempty"`
	// Times is how many requests it affects; 0 means all of them.
	Times int `json:"times,omitempty"`
}

func (f *Fault) String() string {
	switch f.Kind {
	case FaultStatus:
		return strconv.Itoa(f.Status)
	case FaultLatency:
		return "latency " + f.Latency.String()
	}
	return string(f.Kind)
}

var knownOps = set(OpCreateSession, OpGetSession, OpUpdateSession, OpCreateOrder, OpCancelAuthorization, OpCustomerToken, OpGetOrder,
	OpCapture, OpListCaptures, OpGetCapture, OpAddCaptureShippingInfo, OpAddShippingInfo, OpRefund, OpGetRefund,
	OpCancelOrder, OpReleaseAuthorization, OpExtendAuthorization,
	OpCreateTokenOrder, OpGetCustomerToken, OpCancelCustomerToken)

// ParseFaults reads a fault list such as
//
//	create_order=503*1,create_session=latency:2s,get_session=hang,capture=lost*1
//
// Operations are the Op constants: create_session, get_session,
// update_session, create_order, cancel_authorization,
// generate_customer_token, get_order, capture, list_captures, get_capture,
// add_capture_shipping_info, add_shipping_info, refund, get_refund,
// cancel_order, release_authorization, extend_authorization,
// create_token_order, get_customer_token and cancel_customer_token.
//
// Each item is operation=kind[:argument][*times]. Kinds: 500, 503, 429
// (argument: Retry-After seconds, default 1), latency (argument: duration),
// hang, drop, lost. Without *times a fault applies to every request.
func ParseFaults(spec string) ([]*Fault, error) {
	var out []*Fault
	for _, item := range strings.Split(spec, ",") {
		item = strings.TrimSpace(item)
		if item == "" {
			continue
		}
		op, rest, ok := strings.Cut(item, "=")
		if !ok || !knownOps[op] {
			return nil, fmt.Errorf("simulator: fault %q: want operation=kind with a known operation", item)
		}
		f := &Fault{Operation: op}
		if kind, times, ok := strings.Cut(rest, "*"); ok {
			n, err := strconv.Atoi(times)
			if err != nil || n < 1 {
				return nil, fmt.Errorf("simulator: fault %q: bad count", item)
			}
			f.Times, rest = n, kind
		}
		kind, arg, _ := strings.Cut(rest, ":")
		switch kind {
		case "500", "503", "429":
			f.Kind = FaultStatus
			f.Status, _ = strconv.Atoi(kind)
			if kind == "429" {
				f.RetryAfter = 1
				if arg != "" {
					n, err := strconv.Atoi(arg)
					if err != nil || n < 0 {
						return nil, fmt.Errorf("simulator: fault %q: bad Retry-After", item)
					}
					f.RetryAfter = n
				}
			}
		case "latency":
			d, err := time.ParseDuration(arg)
			if err != nil || d <= 0 {
				return nil, fmt.Errorf("simulator: fault %q: latency needs a duration, as latency:2s", item)
			}
			f.Kind, f.Latency = FaultLatency, d
		case "hang", "drop", "lost":
			f.Kind = FaultKind(kind)
		default:
			return nil, fmt.Errorf("simulator: fault %q: unknown kind %q", item, kind)
		}
		out = append(out, f)
	}
	return out, nil
}

// InjectFault adds a fault. Faults for one operation apply in the order
// added; one with Times runs out and the next takes over.
func (s *Simulator) InjectFault(f Fault) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults[f.Operation] = append(s.faults[f.Operation], &f)
}

// ClearFaults removes every injected fault.
func (s *Simulator) ClearFaults() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = map[string][]*Fault{}
}

// takeFault returns the fault to apply to this request, if any, and uses up
// one of its Times.
func (s *Simulator) takeFault(op string) *Fault {
	s.mu.Lock()
	defer s.mu.Unlock()
	list := s.faults[op]
	if len(list) == 0 {
		return nil
	}
	f := list[0]
	if f.Times > 0 {
		f.Times--
		if f.Times == 0 {
			s.faults[op] = list[1:]
		}
		cp := *f
		return &cp
	}
	return f
}

// setFaults is the control endpoint: POST a JSON fault, or {"spec": "..."}.
func (s *Simulator) setFaults(w http.ResponseWriter, r *http.Request) {
	body, ok := readBody(r)
	if !ok {
		http.Error(w, "too large", http.StatusRequestEntityTooLarge)
		return
	}
	var req struct {
		Spec string `json:"spec"`
	}
	if err := json.Unmarshal(body, &req); err != nil {
		http.Error(w, "want JSON {\"spec\": \"create_order=503*1\"}", http.StatusBadRequest)
		return
	}
	faults, err := ParseFaults(req.Spec)
	if err != nil || len(faults) == 0 {
		http.Error(w, fmt.Sprint("bad fault spec: ", err), http.StatusBadRequest)
		return
	}
	for _, f := range faults {
		s.InjectFault(*f)
	}
	w.WriteHeader(http.StatusNoContent)
}
