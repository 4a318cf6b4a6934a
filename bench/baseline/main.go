package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"syscall"
	"time"
)

// gif is the same 1×1 transparent GIF (43 bytes) that admeter's pixel sends.
var gif = []byte("GIF89a\x01\x00\x01\x00\x80\x00\x00\x00\x00\x00\x00\x00\x00!\xf9\x04\x01\x00\x00\x00\x00,\x00\x00\x00\x00\x01\x00\x01\x00\x00\x02\x02D\x01\x00;")

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	err := run(ctx, os.Args[1:])
	stop()
	if errors.Is(err, flag.ErrHelp) {
		return
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "baseline:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("baseline", flag.ContinueOnError)
	addr := fs.String("addr", "127.0.0.1:8081", "loopback address to listen on")
	mode := fs.String("mode", "bare", "bare: answer the GIF and nothing else; durable: append the request URI to --file with group-committed fdatasync first; bare-fasthttp: bare on fasthttp, as admeter's --pixel-addr listener")
	file := fs.String("file", "", "file the durable mode appends to (created or truncated)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if err := checkLoopback(*addr); err != nil {
		return err
	}

	if *mode == "bare-fasthttp" {
		return serveFastHTTP(ctx, *addr)
	}
	var h http.Handler
	var gc *groupCommitter
	switch *mode {
	case "bare":
		h = http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { writeGIF(w) })
	case "durable":
		if *file == "" {
			return errors.New("--file is required with --mode durable")
		}
		var err error
		if gc, err = openGroupCommitter(*file); err != nil {
			return err
		}
		h = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if err := gc.append(r.RequestURI); err != nil {
				http.Error(w, "append: "+err.Error(), http.StatusServiceUnavailable)
				return
			}
			writeGIF(w)
		})
	default:
		return fmt.Errorf("--mode must be bare, durable or bare-fasthttp, not %q", *mode)
	}

	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", *addr, err)
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second, IdleTimeout: 120 * time.Second}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()

	select {
	case err = <-served:
	case <-ctx.Done():
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		err = srv.Shutdown(sctx)
		cancel()
	}
	if errors.Is(err, http.ErrServerClosed) {
		err = nil
	}
	if gc != nil {
		err = errors.Join(err, gc.close())
	}
	return err
}

// checkLoopback refuses any listen address that is not a loopback IP.
func checkLoopback(addr string) error {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("parse --addr %q: %w", addr, err)
	}
	a, err := netip.ParseAddr(host)
	if err != nil || !a.IsLoopback() {
		return fmt.Errorf("--addr must be a loopback address such as 127.0.0.1:8081, not %q", addr)
	}
	return nil
}

// writeGIF sends the pixel with the headers admeter's collector sends.
func writeGIF(w http.ResponseWriter) {
	hdr := w.Header()
	hdr.Set("Content-Type", "image/gif")
	hdr.Set("Cache-Control", "no-store, no-cache, must-revalidate, max-age=0")
	hdr.Set("Content-Length", strconv.Itoa(len(gif)))
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(gif)
}

// pending is one line waiting to be made durable; done receives the result
// of the group it was written in.
type pending struct {
	line string
	done chan error
}

// groupCommitter appends lines to a file. One goroutine owns the file; each
// loop it takes every pending line, writes them with one write(2), makes them
// durable with one fdatasync(2), and answers every waiter.
type groupCommitter struct {
	f       *os.File
	queue   chan *pending
	stopped chan struct{}
}

func openGroupCommitter(path string) (*groupCommitter, error) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_TRUNC|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	// The new directory entry must be durable too, once.
	if err := syncDir(filepath.Dir(path)); err != nil {
		_ = f.Close()
		return nil, err
	}
	gc := &groupCommitter{f: f, queue: make(chan *pending, 4096), stopped: make(chan struct{})}
	go gc.loop()
	return gc, nil
}

// append returns once line is on stable storage.
func (gc *groupCommitter) append(line string) error {
	p := &pending{line: line, done: make(chan error, 1)}
	gc.queue <- p
	return <-p.done
}

func (gc *groupCommitter) loop() {
	defer close(gc.stopped)
	var (
		group []*pending
		buf   []byte
	)
	for first := range gc.queue {
		group, buf = append(group[:0], first), append(append(buf[:0], first.line...), '\n')
	gather:
		for {
			select {
			case p, ok := <-gc.queue:
				if !ok {
					break gather
				}
				group = append(group, p)
				buf = append(append(buf, p.line...), '\n')
			default:
				break gather
			}
		}
		_, err := gc.f.Write(buf)
		if err == nil {
			err = fdatasync(gc.f)
		}
		if err != nil {
			err = fmt.Errorf("write %s: %w", gc.f.Name(), err)
		}
		for i, p := range group {
			p.done <- err
			group[i] = nil
		}
	}
}

// close stops the writer once every queued line is durable, then closes the
// file. It must be called after the last append has returned.
func (gc *groupCommitter) close() error {
	close(gc.queue)
	<-gc.stopped
	if err := gc.f.Close(); err != nil {
		return fmt.Errorf("close %s: %w", gc.f.Name(), err)
	}
	return nil
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("open directory %s: %w", dir, err)
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("sync directory %s: %w", dir, err)
	}
	return nil
}
