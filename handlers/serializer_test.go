package handlers

import (
	"maps"
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
		// Arbitrary bytes: an error or a map, never a panic.
		(flatSerializer{}).Deserialize([]byte(k1+v1), &map[any]any{})
	})
}
