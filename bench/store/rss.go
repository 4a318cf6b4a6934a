package main

import (
	"bufio"
	"os"
	"strconv"
	"strings"
)

// memStatus returns this process's resident set and its peak (VmRSS and
// VmHWM in /proc/self/status), in bytes; zeros where unavailable.
func memStatus() (rss, hwm int64) {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return 0, 0
	}
	defer f.Close()
	s := bufio.NewScanner(f)
	for s.Scan() {
		name, val, ok := strings.Cut(s.Text(), ":")
		if !ok || (name != "VmRSS" && name != "VmHWM") {
			continue
		}
		kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(val), " kB"), 10, 64)
		if err != nil {
			continue
		}
		if name == "VmRSS" {
			rss = kb << 10
		} else {
			hwm = kb << 10
		}
	}
	return rss, hwm
}

// resetHWM resets the peak resident set (VmHWM) to the current one, so a
// phase's peak is measured alone (Linux 4.0+: "5" to clear_refs). It does
// nothing where that is not possible.
func resetHWM() {
	_ = os.WriteFile("/proc/self/clear_refs", []byte("5"), 0)
}
