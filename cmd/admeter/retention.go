package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/admeter/admeter/retention"
)

// RetentionCommand asks a running server to enforce the raw-data retention
// now, or with --dry-run to show what would go.
type RetentionCommand struct {
	// Out receives the command's report; nil means standard output.
	Out io.Writer
}

// Run executes the command.
func (c *RetentionCommand) Run(ctx context.Context, args []string) error {
	out := c.Out
	if out == nil {
		out = os.Stdout
	}
	if len(args) == 0 || args[0] != "run" {
		if len(args) > 0 && (args[0] == "-h" || args[0] == "--help" || args[0] == "-help") {
			args = []string{"run", "--help"}
		} else {
			return usageError{"usage: admeter retention run [--dry-run] (run admeter retention run --help)"}
		}
	}
	var (
		server    = "http://localhost:8080"
		tokenFile = "./admeter-data/operator.token"
		dryRun    bool
	)
	fs := newFlagSet("retention run", "Enforce the raw-data retention on a running server now: drop raw events older than its --retention by whole days (daily rollups stay), remove loaded event-log segments, destroy key versions no event uses. --dry-run shows what would go.\n立即执行数据保存期限:删除超期原始事件(按日汇总保留)。--dry-run 只显示将删除的内容。")
	fs.StringVar(&server, "server", server, "base URL of the admeter server")
	fs.StringVar(&tokenFile, "token-file", tokenFile, "file holding the operator token")
	fs.BoolVar(&dryRun, "dry-run", dryRun, "show what would be deleted; change nothing")
	if err := parseFlags(fs, args[1:]); err != nil {
		return err
	}
	tok, err := os.ReadFile(tokenFile)
	if err != nil {
		return fmt.Errorf("read --token-file: %w (it is operator.token in the server's data directory)", err)
	}
	body, _ := json.Marshal(map[string]bool{"dry_run": dryRun})
	req, err := http.NewRequestWithContext(ctx, "POST", strings.TrimRight(server, "/")+"/api/v1/admin/retention", bytes.NewReader(body))
	if err != nil {
		return usageError{fmt.Sprintf("--server %q: %v", server, err)}
	}
	req.Header.Set("Authorization", "Bearer "+strings.TrimSpace(string(tok)))
	req.Header.Set("Content-Type", "application/json")
	resp, err := (&http.Client{Timeout: 30 * time.Minute}).Do(req)
	if err != nil {
		return fmt.Errorf("ask %s: %w (is admeter serve running there? set --server)", server, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		return fmt.Errorf("read answer: %w", err)
	}
	if resp.StatusCode != http.StatusOK {
		var e struct {
			Error struct{ Code, Message string }
		}
		if json.Unmarshal(data, &e) == nil && e.Error.Message != "" {
			return fmt.Errorf("%s: %s", e.Error.Code, e.Error.Message)
		}
		return fmt.Errorf("server answered %s", resp.Status)
	}
	var res retention.Result
	if err := json.Unmarshal(data, &res); err != nil {
		return fmt.Errorf("read answer: %w", err)
	}
	verb := "deleted"
	if res.DryRun {
		verb = "would delete"
	}
	fmt.Fprintf(out, "retention %s: raw events before %s go.\n", res.Retention, res.Cutoff.Format(time.RFC3339))
	for _, d := range res.Days {
		if d.Events < 0 {
			fmt.Fprintf(out, "  %s  (the events before the cutoff)\n", d.Day)
			continue
		}
		fmt.Fprintf(out, "  %s  %d events\n", d.Day, d.Events)
	}
	fmt.Fprintf(out, "%s %d raw events", verb, res.Events)
	if !res.DryRun {
		fmt.Fprintf(out, ", removed %d loaded event-log segments", res.LogSegments)
	}
	if len(res.KeysDestroyed) > 0 {
		fmt.Fprintf(out, "; key versions %v destroyed%s", res.KeysDestroyed, map[bool]string{true: " (would be)", false: ""}[res.DryRun])
	}
	fmt.Fprintln(out, ".")
	return nil
}
