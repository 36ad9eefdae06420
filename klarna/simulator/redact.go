package simulator

import (
	"encoding/json"
	"fmt"
	"net/url"
	"strings"
	"unicode/utf8"
)

// What the simulator shows about the sessions it holds (GET /_sim/state,
// the inspector, the recorded requests and callbacks) is redacted: secrets
// and tokens appear only as their last four characters ("…3f9a"), enough to
// match them up, and shoppers' personal data is masked ("A…",
// "a…@example.com"). The REST API still returns whole tokens to an
// authenticated caller, as Klarna does; Snapshot, for tests in the same
// process, is not redacted.

// suffix shows the end of a secret value: "…3f9a", or "…" alone for one
// too short to show any of it.
func suffix(s string) string {
	if len(s) <= 8 {
		return "…"
	}
	return "…" + s[len(s)-4:]
}

// secretKey reports whether a JSON field or URL query parameter holds a
// secret or a token: secret, callback_secret, authorization_token,
// client_token, token_id, password, key, api_key, sig, signature.
func secretKey(k string) bool {
	k = strings.ToLower(k)
	if strings.Contains(k, "secret") || strings.Contains(k, "token") || strings.Contains(k, "password") {
		return true
	}
	last := k[strings.LastIndexAny(k, "_-.")+1:]
	return last == "key" || last == "sig" || last == "signature"
}

// personal are the JSON fields of Klarna's addresses and customer that hold
// personal data, with how each is masked.
var personal = map[string]func(string) string{
	"given_name": initial, "family_name": initial, "attention": initial, "street_address": initial, "street_address2": initial,
	"postal_code": initial, "email": maskEmail, "phone": hidden, "date_of_birth": hidden, "national_identification_number": hidden,
	"last_four_ssn": hidden, "organization_registration_id": hidden, "vat_id": hidden,
}

func initial(s string) string {
	if s == "" {
		return ""
	}
	r, _ := utf8.DecodeRuneInString(s)
	return string(r) + "…"
}

func hidden(s string) string {
	if s == "" {
		return ""
	}
	return "…"
}

func maskEmail(s string) string {
	local, domain, ok := strings.Cut(s, "@")
	if !ok {
		return initial(s)
	}
	return initial(local) + "@" + domain
}

// redactURL shows a URL with its secret-looking query values shortened,
// the rest as it was.
func redactURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "(unparseable URL)"
	}
	if u.RawQuery == "" {
		return u.String()
	}
	params := strings.Split(u.RawQuery, "&")
	for i, p := range params {
		k, v, _ := strings.Cut(p, "=")
		if key, err := url.QueryUnescape(k); err != nil || secretKey(key) {
			val, _ := url.QueryUnescape(v)
			params[i] = k + "=" + suffix(val)
		}
	}
	frag := u.EscapedFragment()
	u.RawQuery, u.Fragment, u.RawFragment = "", "", ""
	out := u.String() + "?" + strings.Join(params, "&")
	if frag != "" {
		out += "#" + frag
	}
	return out
}

// redactJSON returns a JSON body with its secrets, tokens and personal data
// redacted. A body that is not JSON is not shown at all.
func redactJSON(raw []byte) string {
	if len(raw) == 0 {
		return ""
	}
	var v any
	if json.Unmarshal(raw, &v) != nil {
		return fmt.Sprintf("(%d bytes, not JSON: not shown)", len(raw))
	}
	b, _ := json.Marshal(redactValue("", v))
	return string(b)
}

func redactValue(key string, v any) any {
	switch x := v.(type) {
	case map[string]any:
		for k, val := range x {
			x[k] = redactValue(k, val)
		}
		return x
	case []any:
		for i, val := range x {
			x[i] = redactValue(key, val)
		}
		return x
	case string:
		switch {
		case personal[key] != nil:
			return personal[key](x)
		case secretKey(key):
			return suffix(x)
		case strings.HasPrefix(x, "http://") || strings.HasPrefix(x, "https://"):
			return redactURL(x)
		}
	}
	return v
}

// Redacted is the state as the simulator shows it over HTTP: session data,
// recorded request bodies and callback records without secrets, tokens or
// personal data.
func (st State) Redacted() State {
	out := st
	out.Sessions = make([]SessionInfo, len(st.Sessions))
	for i, ss := range st.Sessions {
		ss.Data = json.RawMessage(redactJSON(ss.Data))
		out.Sessions[i] = ss
	}
	out.Requests = make([]requestRecord, len(st.Requests))
	for i, r := range st.Requests {
		r.Body = redactJSON([]byte(r.Body))
		out.Requests[i] = r
	}
	return out
}
