// Package openapitest validates JSON documents and whole HTTP exchanges
// against the contract facts of Klarna's APIs in tests: the client's
// requests, the simulator's responses.
//
// The facts are trimmed OpenAPI documents kept in the repository, under
// klarna/testdata/contract (see the README there for their sources). Nothing
// outside the repository is read, so the contract tests run, and never skip,
// in any clone.
package openapitest

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
)

// API names one of the contract documents.
type API string

// The APIs whose contract facts the repository keeps.
const (
	Payments        API = "payments-v1"
	OrderManagement API = "ordermanagement-v1"
	CustomerToken   API = "customertoken-v1"
)

// APIFor returns the API a request path belongs to, by its prefix.
func APIFor(path string) (API, bool) {
	switch {
	case strings.HasPrefix(path, "/payments/v1/"):
		return Payments, true
	case strings.HasPrefix(path, "/ordermanagement/v1/"):
		return OrderManagement, true
	case strings.HasPrefix(path, "/customer-token/v1/"):
		return CustomerToken, true
	}
	return "", false
}

type loaded struct {
	once sync.Once
	doc  *openapi3.T
	err  error
}

var docs = map[API]*loaded{Payments: {}, OrderManagement: {}, CustomerToken: {}}

// contractDir finds klarna/testdata/contract in the repository: from the
// working directory (a test runs in its package's folder) up to go.mod, or
// else beside this source file.
func contractDir() (string, error) {
	var starts []string
	if wd, err := os.Getwd(); err == nil {
		starts = append(starts, wd)
	}
	if _, file, _, ok := runtime.Caller(0); ok {
		starts = append(starts, filepath.Dir(file))
	}
	for _, dir := range starts {
		for d := dir; ; d = filepath.Dir(d) {
			if _, err := os.Stat(filepath.Join(d, "go.mod")); err == nil {
				c := filepath.Join(d, "klarna", "testdata", "contract")
				if _, err := os.Stat(c); err == nil {
					return c, nil
				}
				break
			}
			if filepath.Dir(d) == d {
				break
			}
		}
	}
	return "", errors.New("openapitest: klarna/testdata/contract not found above the working directory")
}

// LoadAPI returns the parsed contract document of an API. A missing or
// broken document fails the test: the contract is part of the repository.
func LoadAPI(t testing.TB, api API) *openapi3.T {
	t.Helper()
	l, ok := docs[api]
	if !ok {
		t.Fatalf("openapitest: unknown API %q", api)
	}
	l.once.Do(func() {
		dir, err := contractDir()
		if err != nil {
			l.err = err
			return
		}
		l.doc, l.err = openapi3.NewLoader().LoadFromFile(filepath.Join(dir, string(api)+".json"))
	})
	if l.err != nil {
		t.Fatalf("openapitest: loading %s: %v", api, l.err)
	}
	return l.doc
}

// Load returns the Klarna Payments v1 contract.
func Load(t testing.TB) *openapi3.T { return LoadAPI(t, Payments) }

// Kind says whether a document is sent to Klarna or received from it, which
// decides how readOnly properties are treated.
type Kind int

const (
	Request Kind = iota
	Response
)

func visitOpt(kind Kind) openapi3.SchemaValidationOption {
	if kind == Response {
		return openapi3.VisitAsResponse()
	}
	return openapi3.VisitAsRequest()
}

// Validate checks body against the named component schema and returns the
// violation, if any.
func Validate(t testing.TB, spec *openapi3.T, schema string, kind Kind, body []byte) error {
	t.Helper()
	ref, ok := spec.Components.Schemas[schema]
	if !ok || ref.Value == nil {
		t.Fatalf("no schema %q in the contract", schema)
	}
	var v any
	if err := json.Unmarshal(body, &v); err != nil {
		return err
	}
	return ref.Value.VisitJSON(v, visitOpt(kind), openapi3.MultiErrors())
}

// errorBody is the error shape every Klarna API shares (correlation_id,
// error_code, error_messages), used for error statuses whose body the
// contract does not describe.
var errorBody = func() *openapi3.Schema {
	s := openapi3.NewObjectSchema().
		WithProperty("correlation_id", openapi3.NewStringSchema()).
		WithProperty("error_code", openapi3.NewStringSchema()).
		WithProperty("error_messages", openapi3.NewArraySchema().WithItems(openapi3.NewStringSchema()))
	s.Required = []string{"error_code"}
	return s
}()

// Exchange is one HTTP request and its answer, as recorded in a test.
type Exchange struct {
	Method        string
	Path          string // escaped path, without the query
	RequestHeader http.Header
	RequestBody   []byte
	Status        int
	Header        http.Header
	Body          []byte
}

