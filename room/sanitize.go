package room

import "github.com/watchparty/watchparty/textsafe"

// Sanitize makes remote text safe for a terminal on one line: textsafe.Line, the rule the
// server applies before storing text too.
func Sanitize(s string) string { return textsafe.Line(s) }

// SanitizeMultiline is Sanitize keeping newlines (comments): textsafe.Multiline.
func SanitizeMultiline(s string) string { return textsafe.Multiline(s) }
