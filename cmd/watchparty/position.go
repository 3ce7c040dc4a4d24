package main

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

// decimal is one part of a position: digits with an optional fraction.
var decimal = regexp.MustCompile(`^([0-9]+(\.[0-9]*)?|\.[0-9]+)$`)

// parsePosition reads a seek position: seconds ("90", "12.5"), "mm:ss", "hh:mm:ss", or a
// relative "+10" / "-10" (seconds or a clock form). relative reports a signed offset.
func parsePosition(s string) (pos float64, relative bool, err error) {
	s = strings.TrimSpace(s)
	sign := 1.0
	switch {
	case strings.HasPrefix(s, "+"):
		relative, s = true, s[1:]
	case strings.HasPrefix(s, "-"):
		relative, sign, s = true, -1, s[1:]
	}
	parts := strings.Split(s, ":")
	if s == "" || len(parts) > 3 {
		return 0, false, fmt.Errorf("bad position %q: use seconds, mm:ss, hh:mm:ss, +10 or -10", s)
	}
	for i, p := range parts {
		v, err := strconv.ParseFloat(p, 64)
		// Plain decimals only: ParseFloat also reads "NaN", "Inf", "1e9" and "0x1p4".
		if err != nil || !decimal.MatchString(p) || v < 0 || (i > 0 && v >= 60) || (i < len(parts)-1 && strings.Contains(p, ".")) {
			return 0, false, fmt.Errorf("bad position %q: use seconds, mm:ss, hh:mm:ss, +10 or -10", s)
		}
		pos = pos*60 + v
	}
	return sign * pos, relative, nil
}
