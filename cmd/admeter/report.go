package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/admeter/admeter/store"
)

// ReportCommand prints a campaign's report from a running server.
type ReportCommand struct{}

// Run executes the command.
func (c *ReportCommand) Run(ctx context.Context, args []string) error {
	var (
		server   = "http://localhost:8080"
		token    string
		campaign string
		from     string
		to       string
		by       string
		format   = "table"
		kind     = "report"
		currency string
		measures string
		waste    string
		levels   string
		effect   string
		maxScale string
	)
	fs := newFlagSet("report", "Print a campaign report (impressions, clicks, CTR, UV, viewability, conversions), its reach and frequency, its conversions, its cross-media reach and deduplication, or a placement plan from a running admeter server.\n从运行中的 admeter 服务查询活动报表(曝光、点击、点击率、独立用户、可见性、转化)、触达与频次、转化报表、跨媒体去重触达或投放优化建议。")
	fs.StringVar(&server, "server", server, "base URL of the admeter server")
	fs.StringVar(&token, "token", token, "tenant token (Authorization: Bearer)")
	var tokenFile string
	fs.StringVar(&tokenFile, "token-file", tokenFile, "file holding the tenant token (e.g. admeter-data/demo.token)")
	fs.StringVar(&campaign, "campaign", campaign, "campaign id (the k of its monitoring URLs); for --kind=reach and plan, several comma-separated combine campaigns")
	fs.StringVar(&from, "from", from, "first day, YYYY-MM-DD, in the campaign's time zone (default: 6 days before --to)")
	fs.StringVar(&to, "to", to, "last day, YYYY-MM-DD (default: today in Asia/Shanghai)")
	fs.StringVar(&by, "by", by, "comma-separated breakdown: day, hour, placement, media, region, os, device (and type for --kind=conversions); for --kind=reach and plan: media (default) or placement")
	fs.StringVar(&format, "format", format, "table, csv or json")
	fs.StringVar(&kind, "kind", kind, "report (impressions, clicks, UV, viewability, conversions), frequency (reach and frequency), daily (rollups), conversions (conversions, value, CVR, time to convert), reach (cross-media deduplication, overlap, incremental reach, effective reach, frequency waste, costs) or plan (budget reallocation and frequency cap)")
	fs.StringVar(&waste, "waste-above", waste, "--kind=reach and plan: impressions per user beyond which further ones are frequency waste (default: the campaign's setting)")
	fs.StringVar(&levels, "levels", levels, "--kind=reach: effective-frequency levels, comma-separated (default 1,2,3,4,5,10)")
	fs.StringVar(&effect, "effective", effect, "--kind=plan: the frequency at which reach counts (default 1)")
	fs.StringVar(&maxScale, "max-scale", maxScale, "--kind=plan: how many times its delivery a placement may grow to (default 2)")
	fs.StringVar(&currency, "currency", currency, "currency of conversion values, an ISO 4217 code (default CNY)")
	fs.StringVar(&measures, "measures", measures, "table columns of --kind=report, comma-separated, or all (default: impressions, clicks, ctr, uv, click_uv, and the viewability and conversion columns when the total has any)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	var problems []string
	if token == "" && tokenFile != "" {
		b, err := os.ReadFile(tokenFile)
		if err != nil {
			return fmt.Errorf("read --token-file: %w", err)
		}
		token = strings.TrimSpace(string(b))
	}
	if token == "" {
		problems = append(problems, "--token or --token-file is required (the tenant token)")
	}
	if campaign == "" {
		problems = append(problems, "--campaign is required")
	}
	if format != "table" && format != "csv" && format != "json" {
		problems = append(problems, fmt.Sprintf("--format must be table, csv or json, not %q", format))
	}
	if !slices.Contains([]string{"report", "frequency", "daily", "conversions", "reach", "plan"}, kind) {
		problems = append(problems, fmt.Sprintf("--kind must be report, frequency, daily, conversions, reach or plan, not %q", kind))
	}
	reachKind := kind == "reach" || kind == "plan"
	if strings.Contains(campaign, ",") && !reachKind {
		problems = append(problems, "several campaigns combine in --kind=reach and --kind=plan only")
	}
	if (waste != "" && !reachKind) || (levels != "" && kind != "reach") || ((effect != "" || maxScale != "") && kind != "plan") {
		problems = append(problems, "--waste-above is for --kind=reach and plan, --levels for reach, --effective and --max-scale for plan")
	}
	if format == "csv" && kind != "report" && kind != "conversions" {
		problems = append(problems, "--format=csv is available for --kind=report and --kind=conversions only")
	}
	if measures != "" && (kind != "report" || format != "table") {
		problems = append(problems, "--measures chooses the table columns of --kind=report only")
	}
	if len(problems) > 0 {
		return usageError{strings.Join(problems, "; ")}
	}
	if to == "" {
		loc, _ := time.LoadLocation("Asia/Shanghai")
		to = store.DateOf(time.Now().In(loc)).String()
	}
	if from == "" {
		d, err := store.ParseDate(to)
		if err != nil {
			return usageError{"--to: " + err.Error()}
		}
		from = d.AddDays(-6).String()
	}

	q := url.Values{"from": {from}, "to": {to}}
	if by != "" && (kind == "report" || kind == "conversions") {
		q.Set("by", by)
	}
	if currency != "" && (kind == "report" || kind == "conversions") {
		q.Set("currency", currency)
	}
	if format == "csv" {
		q.Set("format", "csv")
	}
	path := "/api/v1/campaigns/" + url.PathEscape(campaign) + "/" + kind
	if reachKind {
		for k, v := range map[string]string{"by": by, "waste_above": waste, "levels": levels, "effective": effect, "max_scale": maxScale} {
			if v != "" {
				q.Set(k, v)
			}
		}
		path = "/api/v1/campaigns/" + url.PathEscape(campaign) + "/reach"
		if strings.Contains(campaign, ",") {
			path = "/api/v1/reach"
			q.Set("campaigns", campaign)
		}
		if kind == "plan" {
			path += "/plan"
		}
	}
	u := strings.TrimRight(server, "/") + path + "?" + q.Encode()
	req, err := http.NewRequestWithContext(ctx, "GET", u, nil)
	if err != nil {
		return usageError{fmt.Sprintf("--server %q: %v", server, err)}
	}
	req.Header.Set("Authorization", "Bearer "+token)
	timeout := 5 * time.Minute
	if reachKind {
		// The server gives a reach report 10 minutes: its first one over a
		// long range may build the store's reach index for many days.
		timeout = 11 * time.Minute
	}
	start := time.Now()
	progress := startLineProgress(os.Stderr, func(bool) string {
		return fmt.Sprintf("waiting for the %s report / 等待报告: %s", kind, time.Since(start).Round(time.Second))
	})
	resp, err := (&http.Client{Timeout: timeout}).Do(req)
	if err != nil {
		progress.stop()
		return fmt.Errorf("ask %s: %w (is admeter serve running there? set --server)", server, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	progress.stop()
	if err != nil {
		return fmt.Errorf("read answer: %w", err)
	}
	if resp.StatusCode != http.StatusOK {
		var e struct {
			Error struct{ Code, Message string }
		}
		if json.Unmarshal(body, &e) == nil && e.Error.Message != "" {
			return fmt.Errorf("%s: %s", e.Error.Code, e.Error.Message)
		}
		return fmt.Errorf("server answered %s", resp.Status)
	}
	if format != "table" {
		_, err := os.Stdout.Write(body)
		return err
	}
	switch kind {
	case "reach":
		return printReach(os.Stdout, body)
	case "plan":
		return printPlan(os.Stdout, body)
	}
	return printTable(os.Stdout, kind, body, measures)
}
