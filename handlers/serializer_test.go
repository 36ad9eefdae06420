package handlers

import (
	"maps"
	"net/url"
	"testing"
)

// FuzzSessionSerializer: whatever strings the session holds come back the
// same from the cookie, and no cookie content makes decoding panic.
func FuzzSessionSerializer(f *testing.F) {
	f.Add("cart", "stoneware-mug:2,house-blend:1|FIKA10", "market", "SE")
	f.Add("a&b=c", "100% = 1 & 2", "språk", "svenska ✓")
	f.Add("", "", "k", "v=w&x")
	f.Fuzz(func(t *testing.T, k1, v1, k2, v2 string) {
		in := map[any]any{k1: v1, k2: v2}
		b, err := flatSerializer{}.Serialize(in)
		if err != nil {
			t.Fatal(err)
		}
		out := map[any]any{}
		if err := (flatSerializer{}).Deserialize(b, &out); err != nil {
			t.Fatalf("%q: %v", b, err)
		}
		want := map[any]any{}
		for k, v := range in {
			if v != "" { // empty values are not stored
				want[k] = v
			}
		}
		if !maps.Equal(out, want) {
			t.Errorf("%v came back as %v (%q)", want, out, b)
		}
		// The bytes are url.Values' own, as cookies made before have.
		v := url.Values{}
		for k, val := range want {
			v.Set(k.(string), val.(string))
		}
		if enc := v.Encode(); string(b) != enc {
			t.Errorf("%v serialized as %q, url.Values as %q", want, b, enc)
		}
		// Arbitrary bytes: an error or a map, never a panic.
		(flatSerializer{}).Deserialize([]byte(k1+v1), &map[any]any{})
	})
}

// BenchmarkSessionSerializer: a shopper's session with a cart, as every
// change to it is written.
func BenchmarkSessionSerializer(b *testing.B) {
	values := map[any]any{
		"cart": "stoneware-mug:2,house-blend:1|FIKA10", "market": "SE", "lang": "sv", "checkout": "KS-7F3K9QXM",
		"csrf": "b3f1c2d4e5f60718293a4b5c6d7e8f90", "orders": "KS-AAAAAAAA", "flash": "", "review": "", "bid": "0123456789abcdef01234567", "since": "1795000000",
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := (flatSerializer{}).Serialize(values); err != nil {
			b.Fatal(err)
		}
	}
}
