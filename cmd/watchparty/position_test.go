package main

import "testing"

func TestParsePosition(t *testing.T) {
	for _, tc := range []struct {
		in       string
		pos      float64
		relative bool
		bad      bool
	}{
		{in: "90", pos: 90},
		{in: "12.5", pos: 12.5},
		{in: "1:30", pos: 90},
		{in: "01:02:03", pos: 3723},
		{in: "+10", pos: 10, relative: true},
		{in: "-10", pos: -10, relative: true},
		{in: "-1:00", pos: -60, relative: true},
		{in: "1:60", bad: true},
		{in: "1.5:00", bad: true},
		{in: "abc", bad: true},
		{in: "", bad: true},
		{in: "1:2:3:4", bad: true},
		{in: "NaN", bad: true},
		{in: "-NaN", bad: true},
		{in: "Inf", bad: true},
		{in: "+Inf", bad: true},
		{in: "1e400", bad: true},
		{in: "1e3", bad: true},
		{in: "0x10", bad: true},
		{in: "1:NaN", bad: true},
		{in: ".5", pos: 0.5},
	} {
		pos, rel, err := parsePosition(tc.in)
		if tc.bad {
			if err == nil {
				t.Errorf("parsePosition(%q) = %v, want an error", tc.in, pos)
			}
			continue
		}
		if err != nil || pos != tc.pos || rel != tc.relative {
			t.Errorf("parsePosition(%q) = %v, %v, %v; want %v, %v", tc.in, pos, rel, err, tc.pos, tc.relative)
		}
	}
}
