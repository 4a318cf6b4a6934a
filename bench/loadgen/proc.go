package main

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"
)

// procTicks returns the user + system CPU time of process pid in clock
// ticks, from /proc/PID/stat (Linux).
func procTicks(pid int) (int64, error) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0, fmt.Errorf("read process stat: %w", err)
	}
	return parseStatTicks(string(b))
}

// parseStatTicks returns utime + stime (fields 14 and 15) of a
// /proc/PID/stat line. The command name (field 2) may hold spaces and
// parentheses, so the fields are counted from its last ')'.
func parseStatTicks(stat string) (int64, error) {
	i := strings.LastIndexByte(stat, ')')
	if i < 0 {
		return 0, fmt.Errorf("parse process stat: no command name")
	}
	f := strings.Fields(stat[i+1:]) // f[0] is field 3
	if len(f) < 13 {
		return 0, fmt.Errorf("parse process stat: %d fields", len(f)+2)
	}
	u, err1 := strconv.ParseInt(f[11], 10, 64)
	s, err2 := strconv.ParseInt(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		return 0, fmt.Errorf("parse process stat: utime %q stime %q", f[11], f[12])
	}
	return u + s, nil
}

// serverTicks returns the CPU ticks process pid uses between from and to,
// or -1 when they cannot be read or ctx ends first.
func serverTicks(ctx context.Context, pid int, from, to time.Time) int64 {
	at := func(t time.Time) (int64, bool) {
		timer := time.NewTimer(time.Until(t))
		defer timer.Stop()
		select {
		case <-timer.C:
		case <-ctx.Done():
			return 0, false
		}
		n, err := procTicks(pid)
		return n, err == nil
	}
	t0, ok0 := at(from)
	t1, ok1 := at(to)
	if !ok0 || !ok1 {
		return -1
	}
	return t1 - t0
}
