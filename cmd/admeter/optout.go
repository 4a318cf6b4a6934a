package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/admeter/admeter/optout"
)

// OptOutCommand maintains the opt-out registry file of a stopped server.
type OptOutCommand struct {
	// Out receives the command's report; nil means standard output.
	Out io.Writer
}

// Run executes the command.
func (c *OptOutCommand) Run(_ context.Context, args []string) error {
	out := c.Out
	if out == nil {
		out = os.Stdout
	}
	if len(args) == 0 || args[0] != "repair" {
		if len(args) > 0 && (args[0] == "-h" || args[0] == "--help" || args[0] == "-help") {
			args = []string{"repair", "--help"}
		} else {
			return usageError{"usage: admeter optout repair --data DIR (run admeter optout repair --help)"}
		}
	}
	data := "./admeter-data"
	fs := newFlagSet("optout repair", "Repair a damaged opt-out registry (<data>/optout.reg) of a stopped server: keep every record whose checksum is valid, drop the others. Restore from a backup instead if you have one: a dropped record is an opt-out lost.\n修复损坏的退出登记文件(需先停止服务)。")
	fs.StringVar(&data, "data", data, "data directory of the server (stop the server first)")
	if err := parseFlags(fs, args[1:]); err != nil {
		return err
	}
	path := filepath.Join(data, "optout.reg")
	dropped, err := optout.Repair(path, nil)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "repaired %s: dropped %d damaged records; the rest are kept.\n已修复,丢弃 %d 条损坏记录。\n", path, dropped, dropped)
	return nil
}
