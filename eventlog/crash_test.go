package eventlog

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

const (
	crashDirEnv   = "EVENTLOG_CRASH_DIR"
	crashSeedEnv  = "EVENTLOG_CRASH_SEED"
	crashFsyncEnv = "EVENTLOG_CRASH_FSYNC"
)

// TestHelperProcess is the child of TestCrash: it appends to the log in
// $EVENTLOG_CRASH_DIR from several goroutines, with FsyncAlways or, if
// $EVENTLOG_CRASH_FSYNC is "interval", FsyncInterval, and prints
// "offset hash" for every acknowledged record, until it is killed.
func TestHelperProcess(t *testing.T) {
	dir := os.Getenv(crashDirEnv)
	if dir == "" {
		t.Skip("helper process for TestCrash")
	}
	seed, _ := strconv.ParseUint(os.Getenv(crashSeedEnv), 10, 64)
	mode := FsyncAlways
	if os.Getenv(crashFsyncEnv) == FsyncInterval.String() {
		mode = FsyncInterval
	}
	// Small segments so that the kill also lands near rollovers.
	l, err := Open(dir, Options{SegmentSize: 64 << 10, Fsync: mode}, nil, nil)
	if err != nil {
		fmt.Fprintln(os.Stderr, "open:", err)
		os.Exit(2)
	}
	var mu sync.Mutex
	for g := range 8 {
		go func() {
			rng := rand.New(rand.NewPCG(seed, uint64(g)))
			for {
				recs := make([][]byte, 1+rng.IntN(4))
				for i := range recs {
					recs[i] = make([]byte, 20+rng.IntN(400))
					for j := range recs[i] {
						recs[i][j] = byte(rng.Uint32())
					}
				}
				first, err := l.Append(context.Background(), recs...)
				if err != nil {
					fmt.Fprintln(os.Stderr, "append:", err)
					os.Exit(3)
				}
				var out strings.Builder
				for i, r := range recs {
					fmt.Fprintf(&out, "%d %s\n", first+uint64(i), recordHash(r))
				}
				mu.Lock()
				// One write(2) per Append: a pipe write below PIPE_BUF
				// is atomic, so a kill never leaves half a line.
				_, _ = os.Stdout.WriteString(out.String())
				mu.Unlock()
			}
		}()
	}
	select {}
}

func recordHash(b []byte) string {
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:8])
}

// TestCrash kills a process appending at a random moment, several times
// over, and checks after each kill that every record the child saw
// acknowledged is in the reopened log, intact and at its offset. Both modes
// promise that: a crash of the process loses no acknowledged record.
//
// SIGKILL tests the framing, recovery and acknowledgement logic; it cannot
// test fdatasync itself, which only matters on power loss.
func TestCrash(t *testing.T) {
	if testing.Short() {
		t.Skip("spawns child processes")
	}
	for _, mode := range []FsyncMode{FsyncAlways, FsyncInterval} {
		t.Run(mode.String(), func(t *testing.T) { testCrash(t, mode) })
	}
}

func testCrash(t *testing.T, mode FsyncMode) {
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	rng := rand.New(rand.NewPCG(seed, 0))
	dir := t.TempDir()
	acked := map[uint64]string{}

	for round := range 4 {
		cmd := exec.Command(os.Args[0], "-test.run=^TestHelperProcess$", "-test.count=1")
		cmd.Env = append(os.Environ(), crashDirEnv+"="+dir, fmt.Sprintf("%s=%d", crashSeedEnv, seed+uint64(round)),
			crashFsyncEnv+"="+mode.String())
		cmd.Stderr = os.Stderr
		stdout, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}

		// Kill after the child has acknowledged a random number of
		// records, plus a random delay.
		killAt := 50 + rng.IntN(3000)
		delay := time.Duration(rng.IntN(20)) * time.Millisecond
		sc := bufio.NewScanner(stdout)
		n := 0
		killed := false
		for sc.Scan() {
			off, hash, ok := strings.Cut(sc.Text(), " ")
			o, err := strconv.ParseUint(off, 10, 64)
			if !ok || err != nil {
				t.Fatalf("round %d: bad line %q", round, sc.Text())
			}
			if prev, dup := acked[o]; dup {
				t.Fatalf("round %d: offset %d acknowledged twice (%s, %s)", round, o, prev, hash)
			}
			acked[o] = hash
			if n++; n == killAt && !killed {
				time.Sleep(delay)
				if err := cmd.Process.Kill(); err != nil {
					t.Fatal(err)
				}
				killed = true
			}
		}
		if !killed {
			t.Fatalf("round %d: child exited before being killed: %v", round, cmd.Wait())
		}
		_ = cmd.Wait()

		l, err := Open(dir, Options{SegmentSize: 64 << 10}, testLogger(t), nil)
		if err != nil {
			t.Fatalf("round %d: reopen: %v", round, err)
		}
		recs := readAll(t, l, 0)
		for off, hash := range acked {
			if off >= uint64(len(recs)) {
				t.Fatalf("round %d: acknowledged offset %d missing (log has %d records)", round, off, len(recs))
			}
			if got := recordHash(recs[off]); got != hash {
				t.Fatalf("round %d: record %d hash %s, acknowledged %s", round, off, got, hash)
			}
		}
		if err := l.Verify(t.Context()); err != nil {
			t.Fatalf("round %d: Verify: %v", round, err)
		}
		if err := l.Close(); err != nil {
			t.Fatal(err)
		}
		t.Logf("round %d: %d acknowledged records, %d in the log", round, len(acked), len(recs))
	}
}
