package klarna

import (
	"net/http"
	"strconv"
	"strings"
	"testing"
)

// FuzzErrorDecoding gives the error decoder any status and body, as a proxy
// or a broken Klarna might: it must not panic, and the error must still say
// which operation failed and with what status.
func FuzzErrorDecoding(f *testing.F) {
	for _, b := range []string{fixture("error_bad_value"), fixture("error_409"), "", "<html>502</html>", `{"error_code":`, `{"error_messages":"not a list"}`, `null`, `[1,2]`, "\x00\xff"} {
		f.Add(400, "application/json", b)
		f.Add(503, "text/html", b)
	}
	f.Fuzz(func(t *testing.T, status int, ctype, body string) {
		if status < 100 || status > 999 {
			status = 500
		}
		resp := &Response{Operation: "create_order", StatusCode: status, Header: http.Header{"Content-Type": {ctype}}, CorrelationID: "c-1"}
		e := newError("create_order", resp, []byte(body))
		msg := e.Error()
		if !strings.Contains(msg, "create_order") || !strings.Contains(msg, strconv.Itoa(status)) {
			t.Fatalf("message %q lacks the operation or status", msg)
		}
		if string(e.Body) != body || e.CorrelationID == "" {
			t.Fatalf("raw body or correlation id lost: %+v", e)
		}
	})
}
