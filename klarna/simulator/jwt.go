package simulator

import (
	"crypto/ecdsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"math/big"
	"strings"
)

// clientToken signs a JWT shaped like Klarna's client_token: a header with
// alg and kid only, and the claims seen in Klarna's tokens (session id,
// base URLs, design, language, market, environment, merchant name, session
// type, scheme, experiments). The widget stand-in talks to the host it was
// loaded from, not to base_url (see assets/api.js), as a page that loads
// Klarna's script talks to Klarna.
func (s *Simulator) clientToken(ss *session) (string, error) {
	header := map[string]string{"alg": "ES256", "kid": s.kid}
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
	sum := sha256.Sum256([]byte(signing))
	r, sv, err := ecdsa.Sign(randReader, s.key, sum[:])
	if err != nil {
		return "", err
	}
	sig := make([]byte, 64)
	r.FillBytes(sig[:32])
	sv.FillBytes(sig[32:])
	return signing + "." + enc.EncodeToString(sig), nil
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
	if err != nil || len(sig) != 64 {
		return "", errors.New("bad signature encoding")
	}
	sum := sha256.Sum256([]byte(parts[0] + "." + parts[1]))
	r, sv := new(big.Int).SetBytes(sig[:32]), new(big.Int).SetBytes(sig[32:])
	if !ecdsa.Verify(&s.key.PublicKey, sum[:], r, sv) {
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
