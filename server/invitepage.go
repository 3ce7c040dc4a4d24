package server

import (
	"crypto/sha256"
	"encoding/base64"
	"net/http"
)

// The invite page (docs/design.md §14): an invite link's https form,
// https://HOST:PORT/join/ROOM#s=SECRET, opened in a browser. One static page for every room:
// the server never looks the room up (the page tells nothing about which rooms exist), and the
// secret stays in the fragment, which the browser never sends. A tiny inline script, allowed by
// its hash in a strict Content-Security-Policy, fills in the command with the address the page
// was opened at; without scripts the page says how to write it.

const invitePageStyle = `body{font:16px/1.5 system-ui,sans-serif;max-width:40em;margin:3em auto;padding:0 1em;color:#222;background:#fafafa}` +
	`h1{font-size:1.6em}code,pre{font-family:ui-monospace,monospace}` +
	`pre{background:#fff;border:1px solid #ccc;border-radius:4px;padding:1em;white-space:pre-wrap;word-break:break-all}` +
	`.small{color:#555;font-size:.9em}`

// The command is set with textContent: nothing in the address is ever parsed as HTML. A quote
// in the address is written the POSIX shell's way ('\”).
const invitePageScript = `(function(){var c=document.getElementById('cmd');` +
	`if(!c||location.hash.indexOf('s=')<0)return;` +
	`c.textContent="watchparty join '"+location.href.split("'").join("'\\''")+"'";})();`

const invitePage = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width,initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>watchparty invite</title>
<style>` + invitePageStyle + `</style>
</head>
<body>
<h1>You are invited to a watch party</h1>
<p><b>watchparty</b> is a terminal watch-party for <a href="https://mpv.io">mpv</a>: everyone plays
their own copy of the video in mpv, and everyone's mpv follows the host's play, pause, seek and
speed, while the terminal shows who is there, who is in sync, and the comments.</p>
<p>Install it (<code>go install github.com/watchparty/watchparty/cmd/watchparty@latest</code>, and
mpv), then run this in a terminal:</p>
<pre id="cmd">watchparty join '&lt;the address of this page, as your browser shows it, with everything after #&gt;'</pre>
<p class="small">Add <code>--media FILE</code> to play your own copy of the video. The part of the
address after <code>#</code> is the room's secret: it never reaches this server from your browser,
and it lets anyone who has it in, so share it only with friends.</p>
<script>` + invitePageScript + `</script>
</body>
</html>
`

// invitePageCSP allows nothing but the page's own inline style and script (by hash): no script,
// style, font, image or frame from anywhere, no form, no base, and no framing of the page.
var invitePageCSP = "default-src 'none'; script-src '" + cspHash(invitePageScript) + "'; style-src '" +
	cspHash(invitePageStyle) + "'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

func cspHash(s string) string {
	sum := sha256.Sum256([]byte(s))
	return "sha256-" + base64.StdEncoding.EncodeToString(sum[:])
}

// handleInvitePage serves the page at /join/ROOM (any ROOM: the page is the same for all).
func handleInvitePage(w http.ResponseWriter, r *http.Request) {
	if !roomIDPattern.MatchString(r.PathValue("room")) {
		http.NotFound(w, r)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Content-Security-Policy", invitePageCSP)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Cache-Control", "no-store")
	if r.Method == http.MethodHead {
		return
	}
	_, _ = w.Write([]byte(invitePage))
}
