package simulator

import (
	"strconv"
	"strings"
	"time"
)

// Klarna's playground decides an authorization by the shopper's e-mail
// (docs/KLARNA.md, "Playground test data"). The simulator accepts the same test identities
// beside its own tags (anna+decline@example.com), so that a merchant moving
// from the simulator to the playground keeps the test data:
//
//	e-mail                                  outcome
//	customer@email.{cc}                     approved
//	customer+{cc}@klarna.com                approved
//	customer+denied@email.{cc}              declined
//	customer+{cc}+denied@klarna.com         declined
//	customer+pend-accept-NN@email.{cc}      approved; the order is PENDING, accepted NN minutes later (US and GB)
//	customer+pend-reject-NN@email.{cc}      approved; the order is PENDING, rejected NN minutes later (US and GB)
//
// {cc} is the market's country code in lower case; the United Kingdom is
// uk (gb and co.uk are accepted too). Other documented suffixes (+new_user,
// +disputed-…, +denied+auth_…) approve.
//
// Choice: an identity works in its own market only ("one test account works
// in one market only"): customer@email.de in a GB session is not test data
// and the dialog asks. The pending pattern is honoured in the US and the UK
// only, as documented; elsewhere the identity approves. Minutes are the
// simulator's clock: POST /_sim/clock moves them on.

// pendingPlan is a decision the test data schedules for a PENDING order.
type pendingPlan struct {
	Decision string // accept or reject
	After    time.Duration
}

// playgroundOutcome reads a playground test identity from an e-mail in a
// session for country. It returns "" when the e-mail is not one.
func playgroundOutcome(email, country string) (outcome string, plan *pendingPlan) {
	local, domain, ok := strings.Cut(strings.ToLower(strings.TrimSpace(email)), "@")
	if !ok {
		return "", nil
	}
	tags := strings.Split(local, "+")
	tags = tags[1:]
	var cc string
	switch {
	case strings.HasPrefix(domain, "email."):
		cc = strings.TrimPrefix(domain, "email.")
	case domain == "klarna.com" && len(tags) > 0:
		cc, tags = tags[0], tags[1:]
	default:
		return "", nil
	}
	if !identityCountry(cc, country) {
		return "", nil
	}
	outcome = OutcomeApprove
	for _, tag := range tags {
		switch {
		case tag == "denied":
			return OutcomeDecline, nil
		case strings.HasPrefix(tag, "pend-accept-"), strings.HasPrefix(tag, "pend-reject-"):
			n, err := strconv.Atoi(tag[len("pend-accept-"):])
			if err != nil || n < 0 || n > 99 || len(tag) != len("pend-accept-00") {
				continue
			}
			if c := strings.ToUpper(country); c != "US" && c != "GB" {
				continue
			}
			decision := "accept"
			if strings.HasPrefix(tag, "pend-reject-") {
				decision = "reject"
			}
			outcome, plan = OutcomePending, &pendingPlan{Decision: decision, After: time.Duration(n) * time.Minute}
		}
	}
	return outcome, plan
}

// identityCountry reports whether an identity's country code names the
// session's country.
func identityCountry(cc, country string) bool {
	country = strings.ToUpper(country)
	switch cc {
	case "uk", "gb", "co.uk":
		return country == "GB"
	}
	return len(cc) == 2 && strings.ToUpper(cc) == country
}
