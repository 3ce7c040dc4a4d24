//go:build windows

package player

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net"
	"os"

	"github.com/Microsoft/go-winio"
)

// dial connects to mpv's named pipe once.
func dial(ctx context.Context, path string) (net.Conn, error) {
	return winio.DialPipeContext(ctx, path)
}

// privateSocket returns a fresh pipe name. Pipes disappear with the
// process, so there is nothing to clean up.
func privateSocket() (string, func(), error) {
	var b [8]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", nil, fmt.Errorf("name mpv pipe: %w", err)
	}
	name := fmt.Sprintf(`\\.\pipe\watchparty-mpv-%d-%s`, os.Getpid(), hex.EncodeToString(b[:]))
	return name, func() {}, nil
}

// removeStaleSocket does nothing: named pipes leave nothing behind.
func removeStaleSocket(string) {}