// FindOperation returns the contract's operation for a method and path, and
// the path template that matched.
func FindOperation(spec *openapi3.T, method, path string) (*openapi3.Operation, string) {
	segs := strings.Split(strings.Trim(path, "/"), "/")
	keys := spec.Paths.Keys()
	sort.Strings(keys)
	for _, tmpl := range keys {
		ts := strings.Split(strings.Trim(tmpl, "/"), "/")
		if len(ts) != len(segs) {
			continue
		}
		match := true
		for i, s := range ts {
			if strings.HasPrefix(s, "{") && strings.HasSuffix(s, "}") {
				if segs[i] == "" {
					match = false
				}
				continue
			}
			if s != segs[i] {
				match = false
				break
			}
		}
		if match {
			return spec.Paths.Value(tmpl).GetOperation(method), tmpl
		}
	}
	return nil, ""
}

// ValidateRequest checks a request against its operation: the operation
// exists, required headers are present and the body matches the request
// schema (or is absent when the operation takes none).
func ValidateRequest(spec *openapi3.T, method, path string, header http.Header, body []byte) error {
	op, tmpl := FindOperation(spec, method, path)
	if op == nil {
		return fmt.Errorf("%s %s is not an operation of the contract", method, path)
	}
	var errs []error
	for _, p := range op.Parameters {
		if p.Value != nil && p.Value.In == "header" && p.Value.Required && header.Get(p.Value.Name) == "" {
			errs = append(errs, fmt.Errorf("%s %s: required header %s missing", method, tmpl, p.Value.Name))
		}
	}
	empty := len(bytes.TrimSpace(body)) == 0
	rb := op.RequestBody
	switch {
	case rb == nil || rb.Value == nil:
		if !empty {
			errs = append(errs, fmt.Errorf("%s %s takes no body, got %s", method, tmpl, body))
		}
	case empty:
		if rb.Value.Required {
			errs = append(errs, fmt.Errorf("%s %s: request body required", method, tmpl))
		}
	default:
		mt := rb.Value.Content.Get("application/json")
		if mt == nil || mt.Schema == nil || mt.Schema.Value == nil {
			break
		}
		if err := visit(mt.Schema.Value, Request, body); err != nil {
			errs = append(errs, fmt.Errorf("%s %s request: %w", method, tmpl, err))
		}
	}
	return errors.Join(errs...)
}

// ValidateResponse checks an answer against its operation: a success status
// the contract declares, with the declared headers and a body matching the
// declared schema (or no body when none is declared). Error statuses must
// carry the declared error schema, or Klarna's common error body.
func ValidateResponse(spec *openapi3.T, method, path string, status int, header http.Header, body []byte) error {
	op, tmpl := FindOperation(spec, method, path)
	if op == nil {
		return fmt.Errorf("%s %s is not an operation of the contract", method, path)
	}
	name := fmt.Sprintf("%s %s %d", method, tmpl, status)
	empty := len(bytes.TrimSpace(body)) == 0
	ref := op.Responses.Status(status)
	if ref == nil || ref.Value == nil {
		if status < 400 {
			var declared []string
			for code := range op.Responses.Map() {
				declared = append(declared, code)
			}
			slices.Sort(declared)
			return fmt.Errorf("%s: status not in the contract (declared: %s)", name, strings.Join(declared, ", "))
		}
		if err := visit(errorBody, Response, body); err != nil {
			return fmt.Errorf("%s: error body: %w", name, err)
		}
		return nil
	}
	var errs []error
	for h := range ref.Value.Headers {
		if header.Get(h) == "" {
			errs = append(errs, fmt.Errorf("%s: header %s missing", name, h))
		}
	}
	var schema *openapi3.Schema
	if mt := ref.Value.Content.Get("application/json"); mt != nil && mt.Schema != nil {
		schema = mt.Schema.Value
	}
	switch {
	case status == http.StatusCreated && empty:
		// Order Management declares a string body for some 201s but sends
		// none; the facts that matter are the headers.
	case status == http.StatusNoContent || (status == http.StatusAccepted && schema == nil):
		if !empty {
			errs = append(errs, fmt.Errorf("%s: want no body, got %s", name, body))
		}
	case schema == nil && status >= 400:
		if err := visit(errorBody, Response, body); err != nil {
			errs = append(errs, fmt.Errorf("%s: error body: %w", name, err))
		}
	case schema == nil:
		if !empty {
			errs = append(errs, fmt.Errorf("%s: the contract declares no body, got %s", name, body))
		}
	default:
		if err := visit(schema, Response, body); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", name, err))
		}
	}
	return errors.Join(errs...)
}

// ValidateExchange checks both halves of an exchange against the contract
// of the API its path belongs to.
func ValidateExchange(t testing.TB, x Exchange) error {
	t.Helper()
	api, ok := APIFor(x.Path)
	if !ok {
		return fmt.Errorf("%s: not a Klarna API path", x.Path)
	}
	spec := LoadAPI(t, api)
	return errors.Join(
		ValidateRequest(spec, x.Method, x.Path, x.RequestHeader, x.RequestBody),
		ValidateResponse(spec, x.Method, x.Path, x.Status, x.Header, x.Body))
}

func visit(s *openapi3.Schema, kind Kind, body []byte) error {
	var v any
	if err := json.Unmarshal(body, &v); err != nil {
		return fmt.Errorf("not JSON (%w): %.200s", err, body)
	}
	return s.VisitJSON(v, visitOpt(kind), openapi3.MultiErrors())
}
