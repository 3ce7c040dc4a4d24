package main

import (
	"regexp"
	"testing"
)

// The default name differs between users (of one login name) and stays the same for one.
func TestDefaultName(t *testing.T) {
	a, b := defaultName("6f33f34d-b5b7-41b6-bd26-3c3b92839a20"), defaultName("9187ce86-08cf-4e54-8991-267fc6f7eee7")
	if a == b || a != defaultName("6f33f34d-b5b7-41b6-bd26-3c3b92839a20") {
		t.Fatalf("default names %q, %q", a, b)
	}
	if !regexp.MustCompile(`^[^ ]{1,24}-[0-9a-f]{4}$`).MatchString(a) {
		t.Fatalf("default name %q", a)
	}
}
