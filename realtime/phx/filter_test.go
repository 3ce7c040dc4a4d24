package phx

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
)

func TestFilterMatch(t *testing.T) {
	row := map[string]any{
		"room_id":    "r1",
		"id":         float64(7),
		"big":        json.Number("9007199254740993"),
		"n64":        int64(42),
		"ni":         3,
		"name":       "a,b",
		"title":      "Hello World",
		"is_playing": true,
		"paused":     false,
		"gone":       nil,
		"code":       "10",
		"quote":      `say "hi"`,
		"tags":       map[string]any{"k": "v"},
		"accent":     "héllo",
	}
	for _, tc := range []struct {
		filter string
		want   bool
	}{
		// blank
		{"", true}, {"   ", true},
		// eq / neq on text and numbers
		{"room_id=eq.r1", true}, {"room_id=eq.r2", false}, {"room_id=neq.r2", true}, {"room_id=neq.r1", false},
		{"id=eq.7", true}, {"id=eq.7.0", true}, {"id=eq.07", true}, {"id=eq.8", false}, {"id=eq.seven", false},
		{"big=eq.9007199254740993", true}, {"big=eq.9007199254740992", false},
		{"n64=eq.42", true}, {"ni=eq.3", true}, {"ni=gt.2", true},
		// lt/lte/gt/gte, numeric not text order
		{"id=lt.10", true}, {"id=lt.7", false}, {"id=lte.7", true}, {"id=gt.6.5", true}, {"id=gte.7", true}, {"id=gte.8", false},
		{"code=gt.9", true}, {"id=gt.1e0", true}, {"id=lt.1e1", true},
		// text order when a side is not a number
		{"room_id=gt.r0", true}, {"room_id=lt.r0", false}, {"title=gte.Hello", true},
		// bools
		{"is_playing=eq.true", true}, {"is_playing=eq.t", true}, {"is_playing=eq.false", false}, {"paused=eq.false", true},
		{"paused=lt.true", true}, {"is_playing=neq.false", true},
		// quoted values
		{`name=eq."a,b"`, true}, {`name=eq."a,c"`, false}, {`quote=eq."say \"hi\""`, true},
		// in
		{"room_id=in.(r0,r1,r2)", true}, {"room_id=in.(r0,r2)", false}, {`name=in.("a,b",c)`, true},
		{`name=in.(a,b)`, false}, {"id=in.(1,7.0)", true}, {"id=in.( 7 )", true},
		// like / ilike
		{"title=like.Hello%", true}, {"title=like.hello%", false}, {"title=ilike.hello%", true},
		{"title=like.*World", true}, {"title=like.H_llo World", true}, {"title=like.H_llo", false}, {`title=like.Hello\%`, false},
		{"title=ilike.HELLO world", true}, {"accent=like.h_llo%", true}, {"accent=ilike.HÉLLO", true}, {"accent=eq.héllo", true},
		// is
		{"gone=is.null", true}, {"room_id=is.null", false}, {"missing=is.null", true}, {"is_playing=is.true", true},
		{"paused=is.false", true}, {"paused=is.true", false}, {"gone=is.true", false}, {"room_id=not.is.null", true},
		// match / imatch / isdistinct
		{"title=match.^Hel+o", true}, {"title=match.^hello", false}, {"title=imatch.^hello", true},
		{"gone=isdistinct.x", true}, {"room_id=isdistinct.r1", false}, {"room_id=isdistinct.r2", true},
		// not.
		{"room_id=not.eq.r1", false}, {"room_id=not.eq.r2", true}, {"room_id=not.in.(r0,r1)", false}, {"room_id=not.in.(r0,r2)", true},
		{"title=not.like.Bye%", true},
		// nulls never equal, even negated
		{"gone=eq.x", false}, {"gone=neq.x", false}, {"gone=not.eq.x", false}, {"gone=in.(x,y)", false}, {"gone=not.in.(x)", false},
		{"missing=eq.1", false}, {"gone=lt.1", false}, {"gone=like.%", false},
		// AND of several conditions
		{"id=gt.0,id=lt.100", true}, {"id=gt.0,id=lt.5", false}, {"room_id=eq.r1,is_playing=eq.true", true},
		{`name=eq."a,b",room_id=in.(r1,"x,y")`, true},
		// other types compare by their JSON text
		{`tags=eq.{"k":"v"}`, true},
	} {
		f, err := ParseFilter(tc.filter)
		if err != nil {
			t.Errorf("ParseFilter(%q): %v", tc.filter, err)
			continue
		}
		if got := f.Match(row); got != tc.want {
			t.Errorf("%q.Match = %v, want %v", tc.filter, got, tc.want)
		}
	}
}

func TestFilterParseErrors(t *testing.T) {
	hundred := make([]string, 101)
	for i := range hundred {
		hundred[i] = fmt.Sprint(i)
	}
	for _, tc := range []struct {
		filter, want, server string
	}{
		{"subject=foo.hey", `error parsing filter params: ["foo", "hey"]: unknown operator`, "Error parsing `filter` params: [\"foo\", \"hey\"]"},
		{"undefined", `error parsing filter params: ["undefined"]: expected column=operator.value`, "Error parsing `filter` params: [\"undefined\"]"},
		{"id=eq", `["eq"]: expected operator.value`, ""},
		{"=eq.1", `["=eq.1"]`, ""},
		{"id=gt.0,", "empty condition", ""},
		{"id=gt.0,,id=lt.1", "empty condition", ""},
		{"id=in.1,2", "in needs a parenthesised list", ""},
		{"id=in.()", "in needs at least one value", ""},
		{"id=in.(" + strings.Join(hundred, ",") + ")", "in takes at most 100 values, got 101", ""},
		{`name=eq."a,b`, "unterminated quote", ""},
		{`name=eq."a""b"`, "stray quote", ""},
		{"id=in.(1,2", "unbalanced parenthesis", ""},
		{"id=eq.1)", "unbalanced parenthesis", ""},
		{"id=is.maybe", "is takes null, true, false or unknown", ""},
		{"id=match.(", "unbalanced parenthesis", ""},
		{"id=match.a[", "invalid regular expression", ""},
		{"id=not.foo.1", "unknown operator", ""},
		{"id=fts.hey", "unknown operator", ""},
		{"t=like.\x91", "not valid utf-8", ""},
	} {
		_, err := ParseFilter(tc.filter)
		var fe *FilterError
		if !errors.As(err, &fe) {
			t.Errorf("ParseFilter(%q) = %v, want *FilterError", tc.filter, err)
			continue
		}
		if !strings.HasPrefix(err.Error(), "error parsing filter params: ") || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("ParseFilter(%q) error %q, want %q", tc.filter, err, tc.want)
		}
		if tc.server != "" && fe.ServerMessage() != tc.server {
			t.Errorf("ServerMessage = %q, want %q", fe.ServerMessage(), tc.server)
		}
	}
	// Exactly 100 values are fine.
	if _, err := ParseFilter("id=in.(" + strings.Join(hundred[:100], ",") + ")"); err != nil {
		t.Errorf("100 values: %v", err)
	}
}

func TestFilterAccessors(t *testing.T) {
	f, err := ParseFilter("a=eq.1,b=in.(1,2)")
	if err != nil {
		t.Fatal(err)
	}
	if f.String() != "a=eq.1,b=in.(1,2)" || f.IsZero() || strings.Join(f.Columns(), " ") != "a b" {
		t.Errorf("accessors: %q %v %v", f.String(), f.IsZero(), f.Columns())
	}
	var zero Filter
	if !zero.IsZero() || !zero.Match(nil) {
		t.Error("zero filter must match everything")
	}
}
