package main

import (
	"context"
	"fmt"
	"os"
	"runtime/debug"
)

// VersionCommand prints the build's version.
type VersionCommand struct{}

// Run executes the command.
func (c *VersionCommand) Run(_ context.Context, args []string) error {
	fs := newFlagSet("version", "Print the admeter version. 显示版本。")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	fmt.Fprintln(os.Stdout, "admeter", version())
	return nil
}

// version returns the module version or VCS revision of this build.
func version() string {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return "unknown"
	}
	v := bi.Main.Version
	for _, s := range bi.Settings {
		if s.Key == "vcs.revision" && len(s.Value) >= 12 {
			v += " (" + s.Value[:12] + ")"
		}
	}
	return v
}
