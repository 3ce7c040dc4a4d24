package server

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"
	lru "github.com/hashicorp/golang-lru/v2"
)

// AccessTokenTTL is how long a user access token lives, as GoTrue's default.
const AccessTokenTTL = time.Hour

// claims are the JWT claims we mint and accept: GoTrue's set for user tokens, and
// {iss, role: anon, iat, exp} for the anon key.
type claims struct {
	jwt.RegisteredClaims
	Role         string         `json:"role"`
	SessionID    string         `json:"session_id,omitempty"`
	IsAnonymous  bool           `json:"is_anonymous,omitempty"`
	Email        *string        `json:"email,omitempty"`
	Phone        *string        `json:"phone,omitempty"`
	AppMetadata  map[string]any `json:"app_metadata,omitempty"`
	UserMetadata map[string]any `json:"user_metadata,omitempty"`
	AAL          string         `json:"aal,omitempty"`
	AMR          []amrEntry     `json:"amr,omitempty"`
}

type amrEntry struct {
	Method    string `json:"method"`
	Timestamp int64  `json:"timestamp"`
}

// keys signs and verifies HS256 tokens with the server's secret. Safe for concurrent use.
type keys struct {
	secret  []byte
	anonKey string
	issuer  string

	// verified remembers tokens that passed verification: every request carries the anon key
	// and most a user token, and parsing and checking both was about a tenth of the server's
	// CPU under the benchmark's load. Expiry is still checked on every use. Least recently used
	// tokens go first, and every entry goes after verifiedCacheTTL, so a flood of fresh tokens
	// neither grows it nor pushes the hot anon key out for long.
	verified *lru.Cache[string, verifiedToken]
}

type verifiedToken struct {
	claims *claims
	at     time.Time // when it was verified
}

// The verified-token cache's bounds: 20,000 tokens of at most a few KB (user metadata is capped
// at MaxUserMetadata), each kept at most as long as an access token lives.
const (
	verifiedCacheSize = 20000
	verifiedCacheTTL  = AccessTokenTTL
)

// loadKeys reads the JWT secret and anon key from dir, creating them (mode 0600) on first run so
// tokens and the anon key stay valid across restarts.
func loadKeys(dir string) (*keys, error) {
	secretPath := filepath.Join(dir, "jwt_secret")
	secretHex, err := os.ReadFile(secretPath)
	if errors.Is(err, os.ErrNotExist) {
		b := make([]byte, 32)
		if _, err := rand.Read(b); err != nil {
			return nil, err
		}
		secretHex = []byte(hex.EncodeToString(b))
		if err := writeFileAtomic(secretPath, secretHex); err != nil {
			return nil, fmt.Errorf("store jwt secret: %w", err)
		}
	} else if err != nil {
		return nil, fmt.Errorf("read jwt secret: %w", err)
	}
	secret, err := hex.DecodeString(strings.TrimSpace(string(secretHex)))
	if err != nil || len(secret) < 32 {
		return nil, fmt.Errorf("jwt secret in %s is corrupt: delete it to make a new one (this signs everyone out)", secretPath)
	}
	k := &keys{secret: secret, issuer: "watchparty", verified: newVerifiedCache()}
	anonPath := filepath.Join(dir, "anon_key")
	anon, err := os.ReadFile(anonPath)
	if err == nil {
		if _, verr := k.verify(strings.TrimSpace(string(anon))); verr == nil {
			k.anonKey = strings.TrimSpace(string(anon))
			return k, nil
		}
	}
	now := time.Now()
	k.anonKey, err = k.sign(claims{
		RegisteredClaims: jwt.RegisteredClaims{Issuer: k.issuer, IssuedAt: jwt.NewNumericDate(now), ExpiresAt: jwt.NewNumericDate(now.AddDate(10, 0, 0))},
		Role:             "anon",
	})
	if err != nil {
		return nil, err
	}
	if err := writeFileAtomic(anonPath, []byte(k.anonKey+"\n")); err != nil {
		return nil, fmt.Errorf("store anon key: %w", err)
	}
	return k, nil
}

func writeFileAtomic(path string, data []byte) error {
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, data, 0o600); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

func (k *keys) sign(c claims) (string, error) {
	return jwt.NewWithClaims(jwt.SigningMethodHS256, c).SignedString(k.secret)
}

// Token verification errors, worded like Supabase Realtime's join errors.
var (
	errTokenExpired   = errors.New("token has expired")
	errTokenMalformed = errors.New("the token provided is not a valid jwt")
	errTokenSignature = errors.New("failed to validate jwt signature")
	errTokenClaims    = errors.New("fields `role` and `exp` are required in jwt")
)

func newVerifiedCache() *lru.Cache[string, verifiedToken] {
	c, err := lru.New[string, verifiedToken](verifiedCacheSize)
	if err != nil {
		panic(err) // only for a size ≤ 0
	}
	return c
}

// verify checks an HS256 token and returns its claims, which callers must not modify.
func (k *keys) verify(token string) (*claims, error) {
	v, ok := k.verified.Get(token)
	if ok && time.Since(v.at) > verifiedCacheTTL {
		k.verified.Remove(token)
		ok = false
	}
	if ok {
		c := v.claims
		// jwt's rule: valid while now is before exp.
		if c.ExpiresAt != nil && !time.Now().Before(c.ExpiresAt.Time) {
			return c, errTokenExpired
		}
		return c, nil
	}
	c, err := k.parse(token)
	if err == nil {
		k.verified.Add(token, verifiedToken{c, time.Now()})
	}
	return c, err
}

// parse verifies an HS256 token with the secret.
func (k *keys) parse(token string) (*claims, error) {
	c := &claims{}
	_, err := jwt.ParseWithClaims(token, c, func(*jwt.Token) (any, error) { return k.secret, nil },
		jwt.WithValidMethods([]string{"HS256"}), jwt.WithExpirationRequired())
	switch {
	case err == nil:
	case errors.Is(err, jwt.ErrTokenExpired):
		return c, errTokenExpired
	case errors.Is(err, jwt.ErrTokenSignatureInvalid):
		return nil, errTokenSignature
	case errors.Is(err, jwt.ErrTokenRequiredClaimMissing):
		return nil, errTokenClaims
	default:
		return nil, errTokenMalformed
	}
	if c.Role == "" {
		return nil, errTokenClaims
	}
	return c, nil
}

// userToken mints a user's access token.
func (k *keys) userToken(userID, sessionID string, meta map[string]any, now time.Time) (string, time.Time, error) {
	exp := now.Add(AccessTokenTTL).Truncate(time.Second)
	empty := ""
	tok, err := k.sign(claims{
		RegisteredClaims: jwt.RegisteredClaims{
			Issuer: k.issuer + "/auth/v1", Subject: userID, Audience: jwt.ClaimStrings{"authenticated"},
			IssuedAt: jwt.NewNumericDate(now), ExpiresAt: jwt.NewNumericDate(exp),
		},
		Role: "authenticated", SessionID: sessionID, IsAnonymous: true, Email: &empty, Phone: &empty,
		AppMetadata: map[string]any{}, UserMetadata: meta, AAL: "aal1",
		AMR: []amrEntry{{Method: "anonymous", Timestamp: now.Unix()}},
	})
	return tok, exp, err
}
