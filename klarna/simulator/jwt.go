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
	header := map[string]string{"alg": "HS256", "kid": s.kid}
	claims := map[string]any{
		"session_id":            ss.ID,
		"base_url":              s.cfg.BaseURL,
		"design":                "klarna",
		"language":              strings.SplitN(str(ss.Data.Locale), "-", 2)[0],
		"locale":                str(ss.Data.Locale),
		"purchase_country":      strings.ToUpper(str(ss.Data.PurchaseCountry)),
		"environment":           "simulator",
		"merchant_name":         "Simulator merchant",
		"session_type":          "PAYMENTS",
		"client_event_base_url": s.cfg.BaseURL,
		"scheme":                true,
		"experiments":           []any{},
		"iat":                   ss.CreatedAt.Unix(),
	}
	if ss.Region != "" {
		claims["region"] = ss.Region
	}
	h, err := json.Marshal(header)
	if err != nil {
		return "", err
	}
	c, err := json.Marshal(claims)
	if err != nil {
		return "", err
	}
	enc := base64.RawURLEncoding
	signing := enc.EncodeToString(h) + "." + enc.EncodeToString(c)
	return signing + "." + enc.EncodeToString(s.sign(signing)), nil
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
