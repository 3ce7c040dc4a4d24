package phx

import (
	"encoding/json"
	"fmt"
	"math"
	"math/big"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"
)

// maxInValues is the most values an in.(…) list may hold, as on the server.
const maxInValues = 100

// Filter is a parsed postgres_changes filter: conditions that must all hold.
// The zero Filter matches every row. A Filter is immutable and safe for
// concurrent use.
type Filter struct {
	src   string
	conds []condition
}

type condition struct {
	column string
	op     string // eq, neq, lt, lte, gt, gte, in, like, ilike, is, match, imatch, isdistinct
	not    bool
	value  string
	values []string       // in
	re     *regexp.Regexp // like, ilike, match, imatch
}

// FilterError is the error of ParseFilter.
type FilterError struct {
	// Params are the offending pieces, like the server's list: the operator
	// and value (["foo","hey"]), or the whole condition (["undefined"]).
	Params []string
	// Reason says what is wrong, lower-case.
	Reason string
}

// Error implements error: "error parsing filter params: [\"foo\", \"hey\"]: unknown operator".
func (e *FilterError) Error() string {
	return "error parsing filter params: " + e.paramList() + ": " + e.Reason
}

// ServerMessage is the exact text of the real server's system error,
// "Error parsing `filter` params: [\"foo\", \"hey\"]".
func (e *FilterError) ServerMessage() string {
	return "Error parsing `filter` params: " + e.paramList()
}

func (e *FilterError) paramList() string {
	var b strings.Builder
	b.WriteByte('[')
	for i, p := range e.Params {
		if i > 0 {
			b.WriteString(", ")
		}
		b.Write(appendString(nil, p))
	}
	b.WriteByte(']')
	return b.String()
}

// ParseFilter parses a filter: "column=op.value" conditions separated by
// commas and ANDed (commas inside (…) or "…" do not split). Operators: eq,
// neq, lt, lte, gt, gte, in (in.(a,b,"c,d"), at most 100 values), like and
// ilike (% and * match any run, _ one character), is (null, true, false,
// unknown), match and imatch (regular expressions), isdistinct, each with an
// optional "not." prefix. A value may be double-quoted PostgREST-style, with
// \" and \\ escapes. A blank filter matches everything.
func ParseFilter(s string) (Filter, error) {
	f := Filter{src: s}
	if strings.TrimSpace(s) == "" {
		return f, nil
	}
	if !utf8.ValidString(s) {
		return Filter{}, &FilterError{Params: []string{s}, Reason: "filter is not valid utf-8"}
	}
	parts, err := splitTop(s)
	if err != nil {
		return Filter{}, &FilterError{Params: []string{s}, Reason: err.Error()}
	}
	for _, part := range parts {
		c, err := parseCondition(part)
		if err != nil {
			return Filter{}, err
		}
		f.conds = append(f.conds, c)
	}
	return f, nil
}

// splitTop splits s on commas outside parentheses and double quotes.
func splitTop(s string) ([]string, error) {
	var parts []string
	depth, start, inQuote := 0, 0, false
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case inQuote && c == '\\':
			i++ // skip the escaped byte
		case c == '"':
			inQuote = !inQuote
		case inQuote:
		case c == '(':
			depth++
		case c == ')':
			if depth == 0 {
				return nil, fmt.Errorf("unbalanced parenthesis")
			}
			depth--
		case c == ',' && depth == 0:
			parts = append(parts, s[start:i])
			start = i + 1
		}
	}
	if inQuote {
		return nil, fmt.Errorf("unterminated quote")
	}
	if depth != 0 {
		return nil, fmt.Errorf("unbalanced parenthesis")
	}
	return append(parts, s[start:]), nil
}

