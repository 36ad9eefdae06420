package handlers

import (
	"strconv"
	"testing"
	"time"

	"github.com/gorilla/securecookie"
)

// TestDecodedSessionsExpireWithTheirCookie: a kept cookie is good exactly
// as long as securecookie would accept it, and the keeping is bounded.
func TestDecodedSessionsExpireWithTheirCookie(t *testing.T) {
	codec := securecookie.New(make([]byte, 32), make([]byte, 32))
	codec.SetSerializer(flatSerializer{})
	value, err := codec.Encode(sessionName, map[any]any{"csrf": "abc"})
	if err != nil {
		t.Fatal(err)
	}
	signed, ok := cookieTime(value)
	if !ok || time.Since(signed) > time.Minute || time.Since(signed) < -time.Second {
		t.Fatalf("signing time %v (%v)", signed, ok)
	}
	if _, ok := cookieTime(value[:len(value)/2] + "!"); ok {
		t.Error("a mangled cookie has a signing time")
	}

	var d decodedSessions
	d.put(value, &keptSession{csrf: "abc"}, signed.Add(time.Hour))
	if v, ok := d.get(value, signed.Add(59*time.Minute)); !ok || v.csrf != "abc" {
		t.Error("a live cookie is not kept")
	}
	if _, ok := d.get(value, signed.Add(61*time.Minute)); ok {
		t.Error("an expired cookie is still accepted")
	}
	if _, ok := d.get(value+"x", signed); ok {
		t.Error("another value found the kept cookie")
	}
	for i := range 3 * maxDecodedSessions {
		d.put(strconv.Itoa(i), nil, signed.Add(time.Hour))
		if n := d.len(); n > 2*maxDecodedSessions {
			t.Fatalf("%d cookies kept", n)
		}
	}
}

// TestDecodedSessionsOutlastAFloodOfNewOnes: anybody can make the shop start
// sessions (a first add to cart), each kept as it is made. A shopper who
// keeps browsing through such a flood stays kept, and so is not decoded
// again on every page; one who stopped is let go.
func TestDecodedSessionsOutlastAFloodOfNewOnes(t *testing.T) {
	var d decodedSessions
	now := time.Now()
	d.put("browsing", &keptSession{csrf: "b"}, now.Add(time.Hour))
	d.put("gone", &keptSession{csrf: "g"}, now.Add(time.Hour))
	for i := range 10 * maxDecodedSessions {
		d.put("flood-"+strconv.Itoa(i), &keptSession{}, now.Add(time.Hour))
		if i%(maxDecodedSessions/2) == 0 {
			if v, ok := d.get("browsing", now); !ok || v.csrf != "b" {
				t.Fatalf("after %d new sessions the browsing shopper's cookie is no longer kept", i+1)
			}
		}
	}
	if _, ok := d.get("gone", now); ok {
		t.Error("a cookie nobody sent through the flood is still kept")
	}
	if n := d.len(); n > 2*maxDecodedSessions {
		t.Errorf("%d cookies kept", n)
	}
}
