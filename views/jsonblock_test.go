package views

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
)

// A JSON block holds what json.Marshal made of the data, and nothing in
// the data can end the script element early or open a comment in it.
func TestJSONBlockStaysInItsElement(t *testing.T) {
	in := map[string]string{"closed": "</script><script>alert(1)</script>", "comment": "<!-- x -->", "amp": "Fika & Form", "plain": "Betala {name}"}
	b, err := NewJSONBlock(in)
	if err != nil {
		t.Fatal(err)
	}
	var out strings.Builder
	if err := jsonBlock("checkout-messages", b).Render(context.Background(), &out); err != nil {
		t.Fatal(err)
	}
	html := out.String()
	const open, end = `<script id="checkout-messages" type="application/json">`, "</script>"
	if !strings.HasPrefix(html, open) || !strings.HasSuffix(html, end) {
		t.Fatalf("not one script element: %s", html)
	}
	body := strings.TrimSuffix(strings.TrimPrefix(html, open), end)
	if strings.ContainsAny(body, "<>&") {
		t.Errorf("unescaped <, > or & in the block: %s", body)
	}
	var back map[string]string
	if err := json.Unmarshal([]byte(body), &back); err != nil {
		t.Fatal(err)
	}
	for k, v := range in {
		if back[k] != v {
			t.Errorf("%s: %q came back as %q", k, v, back[k])
		}
	}
}
