package realtime

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

// request is one HTTP call to the server.
type request struct {
	op     string // for errors: "functions rooms/join"
	method string
	path   string // "/functions/v1/rooms/join"
	query  string // already encoded, without "?"
	body   any    // encoded as JSON; nil sends no body
	header map[string]string
	// bearer is the Authorization token; "" sends none.
	bearer string
}

// response is a read HTTP response.
type response struct {
	status int
	header http.Header
	body   []byte
}

func (c *Client) do(ctx context.Context, r request) (response, error) {
	var body io.Reader
	if r.body != nil {
		b, err := json.Marshal(r.body)
		if err != nil {
			return response{}, fmt.Errorf("%s: %w: %w", r.op, ErrInvalid, err)
		}
		body = bytes.NewReader(b)
	}
	u := c.baseURL + r.path
	if r.query != "" {
		u += "?" + r.query
	}
	req, err := http.NewRequestWithContext(ctx, r.method, u, body)
	if err != nil {
		return response{}, fmt.Errorf("%s: %w", r.op, err)
	}
	req.Header.Set("apikey", c.anonKey)
	req.Header.Set("X-Client-Info", c.clientInfo)
	if r.bearer != "" {
		req.Header.Set("Authorization", "Bearer "+r.bearer)
	}
	if r.body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	for k, v := range r.header {
		req.Header.Set(k, v)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return response{}, fmt.Errorf("%s: %w", r.op, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxResponseBytes))
	if err != nil {
		return response{}, fmt.Errorf("%s: read reply: %w", r.op, err)
	}
	return response{status: resp.StatusCode, header: resp.Header, body: b}, nil
}

// errorBody is every error shape the API sends: Edge Functions
// {"success":false,"error":{code,message}}, PostgREST {code,message,details,hint}, GoTrue
// {code,message} or legacy {error,error_description,msg}, the gateway's {code:401,message}.
type errorBody struct {
	Error            json.RawMessage `json:"error"`
	Code             json.RawMessage `json:"code"`
	Message          string          `json:"message"`
	Msg              string          `json:"msg"`
	ErrorDescription string          `json:"error_description"`
	ErrorCode        string          `json:"error_code"`
	Details          json.RawMessage `json:"details"`
	Hint             json.RawMessage `json:"hint"`
}

// apiError builds the typed error of a non-2xx reply.
func apiError(op string, r response) *APIError {
	e := &APIError{Op: op, Status: r.status, Kind: kindForStatus(r.status), Body: r.body}
	var b errorBody
	if json.Unmarshal(r.body, &b) != nil {
		e.Message = strings.TrimSpace(string(r.body))
		if len(e.Message) > 200 {
			e.Message = e.Message[:200]
		}
		return e
	}
	var inner struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	}
	if len(b.Error) > 0 && b.Error[0] == '{' && json.Unmarshal(b.Error, &inner) == nil {
		e.Code, e.Message = inner.Code, inner.Message
		return e
	}
	e.Code = rawString(b.Code)
	if e.Code == "" {
		e.Code = b.ErrorCode
	}
	e.Details, e.Hint = rawString(b.Details), rawString(b.Hint)
	for _, m := range []string{b.Message, b.Msg, b.ErrorDescription, rawString(b.Error)} {
		if m != "" {
			e.Message = m
			break
		}
	}
	return e
}

// rawString reads a JSON string or number as text; null and anything else give "".
func rawString(raw json.RawMessage) string {
	if len(raw) == 0 {
		return ""
	}
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s
	}
	var n json.Number
	if json.Unmarshal(raw, &n) == nil {
		return n.String()
	}
	return ""
}

// Functions calls Edge Functions (POST /functions/v1/<name>). Safe for concurrent use.
type Functions struct {
	c *Client
}

// Invoke calls the function name (e.g. "rooms/join") with body encoded as JSON, as the
// signed-in user, and decodes the reply's "data" into out (nil to ignore it). A reply without
// the {"success":…} envelope is decoded whole. Errors are *APIError.
func (f *Functions) Invoke(ctx context.Context, name string, body, out any) error {
	c := f.c
	op := "functions " + name
	token, err := c.Auth.AccessToken(ctx)
	if err != nil {
		return fmt.Errorf("%s: %w", op, err)
	}
	if body == nil {
		body = struct{}{}
	}
	r, err := c.do(ctx, request{op: op, method: http.MethodPost, path: "/functions/v1/" + strings.TrimLeft(name, "/"), body: body, bearer: token})
	if err != nil {
		return err
	}
	if r.status < 200 || r.status > 299 {
		return apiError(op, r)
	}
	var env struct {
		Success *bool           `json:"success"`
		Data    json.RawMessage `json:"data"`
	}
	if json.Unmarshal(r.body, &env) == nil && env.Success != nil {
		if !*env.Success {
			return apiError(op, r)
		}
		return decodeInto(op, env.Data, out)
	}
	return decodeInto(op, r.body, out)
}

