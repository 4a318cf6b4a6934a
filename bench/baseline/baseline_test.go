package main

import (
	"bytes"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
)

// TestGroupCommitterKeepsEveryLine appends from many goroutines at once and
// checks that every acknowledged line is in the file exactly once, whole.
func TestGroupCommitterKeepsEveryLine(t *testing.T) {
	path := filepath.Join(t.TempDir(), "floor.log")
	gc, err := openGroupCommitter(path)
	if err != nil {
		t.Fatal(err)
	}
	const writers, each = 16, 200
	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			for i := range each {
				if err := gc.append(fmt.Sprintf("/x/k=1&p=2&w=%d&i=%d", w, i)); err != nil {
					t.Errorf("append: %v", err)
					return
				}
			}
		})
	}
	wg.Wait()
	if err := gc.close(); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(string(data), "\n"), "\n")
	if len(lines) != writers*each {
		t.Fatalf("%d lines in the file, want %d", len(lines), writers*each)
	}
	slices.Sort(lines)
	if i := slices.Index(lines, ""); i >= 0 || len(slices.Compact(lines)) != writers*each {
		t.Fatalf("the file has empty or duplicate lines")
	}
}

// TestGroupCommitterReportsWriteErrors closes the file under the writer: the
// waiting append must get the error, not a false acknowledgement.
func TestGroupCommitterReportsWriteErrors(t *testing.T) {
	gc, err := openGroupCommitter(filepath.Join(t.TempDir(), "floor.log"))
	if err != nil {
		t.Fatal(err)
	}
	_ = gc.f.Close()
	if err := gc.append("/x/k=1&p=2"); err == nil {
		t.Fatal("append to a closed file acknowledged")
	}
	close(gc.queue)
	<-gc.stopped
}

func TestWriteGIF(t *testing.T) {
	rec := httptest.NewRecorder()
	writeGIF(rec)
	if rec.Code != 200 || rec.Header().Get("Content-Type") != "image/gif" ||
		rec.Header().Get("Content-Length") != "43" || !bytes.Equal(rec.Body.Bytes(), gif) || len(gif) != 43 {
		t.Fatalf("writeGIF: %d %v %d bytes", rec.Code, rec.Header(), rec.Body.Len())
	}
}

func TestCheckLoopback(t *testing.T) {
	tests := []struct {
		addr string
		ok   bool
	}{
		{"127.0.0.1:8081", true},
		{"127.0.0.2:0", true},
		{"[::1]:8081", true},
		{":8081", false},
		{"0.0.0.0:8081", false},
		{"192.168.1.2:8081", false},
		{"localhost:8081", false},
		{"127.0.0.1", false},
	}
	for _, tt := range tests {
		if err := checkLoopback(tt.addr); (err == nil) != tt.ok {
			t.Errorf("checkLoopback(%q) = %v, want ok=%v", tt.addr, err, tt.ok)
		}
	}
}

func TestFastHTTPBaseline(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := newFastHTTPServer()
	go func() { _ = srv.Serve(ln) }()
	defer func() { _ = srv.Shutdown() }()
	resp, err := http.Get("http://" + ln.Addr().String() + "/x/k=1&p=2")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "image/gif" || resp.Header.Get("Content-Length") != "43" ||
		!strings.Contains(resp.Header.Get("Cache-Control"), "no-store") || !bytes.Equal(body, gif) {
		t.Fatalf("bare-fasthttp: %d %v %d bytes", resp.StatusCode, resp.Header, len(body))
	}
}
