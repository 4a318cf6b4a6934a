package main

import (
	"bytes"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

var (
	buildOnce sync.Once
	binPath   string
	buildErr  error
	binDir    string
)

func TestMain(m *testing.M) {
	code := m.Run()
	stopServers()
	if binDir != "" {
		os.RemoveAll(binDir)
	}
	os.Exit(code)
}

// admeterBinary builds the real binary once per test run.
func admeterBinary(tb testing.TB) string {
	tb.Helper()
	buildOnce.Do(func() {
		binDir, buildErr = os.MkdirTemp("", "admeter-bin-")
		if buildErr != nil {
			return
		}
		binPath = filepath.Join(binDir, "admeter")
		out, err := exec.Command("go", "build", "-race", "-o", binPath, ".").CombinedOutput()
		if err != nil {
			buildErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		tb.Fatal(buildErr)
	}
	return binPath
}

// proc is a running admeter binary.
type proc struct {
	cmd  *exec.Cmd
	base string
	// pixel is the base URL of the pixel listener that startBinary chose,
	// "" when extra chose or the role has none.
	pixel string
	out   *syncBuffer
	done  chan error
}

// syncBuffer collects a process's output.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) Bytes() []byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	return bytes.Clone(s.b.Bytes())
}

// startBinary runs "admeter serve" on a free port, and its pixel listener on
// another (unless extra says otherwise), with dataDir and waits for
// /healthz.
func startBinary(tb testing.TB, dataDir string, extra ...string) *proc {
	tb.Helper()
	port := freePort(tb)
	args := []string{"serve", "--addr", fmt.Sprintf("127.0.0.1:%d", port), "--data", dataDir, "--master-key", testMasterKey, "--log-format", "json"}
	pixel := ""
	if collects(extra) && !slices.Contains(extra, "--pixel-addr") {
		// The default, the port after --addr's, may be taken.
		pixel = fmt.Sprintf("127.0.0.1:%d", freePort(tb))
		args = append(args, "--pixel-addr", pixel)
		pixel = "http://" + pixel
	}
	args = append(args, extra...)
	cmd := exec.Command(admeterBinary(tb), args...)
	p := &proc{cmd: cmd, base: fmt.Sprintf("http://127.0.0.1:%d", port), pixel: pixel, out: &syncBuffer{}, done: make(chan error, 1)}
	cmd.Stdout, cmd.Stderr = p.out, p.out
	if err := cmd.Start(); err != nil {
		tb.Fatal(err)
	}
	go func() { p.done <- cmd.Wait() }()
	tb.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-p.done
	})
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		resp, err := http.Get(p.base + "/healthz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return p
			}
		}
		select {
		case err := <-p.done:
			p.done <- err // for the cleanup
			tb.Fatalf("admeter exited before it was ready: %v\n%s", err, p.out.Bytes())
		case <-time.After(50 * time.Millisecond):
		}
	}
	tb.Fatalf("admeter not ready after 30s:\n%s", p.out.Bytes())
	return nil
}

// collects reports whether serve flags leave the role one that collects
// (all or collector), which the pixel listener belongs to.
func collects(args []string) bool {
	role := RoleAll
	for i, a := range args {
		switch {
		case (a == "--role" || a == "-role") && i+1 < len(args):
			role = args[i+1]
		case strings.HasPrefix(a, "--role="):
			role = strings.TrimPrefix(a, "--role=")
		}
	}
	return role == RoleAll || role == RoleCollector
}

// stop sends SIGTERM and waits for a clean exit.
func (p *proc) stop(tb testing.TB) {
	tb.Helper()
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-p.done:
		p.done <- err // for the cleanup
		if err != nil {
			tb.Fatalf("admeter exited with %v after SIGTERM:\n%s", err, p.out.Bytes())
		}
	case <-time.After(30 * time.Second):
		tb.Fatalf("admeter did not stop within 30s of SIGTERM")
	}
}

// kill sends SIGKILL and waits for the process to be gone.
func (p *proc) kill(tb testing.TB) {
	tb.Helper()
	_ = p.cmd.Process.Signal(syscall.SIGKILL)
	err := <-p.done
	p.done <- err
}

// freePort returns a loopback port that was free a moment ago.
func freePort(tb testing.TB) int {
	tb.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}
