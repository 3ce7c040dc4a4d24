package syncbench

import (
	"errors"
	"io"
	"math/rand/v2"
	"net"
	"sync"
	"time"
)

// DelayProxy is a TCP proxy on a loopback port in front of a server: every chunk read from
// either side is held for Latency ± Jitter (uniform) before it is written to the other side,
// in order per direction (a chunk is never sent before the one read before it), so a client
// behind it sees a round trip of about 2 × Latency ± 2 × Jitter. HTTP and WebSocket
// connections alike go through it. Safe for concurrent use.
type DelayProxy struct {
	// URL is http://127.0.0.1:PORT: give it to clients instead of the server's URL.
	URL string

	target          string
	latency, jitter time.Duration
	ln              net.Listener

	mu     sync.Mutex
	conns  map[net.Conn]struct{}
	closed bool
	wg     sync.WaitGroup
}

// chunkSize is the most read from a connection at once: one chunk.
const chunkSize = 32 << 10

// maxHeld bounds the chunks held per direction: a reader blocks beyond it.
const maxHeld = 1024

// StartDelayProxy serves a delay proxy to target (host:port) on a free loopback port. jitter
// must not exceed latency.
func StartDelayProxy(target string, latency, jitter time.Duration) (*DelayProxy, error) {
	if latency < 0 || jitter < 0 || jitter > latency {
		return nil, errors.New("delay proxy: need 0 <= jitter <= latency")
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	p := &DelayProxy{URL: "http://" + ln.Addr().String(), target: target, latency: latency, jitter: jitter,
		ln: ln, conns: map[net.Conn]struct{}{}}
	p.wg.Go(p.accept)
	return p, nil
}

// Close stops listening, closes every proxied connection and waits for them.
func (p *DelayProxy) Close() {
	p.mu.Lock()
	p.closed = true
	for c := range p.conns {
		c.Close()
	}
	p.mu.Unlock()
	p.ln.Close()
	p.wg.Wait()
}

// track adds c to the open connections, or reports false when the proxy is closing.
func (p *DelayProxy) track(c net.Conn) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return false
	}
	p.conns[c] = struct{}{}
	return true
}

func (p *DelayProxy) untrack(c net.Conn) {
	p.mu.Lock()
	delete(p.conns, c)
	p.mu.Unlock()
	c.Close()
}

func (p *DelayProxy) accept() {
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		if !p.track(c) {
			c.Close()
			return
		}
		p.wg.Go(func() { p.serve(c) })
	}
}

func (p *DelayProxy) serve(client net.Conn) {
	defer p.untrack(client)
	server, err := net.DialTimeout("tcp", p.target, 5*time.Second)
	if err != nil {
		return
	}
	if !p.track(server) {
		server.Close()
		return
	}
	defer p.untrack(server)
	var wg sync.WaitGroup
	wg.Go(func() { p.pipe(server, client) })
	wg.Go(func() { p.pipe(client, server) })
	wg.Wait()
}

// heldChunk is data read at one time, due to be written at due.
type heldChunk struct {
	data []byte
	due  time.Time
}

// delay is one chunk's hold time: latency ± jitter, uniform.
func (p *DelayProxy) delay() time.Duration {
	if p.jitter == 0 {
		return p.latency
	}
	return p.latency - p.jitter + rand.N(2*p.jitter+1)
}

// pipe copies src to dst, holding each chunk until its due time. When src ends, dst's write
// side is closed after the held chunks (a half close, as the peer did); on a write error
// both ends are closed.
func (p *DelayProxy) pipe(dst, src net.Conn) {
	held := make(chan heldChunk, maxHeld)
	var wg sync.WaitGroup
	wg.Go(func() {
		defer func() {
			for range held { // drain, so the reader never blocks on a dead writer
			}
		}()
		timer := time.NewTimer(0)
		defer timer.Stop()
		for c := range held {
			if d := time.Until(c.due); d > 0 {
				timer.Reset(d)
				<-timer.C
			}
			if _, err := dst.Write(c.data); err != nil {
				dst.Close()
				src.Close()
				return
			}
		}
		if tc, ok := dst.(*net.TCPConn); ok {
			tc.CloseWrite()
		} else {
			dst.Close()
		}
	})
	var last time.Time
	for {
		buf := make([]byte, chunkSize)
		n, err := src.Read(buf)
		if n > 0 {
			due := time.Now().Add(p.delay())
			if due.Before(last) {
				due = last // in order: never before the chunk read before this one
			}
			last = due
			held <- heldChunk{buf[:n], due}
		}
		if err != nil {
			if !errors.Is(err, io.EOF) {
				dst.Close()
			}
			break
		}
	}
	close(held)
	wg.Wait()
}
