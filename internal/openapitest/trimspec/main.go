// Command trimspec turns one of Klarna's public OpenAPI descriptions into the
// contract facts the tests read: the paths, methods, status codes and
// schemas of the operations this repository uses, with every description,
// summary, example and vendor extension removed. The output is our own
// document of facts, not Klarna's text; it lives in klarna/testdata/contract
// and the tests never read anything outside the repository.
//
//	go run ./internal/openapitest/trimspec -api ordermanagement -in order-management-api-openapi.yml -out klarna/testdata/contract/ordermanagement-v1.json
//
// See klarna/testdata/contract/README.md for where the inputs come from.
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"net/http"
	"os"
	"sort"
	"strconv"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"
)

// apis lists, per API, the paths whose facts the tests need.
var apis = map[string]struct {
	title string
	paths []string
}{
	"payments": {"Klarna Payments API v1", []string{
		"/payments/v1/sessions",
		"/payments/v1/sessions/{session_id}",
		"/payments/v1/authorizations/{authorizationToken}",
		"/payments/v1/authorizations/{authorizationToken}/order",
		"/payments/v1/authorizations/{authorizationToken}/customer-token",
	}},
	"ordermanagement": {"Klarna Order Management API v1", []string{
		"/ordermanagement/v1/orders/{order_id}",
		"/ordermanagement/v1/orders/{order_id}/captures",
		"/ordermanagement/v1/orders/{order_id}/captures/{capture_id}",
		"/ordermanagement/v1/orders/{order_id}/captures/{capture_id}/shipping-info",
		"/ordermanagement/v1/orders/{order_id}/refunds",
		"/ordermanagement/v1/orders/{order_id}/refunds/{refund_id}",
		"/ordermanagement/v1/orders/{order_id}/cancel",
		"/ordermanagement/v1/orders/{order_id}/release-remaining-authorization",
		"/ordermanagement/v1/orders/{order_id}/extend-authorization-time",
		"/ordermanagement/v1/orders/{order_id}/shipping-info",
	}},
	"customertoken": {"Klarna Customer Token API v1", []string{
		"/customer-token/v1/tokens/{customerToken}",
		"/customer-token/v1/tokens/{customerToken}/order",
		"/customer-token/v1/tokens/{customerToken}/status",
	}},
}

func main() {
	api := flag.String("api", "", "payments, ordermanagement or customertoken")
	in := flag.String("in", "", "Klarna's OpenAPI description (YAML or JSON)")
	out := flag.String("out", "", "file to write")
	flag.Parse()
	if err := run(*api, *in, *out); err != nil {
		fmt.Fprintln(os.Stderr, "trimspec:", err)
		os.Exit(1)
	}
}

func run(api, in, out string) error {
	def, ok := apis[api]
	if !ok || in == "" || out == "" {
		return fmt.Errorf("usage: trimspec -api payments|ordermanagement|customertoken -in SPEC -out FILE")
	}
	doc, err := openapi3.NewLoader().LoadFromFile(in)
	if err != nil {
		return err
	}
	raw, err := json.Marshal(doc)
	if err != nil {
		return err
	}
	var src map[string]any
	if err := json.Unmarshal(raw, &src); err != nil {
		return err
	}
	trimmed, err := trim(src, def.title, def.paths)
	if err != nil {
		return err
	}
	b, err := json.MarshalIndent(trimmed, "", "  ")
	if err != nil {
		return err
	}
	if err := os.WriteFile(out, append(b, '\n'), 0o644); err != nil {
		return err
	}
	// The result must load, or the tests could not use it.
	_, err = openapi3.NewLoader().LoadFromFile(out)
	return err
}

