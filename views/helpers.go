package views

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"strconv"

	"github.com/a-h/templ"
)

func strconvItoa(n int) string { return strconv.Itoa(n) }

// Render renders a component into a buffer, so that a failure can still
// become an error page instead of half a page.
func Render(ctx context.Context, c templ.Component) ([]byte, error) {
	var buf bytes.Buffer
	if err := c.Render(ctx, &buf); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// JSONBlock is data for a page's script, encoded once by NewJSONBlock and
// written as it is into a <script type="application/json"> element on every
// page that carries it (templ.JSONScript would encode it again each time).
type JSONBlock struct{ b []byte }

// NewJSONBlock encodes v. json.Marshal escapes <, > and & inside strings,
// so nothing in the block can close the element or open a comment.
func NewJSONBlock(v any) (JSONBlock, error) {
	b, err := json.Marshal(v)
	return JSONBlock{b}, err
}

// jsonBlock writes b as the JSON script element id.
func jsonBlock(id string, b JSONBlock) templ.Component {
	return templ.ComponentFunc(func(ctx context.Context, w io.Writer) error {
		if _, err := io.WriteString(w, `<script id="`+templ.EscapeString(id)+`" type="application/json">`); err != nil {
			return err
		}
		if _, err := w.Write(b.b); err != nil {
			return err
		}
		_, err := io.WriteString(w, "</script>")
		return err
	})
}