func parseCondition(part string) (condition, error) {
	col, rhs, ok := strings.Cut(part, "=")
	col = strings.TrimSpace(col)
	if !ok || col == "" {
		reason := "expected column=operator.value"
		if strings.TrimSpace(part) == "" {
			reason = "empty condition"
		}
		return condition{}, &FilterError{Params: []string{part}, Reason: reason}
	}
	c := condition{column: col}
	if rest, ok := strings.CutPrefix(rhs, "not."); ok {
		c.not, rhs = true, rest
	}
	op, value, ok := strings.Cut(rhs, ".")
	if !ok {
		return condition{}, &FilterError{Params: []string{rhs}, Reason: "expected operator.value"}
	}
	bad := func(reason string) error {
		return &FilterError{Params: []string{op, value}, Reason: reason}
	}
	c.op = op
	switch op {
	case "eq", "neq", "lt", "lte", "gt", "gte", "isdistinct":
		v, err := unquote(value)
		if err != nil {
			return condition{}, bad(err.Error())
		}
		c.value = v
	case "in":
		vals, err := parseList(value)
		if err != nil {
			return condition{}, bad(err.Error())
		}
		c.values = vals
	case "is":
		v := strings.ToLower(value)
		switch v {
		case "null", "true", "false", "unknown":
			c.value = v
		default:
			return condition{}, bad("is takes null, true, false or unknown")
		}
	case "like", "ilike":
		v, err := unquote(value)
		if err != nil {
			return condition{}, bad(err.Error())
		}
		re, err := likeRegexp(v, op == "ilike")
		if err != nil {
			return condition{}, bad("invalid pattern")
		}
		c.value, c.re = v, re
	case "match", "imatch":
		v, err := unquote(value)
		if err != nil {
			return condition{}, bad(err.Error())
		}
		expr := v
		if op == "imatch" {
			expr = "(?i)" + v
		}
		re, err := regexp.Compile(expr)
		if err != nil {
			return condition{}, bad("invalid regular expression")
		}
		c.value, c.re = v, re
	default:
		return condition{}, bad("unknown operator")
	}
	return c, nil
}

// unquote removes PostgREST-style double quotes ("a,b", with \" and \\).
func unquote(v string) (string, error) {
	if !strings.HasPrefix(v, `"`) {
		return v, nil
	}
	if len(v) < 2 || !strings.HasSuffix(v, `"`) {
		return "", fmt.Errorf("unterminated quote")
	}
	inner := v[1 : len(v)-1]
	var b strings.Builder
	for i := 0; i < len(inner); i++ {
		c := inner[i]
		if c == '\\' && i+1 < len(inner) {
			i++
			b.WriteByte(inner[i])
			continue
		}
		if c == '"' {
			return "", fmt.Errorf("stray quote in value")
		}
		b.WriteByte(c)
	}
	return b.String(), nil
}

// parseList parses "(a,b,\"c,d\")".
func parseList(v string) ([]string, error) {
	if !strings.HasPrefix(v, "(") || !strings.HasSuffix(v, ")") {
		return nil, fmt.Errorf("in needs a parenthesised list")
	}
	inner := v[1 : len(v)-1]
	if strings.TrimSpace(inner) == "" {
		return nil, fmt.Errorf("in needs at least one value")
	}
	var vals []string
	start, inQuote := 0, false
	for i := 0; i <= len(inner); i++ {
		if i < len(inner) {
			c := inner[i]
			switch {
			case inQuote && c == '\\':
				i++
				continue
			case c == '"':
				inQuote = !inQuote
				continue
			case inQuote || c != ',':
				continue
			}
		}
		item, err := unquote(strings.TrimSpace(inner[start:i]))
		if err != nil {
			return nil, err
		}
		vals = append(vals, item)
		start = i + 1
	}
	if len(vals) > maxInValues {
		return nil, fmt.Errorf("in takes at most %d values, got %d", maxInValues, len(vals))
	}
	return vals, nil
}

// likeRegexp turns a LIKE pattern into an anchored regular expression. % and
// PostgREST's * match any run, _ matches one character, \ escapes.
func likeRegexp(p string, fold bool) (*regexp.Regexp, error) {
	var b strings.Builder
	b.WriteString(`(?s)`)
	if fold {
		b.WriteString(`(?i)`)
	}
	b.WriteByte('^')
	escaped := false
	for _, r := range p {
		switch {
		case escaped:
			b.WriteString(regexp.QuoteMeta(string(r)))
			escaped = false
		case r == '\\':
			escaped = true
		case r == '%' || r == '*':
			b.WriteString(`.*`)
		case r == '_':
			b.WriteByte('.')
		default:
			b.WriteString(regexp.QuoteMeta(string(r)))
		}
	}
	b.WriteByte('$')
	return regexp.Compile(b.String())
}

// String returns the filter as given to ParseFilter.
func (f Filter) String() string { return f.src }

// IsZero reports whether the filter has no conditions (matches every row).
func (f Filter) IsZero() bool { return len(f.conds) == 0 }

// Columns returns the columns the filter reads, in order, with repeats.
func (f Filter) Columns() []string {
	cols := make([]string, len(f.conds))
	for i, c := range f.conds {
		cols[i] = c.column
	}
	return cols
}

