package room

import (
	"errors"
	"strings"
	"testing"
)

func TestInviteLinkRoundTrip(t *testing.T) {
	for _, l := range []InviteLink{
		{Server: "https://party.example.org:54321", RoomID: "k3x9q2m7ab", Secret: "AbC-_0123456789abcdefghij"},
		{Server: "https://proj.supabase.co", RoomID: "k3x9q2m7ab", Secret: "s3cr3t", AnonKey: "eyJh.eyJi.sig-_"},
		{Server: "http://[::1]:8080", RoomID: "0123456789", Secret: "x"},
	} {
		got, err := ParseInviteLink(" " + l.String() + "\n")
		if err != nil || got != l {
			t.Errorf("%s: got %+v, %v; want %+v", l.String(), got, err, l)
		}
		if !LooksLikeLink(l.String()) {
			t.Errorf("%s does not look like a link", l.String())
		}
	}
	if got := (InviteLink{Server: "https://h", RoomID: "k3x9q2m7ab", Secret: "S", AnonKey: "K"}).String(); got != "https://h/join/k3x9q2m7ab#k=K&s=S" {
		t.Errorf("String() = %q", got)
	}
	if LooksLikeLink("k3x9q2m7ab") {
		t.Error("a room id looks like a link")
	}
}

// Whatever is pasted, a link is read only when it is whole and well formed; the error says
// what is wrong.
func TestParseInviteLinkRefuses(t *testing.T) {
	for link, why := range map[string]string{
		"https://h:1/join/k3x9q2m7ab":                              "no invite secret",
		"https://h:1/join/k3x9q2m7ab#":                             "no invite secret",
		"https://h:1/join/k3x9q2m7ab#s=a b":                        "no invite secret",
		"https://h:1/join/K3X9Q2M7AB#s=x":                          "path",
		"https://h:1/rooms/k3x9q2m7ab#s=x":                         "path",
		"https://h:1/join/k3x9q2m7ab/x#s=x":                        "path",
		"https://h:1/join/k3x9q2m7ab?x=1#s=x":                      "query",
		"ftp://h:1/join/k3x9q2m7ab#s=x":                            "scheme",
		"/join/k3x9q2m7ab#s=x":                                     "not a URL",
		"https://h:1/join/k3x9q2m7ab#s=x&k=<script>":               "anon key",
		"https://u:p@h:1/join/k3x9q2m7ab#s=x":                      "user name",
		"https://h:1/join/k3x9q2m7ab#s=" + strings.Repeat("x", 65): "no invite secret",
	} {
		_, err := ParseInviteLink(link)
		if err == nil || !strings.Contains(err.Error(), why) {
			t.Errorf("%q: %v, want an error about %q", link, err, why)
		}
		if err != nil && !errors.Is(err, ErrBadInviteLink) && !errors.Is(err, ErrBadServerURL) {
			t.Errorf("%q: %v is neither a bad link nor a bad server", link, err)
		}
	}
}
