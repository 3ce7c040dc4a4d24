package server

import "unicode/utf8"

// MaxUsername and MaxMessage are the text limits of docs/api.md, counted after cleaning (package
// textsafe: the rule the client applies too).
const (
	MaxUsername = 32
	MaxMessage  = 2000
)

// runeLen counts characters, as Postgres char_length does.
func runeLen(s string) int { return utf8.RuneCountInString(s) }