// trim keeps the listed paths and the schemas they reach, without prose.
func trim(src map[string]any, title string, paths []string) (map[string]any, error) {
	srcPaths, _ := src["paths"].(map[string]any)
	keptPaths := map[string]any{}
	for _, p := range paths {
		item, ok := srcPaths[p]
		if !ok {
			return nil, fmt.Errorf("path %s is not in the input", p)
		}
		keptPaths[p] = item
	}
	schemas := map[string]any{}
	if c, ok := src["components"].(map[string]any); ok {
		schemas, _ = c["schemas"].(map[string]any)
	}
	// Collect the schemas reachable from the kept paths.
	reach := map[string]bool{}
	var queue []string
	var visit func(v any)
	visit = func(v any) {
		switch t := v.(type) {
		case map[string]any:
			for k, x := range t {
				if s, ok := x.(string); ok && k == "$ref" {
					name, ok := strings.CutPrefix(s, "#/components/schemas/")
					if ok && !reach[name] {
						reach[name] = true
						queue = append(queue, name)
					}
					continue
				}
				visit(x)
			}
		case []any:
			for _, x := range t {
				visit(x)
			}
		}
	}
	visit(keptPaths)
	for len(queue) > 0 {
		name := queue[0]
		queue = queue[1:]
		s, ok := schemas[name]
		if !ok {
			return nil, fmt.Errorf("schema %q is referenced but missing", name)
		}
		visit(s)
	}
	keptSchemas := map[string]any{}
	names := make([]string, 0, len(reach))
	for n := range reach {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		keptSchemas[n] = schemas[n]
	}
	version := "unknown"
	if info, ok := src["info"].(map[string]any); ok {
		if v, ok := info["version"].(string); ok {
			version = v
		}
	}
	out := map[string]any{
		"openapi": src["openapi"],
		"info":    map[string]any{"title": title + " (contract facts)", "version": version},
		"servers": src["servers"],
		"paths":   strip(keptPaths, "paths"),
		"components": map[string]any{
			"schemas":         strip(keptSchemas, "schemas"),
			"securitySchemes": map[string]any{"basicAuth": map[string]any{"type": "http", "scheme": "basic"}},
		},
	}
	fixResponses(out["paths"].(map[string]any))
	return out, nil
}

// named are the maps whose keys are names chosen by the API (properties,
// status codes, media types), not OpenAPI keywords: a property called
// "description" is a fact and stays.
var named = map[string]bool{"paths": true, "schemas": true, "properties": true, "responses": true, "content": true,
	"headers": true, "patternProperties": true, "encoding": true, "variables": true, "securitySchemes": true}

// prose are the keywords that carry Klarna's wording rather than facts.
var prose = map[string]bool{"description": true, "summary": true, "example": true, "examples": true, "externalDocs": true,
	"tags": true, "title": true}

// strip removes prose and extensions from v, the value of key parent.
func strip(v any, parent string) any {
	switch t := v.(type) {
	case map[string]any:
		out := map[string]any{}
		for k, x := range t {
			if !named[parent] && (prose[k] || strings.HasPrefix(k, "x-")) {
				continue
			}
			out[k] = strip(x, k)
		}
		if !named[parent] {
			fixSchema(out)
		}
		return out
	case []any:
		out := make([]any, len(t))
		for i, x := range t {
			out[i] = strip(x, parent)
		}
		return out
	}
	return v
}

// fixSchema repairs two defects of the published descriptions that would
// make a validator reject valid documents: an enum written as one
// "a|b|c" string (the Order Management order line type), and an enum whose
// only value is null.
func fixSchema(s map[string]any) {
	enum, ok := s["enum"].([]any)
	if !ok {
		return
	}
	if len(enum) == 1 {
		switch e := enum[0].(type) {
		case nil:
			delete(s, "enum")
		case string:
			if strings.Contains(e, "|") {
				var vals []any
				for _, p := range strings.Split(e, "|") {
					vals = append(vals, p)
				}
				s["enum"] = vals
				delete(s, "pattern")
			}
		}
	}
}

// fixResponses gives every response the description OpenAPI requires (the
// status text, our words) and every header a schema.
func fixResponses(paths map[string]any) {
	for _, item := range paths {
		ops, _ := item.(map[string]any)
		for _, op := range ops {
			o, ok := op.(map[string]any)
			if !ok {
				continue
			}
			rs, _ := o["responses"].(map[string]any)
			for code, r := range rs {
				resp, ok := r.(map[string]any)
				if !ok {
					continue
				}
				if _, isRef := resp["$ref"]; isRef {
					continue
				}
				n, _ := strconv.Atoi(code)
				resp["description"] = orDefault(http.StatusText(n), "Response")
				hs, _ := resp["headers"].(map[string]any)
				for _, h := range hs {
					if hm, ok := h.(map[string]any); ok && hm["schema"] == nil && hm["$ref"] == nil {
						hm["schema"] = map[string]any{"type": "string"}
					}
				}
			}
		}
	}
}

func orDefault(v, d string) string {
	if v == "" {
		return d
	}
	return v
}
