package main

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

func TestBodyDeadline(t *testing.T) {
	const d = 150 * time.Millisecond
	type result struct {
		readErr error // from reading the body
		ctxErr  error // of the request's context, 3d after the body was read
	}
	results := make(chan result, 1)
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		withBodyDeadline(w, r, d)
		_, err := io.ReadAll(r.Body)
		res := result{readErr: err}
		if err == nil {
			// A handler that works longer than the body deadline (a
			// report, say) must keep its context.
			time.Sleep(3 * d)
			res.ctxErr = r.Context().Err()
		}
		results <- res
		w.WriteHeader(http.StatusNoContent)
	}))
	srv.Config.ReadHeaderTimeout = 10 * time.Second
	srv.Start()
	defer srv.Close()

	send := func(t *testing.T, head, body string, pause time.Duration) result {
		t.Helper()
		c, err := net.Dial("tcp", srv.Listener.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		if _, err := io.WriteString(c, head+"\r\n"); err != nil {
			t.Fatal(err)
		}
		for _, b := range []byte(body) {
			time.Sleep(pause)
			if _, err := c.Write([]byte{b}); err != nil {
				break // the server gave up on us
			}
		}
		select {
		case res := <-results:
			_, _ = http.ReadResponse(bufio.NewReader(c), nil)
			return res
		case <-time.After(10 * time.Second):
			t.Fatal("the handler did not finish")
			return result{}
		}
	}
	post := func(body string) string {
		return fmt.Sprintf("POST /v1/events HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n", len(body))
	}

	t.Run("a body sent too slowly is cut off", func(t *testing.T) {
		res := send(t, post("0123456789"), "0123456789", d/2)
		if ne, ok := res.readErr.(net.Error); !ok || !ne.Timeout() {
			t.Fatalf("reading a body trickled over %v: err = %v, want a timeout", 5*d, res.readErr)
		}
	})
	t.Run("the deadline ends with the body", func(t *testing.T) {
		res := send(t, post("[]"), "[]", 0)
		if res.readErr != nil || res.ctxErr != nil {
			t.Fatalf("read err %v, context err %v after the body was read; want both nil", res.readErr, res.ctxErr)
		}
	})
	t.Run("no body, no deadline", func(t *testing.T) {
		res := send(t, "GET /api/v1/reports HTTP/1.1\r\nHost: x\r\n", "", 0)
		if res.readErr != nil || res.ctxErr != nil {
			t.Fatalf("read err %v, context err %v; want both nil", res.readErr, res.ctxErr)
		}
	})
}
