package main

import (
	"fmt"
	"strconv"
	"strings"
)

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
		if err != nil || v < 0 || (i > 0 && v >= 60) || (i < len(parts)-1 && strings.Contains(p, ".")) {
			return 0, false, fmt.Errorf("bad position %q: use seconds, mm:ss, hh:mm:ss, +10 or -10", s)
		}
		pos = pos*60 + v
	}
	return sign * pos, relative, nil
}
