package server

import (
	"bytes"
	"net"
	"testing"
)

// writes records each write that reaches the socket.
type writes struct {
	net.Conn
	got [][]byte
}

func (w *writes) Write(p []byte) (int, error) {
	w.got = append(w.got, append([]byte(nil), p...))
	return len(p), nil
}

// A batch reaches the socket in writes of at most batchBytes (a larger frame alone), in order;
// outside a batch every write goes straight through, and an idle writer holds no buffer.
func TestBatchWriterBound(t *testing.T) {
	sock := &writes{}
	b := &batchWriter{conn: sock}
	var want []byte
	frame := func(n int, c byte) {
		p := bytes.Repeat([]byte{c}, n)
		want = append(want, p...)
		if _, err := b.Write(p); err != nil {
			t.Fatal(err)
		}
	}
	frame(10, 'x') // no batch: straight through
	if len(sock.got) != 1 {
		t.Fatalf("a write outside a batch: %d socket writes, want 1", len(sock.got))
	}
	b.begin()
	for i := range 40 {
		frame(1500, byte('a'+i%26))
	}
	frame(3*batchBytes, 'L') // larger than a batch
	frame(100, 'z')
	if err := b.end(); err != nil {
		t.Fatal(err)
	}
	if b.buf != nil {
		t.Error("the writer keeps a buffer after the batch")
	}
	var all []byte
	for i, w := range sock.got {
		all = append(all, w...)
		if len(w) > batchBytes && !bytes.Equal(w, bytes.Repeat([]byte{'L'}, 3*batchBytes)) {
			t.Errorf("socket write %d: %d bytes, more than %d", i, len(w), batchBytes)
		}
	}
	if !bytes.Equal(all, want) {
		t.Fatal("the socket got other bytes than were written, or out of order")
	}
	if n := len(sock.got); n > 1+5+1 {
		t.Errorf("%d socket writes for 61,500 bytes in batches of %d", n, batchBytes)
	}
}