// Match evaluates the filter against a row whose values come from JSON
// (string, float64, json.Number, bool, nil) or Go (int, int64, …). Values
// are compared numerically when both sides parse as numbers, else as text
// (Postgres casts the literal to the column type); bools compare with
// "true"/"false" ("t"/"f"). SQL null logic applies: a null or missing
// column makes every operator except is and isdistinct unknown, and unknown
// does not match, even under not.
func (f Filter) Match(row map[string]any) bool {
	for _, c := range f.conds {
		v, ok := row[c.column]
		if !ok {
			v = nil
		}
		res, known := c.eval(v)
		if !known {
			return false
		}
		if c.not {
			res = !res
		}
		if !res {
			return false
		}
	}
	return true
}

// eval returns the condition's truth and whether it is known (not SQL null).
func (c condition) eval(v any) (result, known bool) {
	switch c.op {
	case "is":
		switch c.value {
		case "null", "unknown":
			return v == nil, true
		case "true", "false":
			b, ok := asBool(v)
			return ok && b == (c.value == "true"), true
		}
		return false, true
	case "isdistinct":
		if v == nil {
			return true, true
		}
		return compare(v, c.value) != 0, true
	}
	if v == nil {
		return false, false
	}
	switch c.op {
	case "eq":
		return compare(v, c.value) == 0, true
	case "neq":
		return compare(v, c.value) != 0, true
	case "lt":
		return compare(v, c.value) < 0, true
	case "lte":
		return compare(v, c.value) <= 0, true
	case "gt":
		return compare(v, c.value) > 0, true
	case "gte":
		return compare(v, c.value) >= 0, true
	case "in":
		for _, lit := range c.values {
			if compare(v, lit) == 0 {
				return true, true
			}
		}
		return false, true
	case "like", "ilike", "match", "imatch":
		return c.re.MatchString(text(v)), true
	}
	return false, true
}

// compare orders a row value against a filter literal: numerically when both
// are numbers, as booleans when the value is one, else as text.
func compare(v any, lit string) int {
	if b, ok := v.(bool); ok {
		if lb, ok := parseBool(lit); ok {
			return cmpBool(b, lb)
		}
		return strings.Compare(strconv.FormatBool(b), lit)
	}
	s := text(v)
	if a, err := strconv.ParseInt(s, 10, 64); err == nil {
		if b, err := strconv.ParseInt(lit, 10, 64); err == nil {
			switch {
			case a < b:
				return -1
			case a > b:
				return 1
			}
			return 0
		}
	}
	if n, ok := parseNumber(s); ok {
		if m, ok := parseNumber(lit); ok {
			return n.Cmp(m)
		}
	}
	return strings.Compare(s, lit)
}

func cmpBool(a, b bool) int {
	switch {
	case a == b:
		return 0
	case !a:
		return -1
	}
	return 1
}

func parseBool(s string) (bool, bool) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "true", "t", "yes", "y", "on", "1":
		return true, true
	case "false", "f", "no", "n", "off", "0":
		return false, true
	}
	return false, false
}

func asBool(v any) (bool, bool) {
	switch x := v.(type) {
	case bool:
		return x, true
	case string:
		return parseBool(x)
	}
	return false, false
}

// parseNumber parses a decimal number exactly (so int8 values past 2^53
// compare right); numbers with an exponent go through float64. Inf and NaN
// are not numbers here.
func parseNumber(s string) (*big.Rat, bool) {
	s = strings.TrimSpace(s)
	if s == "" || len(s) > 400 {
		return nil, false
	}
	exp := false
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c >= '0' && c <= '9', c == '-', c == '+', c == '.':
		case c == 'e' || c == 'E':
			exp = true
		default:
			return nil, false
		}
	}
	if exp {
		f, err := strconv.ParseFloat(s, 64)
		if err != nil || math.IsInf(f, 0) || math.IsNaN(f) {
			return nil, false
		}
		return new(big.Rat).SetFloat64(f), true
	}
	r, ok := new(big.Rat).SetString(s)
	return r, ok
}

// text renders a row value the way Postgres would print it as text.
func text(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case json.Number:
		return x.String()
	case float64:
		if math.Trunc(x) == x && math.Abs(x) < 1e21 {
			return strconv.FormatFloat(x, 'f', -1, 64)
		}
		return strconv.FormatFloat(x, 'g', -1, 64)
	case float32:
		return strconv.FormatFloat(float64(x), 'g', -1, 32)
	case int:
		return strconv.Itoa(x)
	case int64:
		return strconv.FormatInt(x, 10)
	case int32:
		return strconv.FormatInt(int64(x), 10)
	case uint64:
		return strconv.FormatUint(x, 10)
	case bool:
		return strconv.FormatBool(x)
	case []byte:
		return string(x)
	case fmt.Stringer:
		return x.String()
	}
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}
