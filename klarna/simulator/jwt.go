package simulator

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"strings"
)

// clientToken signs a JWT shaped like Klarna's client_token: a header with
// alg and kid only, and the claims seen in Klarna's tokens (session id,
// base URLs, design, language, market, environment, merchant name, session
// type, scheme, experiments). The widget stand-in talks to the host it was
// loaded from, not to base_url (see assets/api.js), as a page that loads
// Klarna's script talks to Klarna.
func (s *Simulator) clientToken(ss *session) (string, error) {
	c, err := json.Marshal(tokenClaims{
		SessionID: ss.ID, BaseURL: s.cfg.BaseURL, Design: "klarna",
		Language: strings.SplitN(str(ss.Data.Locale), "-", 2)[0], Locale: str(ss.Data.Locale),
		PurchaseCountry: strings.ToUpper(str(ss.Data.PurchaseCountry)), Environment: "simulator",
		MerchantName: "Simulator merchant", SessionType: "PAYMENTS", ClientEventBaseURL: s.cfg.BaseURL,
		Scheme: true, Experiments: []any{}, IssuedAt: ss.CreatedAt.Unix(), Region: ss.Region,
	})
	if err != nil {
		return "", err
	}
	h, err := json.Marshal(map[string]string{"alg": "HS256", "kid": s.kid})
	if err != nil {
		return "", err
	}
	enc := base64.RawURLEncoding
	signing := enc.EncodeToString(h) + "." + enc.EncodeToString(c)
	return signing + "." + enc.EncodeToString(s.sign(signing)), nil
}

// tokenClaims are a client token's claims, in a struct rather than a map:
// a map's keys are sorted on every encoding.
type tokenClaims struct {
	SessionID          string `json:"session_id"`
	BaseURL            string `json:"base_url"`
	Design             string `json:"design"`
	Language           string `json:"language"`
	Locale             string `json:"locale"`
	PurchaseCountry    string `json:"purchase_country"`
	Environment        string `json:"environment"`
	MerchantName       string `json:"merchant_name"`
	SessionType        string `json:"session_type"`
	ClientEventBaseURL string `json:"client_event_base_url"`
	Scheme             bool   `json:"scheme"`
	Experiments        []any  `json:"experiments"`
	IssuedAt           int64  `json:"iat"`
	Region             string `json:"region,omitempty"`
}

// sign is the token's HMAC-SHA256 under the simulator's own random key:
// only the simulator checks it (the shop treats the token as opaque, as it
// must treat Klarna's), and an HMAC costs a microsecond where a public-key
// signature cost a tenth of a millisecond on every session.
func (s *Simulator) sign(signing string) []byte {
	m := hmac.New(sha256.New, s.key)
	m.Write([]byte(signing))
	return m.Sum(nil)
}

// verifyClientToken checks a client token's signature and returns its
// session id.
func (s *Simulator) verifyClientToken(tok string) (string, error) {
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		return "", errors.New("not a JWT")
	}
	enc := base64.RawURLEncoding
	sig, err := enc.DecodeString(parts[2])
	if err != nil || len(sig) != sha256.Size {
		return "", errors.New("bad signature encoding")
	}
	if !hmac.Equal(sig, s.sign(parts[0]+"."+parts[1])) {
		return "", errors.New("signature does not verify")
	}
	payload, err := enc.DecodeString(parts[1])
	if err != nil {
		return "", errors.New("bad payload encoding")
	}
	var claims struct {
		SessionID string `json:"session_id"`
	}
	if err := json.Unmarshal(payload, &claims); err != nil || claims.SessionID == "" {
		return "", errors.New("no session id in token")
	}
	return claims.SessionID, nil
}