func decodeInto(op string, data []byte, out any) error {
	if out == nil || len(data) == 0 {
		return nil
	}
	if err := json.Unmarshal(data, out); err != nil {
		return fmt.Errorf("%s: %w: decode reply: %v", op, ErrServer, err)
	}
	return nil
}

// RPC calls the PostgREST function fn (POST /rest/v1/rpc/<fn>) with args encoded as JSON, as
// the signed-in user, and decodes the reply into out (nil to ignore it). A 204 (a void
// function) leaves out alone. Errors are *APIError; a 200 reply that is just {"error":"…"}
// (the shape get_room_sync_state uses) is one too, with its kind read from the text.
func (c *Client) RPC(ctx context.Context, fn string, args, out any) error {
	op := "rpc " + fn
	token, err := c.Auth.AccessToken(ctx)
	if err != nil {
		return fmt.Errorf("%s: %w", op, err)
	}
	if args == nil {
		args = struct{}{}
	}
	r, err := c.do(ctx, request{op: op, method: http.MethodPost, path: "/rest/v1/rpc/" + url.PathEscape(fn), body: args,
		header: map[string]string{"Content-Profile": "public"}, bearer: token})
	if err != nil {
		return err
	}
	if r.status == http.StatusNoContent {
		return nil
	}
	if r.status < 200 || r.status > 299 {
		return apiError(op, r)
	}
	var only map[string]json.RawMessage
	if json.Unmarshal(r.body, &only) == nil && len(only) == 1 {
		if msg := rawString(only["error"]); msg != "" {
			return &APIError{Op: op, Status: r.status, Message: msg, Kind: kindForText(msg)}
		}
	}
	return decodeInto(op, r.body, out)
}

// Query is a PostgREST table read (GET /rest/v1/<table>), built like supabase-js's
// from(table).select(…).eq(…).order(…).limit(…). Parameters go out in call order. A Query
// is not safe for concurrent use; the Client it came from is.
type Query struct {
	c      *Client
	table  string
	params []string // encoded "key=value"
}

// From starts a read of table.
func (c *Client) From(table string) *Query { return &Query{c: c, table: table} }

func (q *Query) add(k, v string) *Query {
	q.params = append(q.params, formEscape(k)+"="+formEscape(v))
	return q
}

// formEscape encodes like JavaScript's URLSearchParams, which supabase-js uses: "*" stays
// literal ("select=*") and "~" is escaped.
func formEscape(s string) string {
	return strings.NewReplacer("%2A", "*", "~", "%7E").Replace(url.QueryEscape(s))
}

// Select sets the columns ("*", or "id,message").
func (q *Query) Select(columns string) *Query { return q.add("select", columns) }

// Eq filters on column = value.
func (q *Query) Eq(column, value string) *Query { return q.add(column, "eq."+value) }

// Order sorts by column, descending when desc.
func (q *Query) Order(column string, desc bool) *Query {
	dir := ".asc"
	if desc {
		dir = ".desc"
	}
	return q.add("order", column+dir)
}

// Limit returns at most n rows.
func (q *Query) Limit(n int) *Query { return q.add("limit", strconv.Itoa(n)) }

// Get runs the read as the signed-in user and decodes the JSON array into out (a pointer to a
// slice). Errors are *APIError.
func (q *Query) Get(ctx context.Context, out any) error {
	c := q.c
	op := "select " + q.table
	token, err := c.Auth.AccessToken(ctx)
	if err != nil {
		return fmt.Errorf("%s: %w", op, err)
	}
	r, err := c.do(ctx, request{op: op, method: http.MethodGet, path: "/rest/v1/" + url.PathEscape(q.table),
		query: strings.Join(q.params, "&"), header: map[string]string{"Accept-Profile": "public"}, bearer: token})
	if err != nil {
		return err
	}
	if r.status < 200 || r.status > 299 {
		return apiError(op, r)
	}
	return decodeInto(op, r.body, out)
}

// Comments reads a room's latest comments, newest first, at most limit (the comment history
// shown on join), into out (a pointer to a slice of the app's comment type).
func (c *Client) Comments(ctx context.Context, roomID string, limit int, out any) error {
	if roomID == "" {
		return errors.New("comments: no room id")
	}
	return c.From("comments").Select("*").Eq("room_id", roomID).Order("created_at", true).Limit(limit).Get(ctx, out)
}
