package room

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/watchparty/watchparty/realtime"
)

// ErrBadServerURL is the kind of ParseServerURL's errors: the --server value cannot be a
// server's address at all (a usage error).
var ErrBadServerURL = errors.New("bad server URL")

// ParseServerURL checks and normalises a server address: "host:port" gets http://; the
// scheme and host are lower-cased, a default port (80, 443) and a trailing slash dropped. A
// server's address is scheme, host and port only: a path, query or fragment is refused, since
// every endpoint lives at a fixed path below it.
func ParseServerURL(raw string) (string, error) {
	raw = strings.TrimSpace(raw)
	bad := func(why string) error {
		return fmt.Errorf("%w %q: %s; want http://HOST:PORT (a watchparty server) or https://PROJECT.supabase.co", ErrBadServerURL, raw, why)
	}
	if raw == "" {
		return "", bad("it is empty")
	}
	s := raw
	if !strings.Contains(s, "://") {
		s = "http://" + s
	}
	u, err := url.Parse(s)
	if err != nil {
		return "", bad("it is not a URL")
	}
	u.Scheme = strings.ToLower(u.Scheme)
	switch {
	case u.Scheme != "http" && u.Scheme != "https":
		return "", bad("the scheme must be http or https")
	case u.Hostname() == "":
		return "", bad("it has no host")
	case u.User != nil:
		return "", bad("it must not hold a user name or password")
	case strings.Trim(u.Path, "/") != "":
		return "", bad("it has a path (" + u.EscapedPath() + "): the server's address has none")
	case u.RawQuery != "" || u.Fragment != "" || u.ForceQuery:
		return "", bad("it has a query or fragment")
	}
	host, port := strings.ToLower(u.Hostname()), u.Port()
	if port != "" {
		if n, err := net.LookupPort("tcp", port); err != nil || n <= 0 || n > 65535 || strings.TrimLeft(port, "0123456789") != "" {
			return "", bad("port " + port + " is not a port number (1–65535)")
		}
	}
	if (u.Scheme == "http" && port == "80") || (u.Scheme == "https" && port == "443") {
		port = ""
	}
	if strings.Contains(host, ":") {
		host = "[" + host + "]"
	}
	if port != "" {
		host += ":" + port
	}
	return u.Scheme + "://" + host, nil
}

// Identify finds out which server srv.URL reaches, and returns srv with its URL normalised
// (ParseServerURL), its AnonKey (a watchparty server's published one when srv has none) and
// its SessionKey: a watchparty server's published id ("watchparty:ID"), so one server reached
// by several URLs keeps one saved session; for a server without one (Supabase) its
// normalised URL.
func Identify(ctx context.Context, srv Server) (Server, error) {
	u, err := ParseServerURL(srv.URL)
	if err != nil {
		return srv, err
	}
	srv.URL = u
	ictx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	info, err := realtime.FetchInfo(ictx, nil, u)
	switch {
	case err == nil:
		if srv.AnonKey == "" {
			srv.AnonKey = info.AnonKey
		}
		srv.SessionKey = u
		if info.ServerID != "" {
			srv.SessionKey = "watchparty:" + info.ServerID
		}
		return srv, nil
	case errors.Is(err, realtime.ErrNotFound):
		if srv.AnonKey == "" {
			return srv, fmt.Errorf("%s answers but is not a watchparty server: check the address (a watchparty server listens at http://HOST:54321 by default), or for a Supabase project pass its anon key with --anon-key", u)
		}
		srv.SessionKey = u // Supabase: the project URL is its identity
		return srv, nil
	case ctx.Err() != nil:
		return srv, ctx.Err()
	}
	return srv, reachError(u, err)
}

// reachError says why a server could not be reached, in words, with what to check.
func reachError(u string, err error) error {
	var (
		dns  *net.DNSError
		op   *net.OpError
		cert *tls.CertificateVerificationError
		rec  tls.RecordHeaderError
		api  *realtime.APIError
	)
	why := ""
	switch {
	case errors.As(err, &dns):
		why = "no such host " + dns.Name + ": check the address in --server"
	case errors.As(err, &cert):
		why = "its TLS certificate is not trusted"
	case errors.As(err, &rec):
		why = "it does not speak TLS: use http:// instead of https://"
	case errors.Is(err, context.DeadlineExceeded) || isTimeout(err):
		why = "no answer within 15 s: is the address right, and the server running?"
	case errors.As(err, &op) && op.Op == "dial":
		why = "nothing listens there (" + innermost(op.Err) + "): start the server (watchparty serve or watchparty host), or check the address in --server"
	case errors.As(err, &api) && api.Status == 400:
		why = "it refused the request (400): if it is an https server, use https://"
	case errors.As(err, &api):
		why = fmt.Sprintf("it answered %d %s to /watchparty/v1/info: is it a watchparty server?", api.Status, strings.ToLower(http.StatusText(api.Status)))
	case errors.Is(err, realtime.ErrServer):
		why = "it is not a watchparty server (its /watchparty/v1/info is not one): check the address, or for a Supabase project pass --anon-key"
	default:
		why = innermost(err)
		if strings.HasPrefix(u, "https://") {
			why += " (if it is a plain http server, use http://)"
		}
	}
	return fmt.Errorf("cannot reach the server at %s: %s", u, why)
}

// signInError says why signing in failed, in words: the server's own message only when it
// is one of the contract's (not an HTML error page of something else).
func signInError(u string, err error) error {
	var api *realtime.APIError
	switch {
	case errors.Is(err, realtime.ErrUnauthorized):
		return fmt.Errorf("sign in to %s: the anon key was refused: check --anon-key (env WATCHPARTY_ANON_KEY, config anon_key)", u)
	case errors.Is(err, realtime.ErrRateLimited):
		return fmt.Errorf("sign in to %s: too many sign-ins from here: try again in a minute", u)
	case errors.As(err, &api) && api.Status != 200 && api.Status < 500 || errors.As(err, &api) && api.Code == "":
		return fmt.Errorf("sign in to %s: it answered %d %s to an anonymous sign-in: check --server (on a Supabase project, enable anonymous sign-ins)",
			u, api.Status, strings.ToLower(http.StatusText(api.Status)))
	case errors.As(err, &api):
		return fmt.Errorf("sign in to %s: %w", u, err)
	}
	return reachError(u, err)
}

func isTimeout(err error) bool {
	var t interface{ Timeout() bool }
	return errors.As(err, &t) && t.Timeout()
}

// innermost is the text of the deepest wrapped error ("connection refused"), without Go's
// `Get "…":` prefixes.
func innermost(err error) string {
	for {
		next := errors.Unwrap(err)
		if next == nil {
			return err.Error()
		}
		err = next
	}
}
