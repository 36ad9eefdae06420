package views

import (
	"bytes"
	"context"
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
