package syncbench

import (
	"bytes"
	"fmt"
	"io"
	"net"
	"net/url"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"
)

// echoServer serves a loopback listener that writes back everything it reads and half-closes
// when the client does.
func echoServer(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	t.Cleanup(func() { ln.Close(); wg.Wait() })
	wg.Go(func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			wg.Go(func() {
				defer c.Close()
				io.Copy(c, c)
				c.(*net.TCPConn).CloseWrite()
			})
		}
	})
	return ln.Addr().String()
}

func proxyAddr(t *testing.T, p *DelayProxy) string {
	t.Helper()
	u, err := url.Parse(p.URL)
	if err != nil {
		t.Fatal(err)
	}
	return u.Host
}

// Many small writes through a jittery proxy come back whole and in order, and the client's
// half close reaches the server and comes back.
func TestDelayProxyKeepsOrder(t *testing.T) {
	t.Cleanup(func() { goleak.VerifyNone(t) }) // after the echo server has stopped
	p, err := StartDelayProxy(echoServer(t), 2*time.Millisecond, 2*time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	c, err := net.Dial("tcp", proxyAddr(t, p))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	var want bytes.Buffer
	for i := range 300 {
		fmt.Fprintf(&want, "chunk %04d;", i)
	}
	done := make(chan error, 1)
	go func() {
		msg := want.Bytes()
		for len(msg) > 0 {
			n := min(len(msg), 11)
			if _, err := c.Write(msg[:n]); err != nil {
				done <- err
				return
			}
			msg = msg[n:]
		}
		done <- c.(*net.TCPConn).CloseWrite()
	}()
	c.SetReadDeadline(time.Now().Add(20 * time.Second))
	got, err := io.ReadAll(c)
	if err != nil {
		t.Fatalf("read back: %v", err)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want.Bytes()) {
		t.Fatalf("got %d bytes back, want the %d sent in order; first bytes %q", len(got), want.Len(), got[:min(len(got), 40)])
	}
}

// Close ends connections still open through the proxy, and their goroutines.
func TestDelayProxyCloseEndsConnections(t *testing.T) {
	t.Cleanup(func() { goleak.VerifyNone(t) }) // after the echo server has stopped
	p, err := StartDelayProxy(echoServer(t), time.Millisecond, 0)
	if err != nil {
		t.Fatal(err)
	}
	c, err := net.Dial("tcp", proxyAddr(t, p))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := c.Write([]byte("hello")); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 5)
	c.SetReadDeadline(time.Now().Add(10 * time.Second))
	if _, err := io.ReadFull(c, buf); err != nil {
		t.Fatalf("echo through the proxy: %v", err)
	}
	p.Close()
	if _, err := c.Read(buf); err == nil {
		t.Fatal("the connection is still open after Close")
	}
}

func TestDelayProxyRejectsJitterAboveLatency(t *testing.T) {
	if _, err := StartDelayProxy("127.0.0.1:1", time.Millisecond, 2*time.Millisecond); err == nil {
		t.Fatal("jitter above latency was accepted")
	}
}
