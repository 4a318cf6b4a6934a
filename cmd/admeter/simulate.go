package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/admeter/admeter/simulate"
)

// SimulateCommand sends realistic simulated traffic for existing campaigns
// to a running server and writes the ground truth of what it sent.
type SimulateCommand struct {
	// Stdout receives progress and the summary; nil means os.Stdout.
	Stdout io.Writer
	// Client fetches the campaigns; nil means a client with a 10 s timeout.
	Client *http.Client
}

// simulateOptions are the flags of "admeter simulate".
type simulateOptions struct {
	target, token, campaigns, truth string
	pixelTarget                     string
	rate, ivt, batch, web, optOut   float64
	appOptOut, tooLate              float64
	viewability, video, conversions float64
	duration                        time.Duration
	devices, days, concurrency      int
	seed                            int64
}

// maxPlanEvents bounds the events generated at once; a longer run is
// generated window by window while the previous window is being sent.
const maxPlanEvents = 200_000

// Run executes the command.
func (c *SimulateCommand) Run(ctx context.Context, args []string) error {
	out := c.Stdout
	if out == nil {
		out = os.Stdout
	}
	o := simulateOptions{target: "http://localhost:8080", rate: 200, duration: time.Minute, seed: 1, days: 1, batch: 0.1, web: 0.08, optOut: simulate.DefaultConfig().OptOut, appOptOut: simulate.DefaultConfig().AppOptOut, tooLate: simulate.DefaultConfig().TooLate, concurrency: 8}
	fs := newFlagSet("simulate", "Send realistic simulated traffic (monitoring URLs and the batch API) for existing campaigns to a running server,\n"+
		"and write the ground truth of what was delivered: per campaign, placement and day the impressions, clicks,\n"+
		"unique users and frequency the server should report, and the invalid traffic injected, by kind.\n"+
		"向运行中的服务发送模拟流量(监测链接与批量接口),并输出真实值(曝光、点击、独立用户、频次、注入的无效流量)。")
	fs.StringVar(&o.target, "target", o.target, "base URL of the admeter server")
	fs.StringVar(&o.pixelTarget, "pixel-target", o.pixelTarget, "base URL the monitoring URLs (/x, /r) are sent to, such as the server's pixel listener (http://localhost:8081 on its defaults); default: --target")
	fs.StringVar(&o.token, "token", o.token, "tenant token that owns the campaigns (Authorization: Bearer)")
	fs.StringVar(&o.campaigns, "campaign", o.campaigns, "campaign id, or several separated by commas")
	fs.Float64Var(&o.rate, "rate", o.rate, "events per second; 0 sends as fast as the server answers (then give --devices)")
	fs.DurationVar(&o.duration, "duration", o.duration, "how long to send; with --rate it sizes the traffic (rate × duration events)")
	fs.IntVar(&o.devices, "devices", o.devices, "simulated devices (default: derived from rate × duration, about 3 ad views each)")
	fs.Int64Var(&o.seed, "seed", o.seed, "random seed: the same seed, flags and start time give the same traffic")
	fs.StringVar(&o.truth, "truth", o.truth, "write the ground truth as JSON to this file")
	fs.Float64Var(&o.ivt, "ivt", o.ivt, "share of invalid traffic to inject, spread over every kind (0.05 = 5%)")
	fs.Float64Var(&o.batch, "batch", o.batch, "share of app events sent through POST /v1/events")
	fs.Float64Var(&o.web, "web", o.web, "share of devices that are web browsers (cookie only)")
	fs.Float64Var(&o.optOut, "optout", o.optOut, "share of cookie-keeping browsers that opt out midway: from then on they send the opt-out cookie and the server drops their events")
	fs.Float64Var(&o.appOptOut, "app-optout", o.appOptOut, "share of app devices (OAID, IDFA or IMEI) that opt out midway through POST /api/v1/optout; the server then drops their events. The API is rate limited per /24: run the server with --trusted-proxies covering this machine, or keep the share small")
	fs.Float64Var(&o.tooLate, "too-late", o.tooLate, "share of app events sent with a time 8 to 30 days old, which the server replaces with the time it receives them")
	fs.Float64Var(&o.viewability, "viewability", o.viewability, "share of the MMA SDK's impressions whose viewability is measured (vx=0, then a result ping with the same vf)")
	fs.Float64Var(&o.video, "video", o.video, "share of the SDK placements that show video ads (vb, vg, progress pings vc, quartile masks vj)")
	fs.Float64Var(&o.conversions, "conversions", o.conversions, "share of devices that convert, reported through POST /api/v1/conversions with --token (by device id, or by the click id of campaigns that append one)")
	fs.IntVar(&o.days, "days", o.days, "event times span the last N days (1–6)")
	fs.IntVar(&o.concurrency, "concurrency", o.concurrency, "requests in flight")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if err := o.validate(); err != nil {
		return usageError{err.Error()}
	}

	client := c.Client
	if client == nil {
		client = &http.Client{Timeout: 10 * time.Second}
	}
	var campaigns []simulate.Campaign
	for _, id := range strings.Split(o.campaigns, ",") {
		cp, err := fetchCampaign(ctx, client, o.target, o.token, strings.TrimSpace(id))
		if err != nil {
			return err
		}
		campaigns = append(campaigns, cp)
	}

	// Truncated, so that no event time is ahead of the server's clock.
	now := time.Now().Truncate(time.Second)
	cfg := simulate.DefaultConfig()
	cfg.Seed, cfg.Now = o.seed, now
	cfg.Start, cfg.End = now.Add(-time.Duration(o.days)*24*time.Hour), now
	cfg.Campaigns = campaigns
	cfg.Devices = o.devices
	cfg.BatchFraction, cfg.Web, cfg.OptOut, cfg.AppOptOut, cfg.TooLate = o.batch, o.web, o.optOut, o.appOptOut, o.tooLate
	cfg.Viewability, cfg.Video, cfg.Conversions = o.viewability, o.video, o.conversions
	if o.ivt > 0 {
		cfg.IVT = simulate.UniformIVT(o.ivt)
	}
	total := 0
	if o.rate > 0 {
		total = int(o.rate * o.duration.Seconds())
		cfg.SizeFor(total)
	}
	gen, err := simulate.NewGenerator(cfg)
	if err != nil {
		return usageError{err.Error()}
	}
	if total == 0 {
		total = int(float64(o.devices) * cfg.MeanFrequency * 1.1)
	}

	scfg := simulate.DefaultSenderConfig()
	scfg.Rate, scfg.Concurrency, scfg.Token = o.rate, o.concurrency, o.token
	scfg.PixelTarget = o.pixelTarget
	sender, err := simulate.NewSender(o.target, scfg, nil)
	if err != nil {
		return usageError{err.Error()}
	}
	defer sender.Close()

	sendCtx := ctx
	if o.rate > 0 {
		var cancel context.CancelFunc
		sendCtx, cancel = context.WithTimeout(ctx, o.duration+o.duration/20+time.Second)
		defer cancel()
	}
	fmt.Fprintf(out, "simulating %d campaign(s) for about %d events: event times over the last %d day(s), %s\n",
		len(campaigns), total, o.days, rateText(o.rate))

	// Generate window by window, one window ahead of the sender.
	windows := max(1, (total+maxPlanEvents-1)/maxPlanEvents)
	step := cfg.End.Sub(cfg.Start) / time.Duration(windows)
	type planOrErr struct {
		p   *simulate.Plan
		err error
	}
	plans := make(chan planOrErr, 1)
	genCtx, stopGen := context.WithCancel(sendCtx)
	defer stopGen()
	go func() {
		defer close(plans)
		for w := range windows {
			start, end := cfg.Start.Add(time.Duration(w)*step), cfg.Start.Add(time.Duration(w+1)*step)
			if w == windows-1 {
				end = cfg.End
			}
			p, err := gen.Plan(start, end, now)
			select {
			case plans <- planOrErr{p, err}:
			case <-genCtx.Done():
				return
			}
			if err != nil {
				return
			}
		}
	}()

	prog := startProgress(out, sender, total)
	var (
		tally    simulate.Tally
		sum      simulate.Stats
		began    = time.Now()
		stopped  error
		rejected = map[string]int64{}
	)
	for po := range plans {
		if po.err != nil {
			prog.stop()
			return fmt.Errorf("generate traffic: %w", po.err)
		}
		st, err := sender.Send(sendCtx, po.p)
		if terr := tally.AddStats(po.p, st); terr != nil {
			prog.stop()
			return fmt.Errorf("count delivered traffic: %w", terr)
		}
		sum.Requests += st.Requests
		sum.Events += st.Events
		sum.OK += st.OK
		sum.Failed += st.Failed
		sum.Errors += st.Errors
		sum.OptOuts += st.OptOuts
		sum.OptOutLimited += st.OptOutLimited
		sum.OptOutWait += st.OptOutWait
		sum.ClickIDs += st.ClickIDs
		sum.NoClickID += st.NoClickID
		sum.ConversionRows += st.ConversionRows
		sum.ConversionsAccepted += st.ConversionsAccepted
		sum.ConversionDuplicates += st.ConversionDuplicates
		sum.ConversionsOptedOut += st.ConversionsOptedOut
		sum.ConversionsRejected += st.ConversionsRejected
		for k, v := range st.Rejected {
			rejected[k] += v
		}
		if err != nil {
			stopped = err
			break
		}
	}
	stopGen()
	prog.stop()
	elapsed := time.Since(began)

	tr := tally.Truth()
	switch {
	case stopped == nil:
	case ctx.Err() != nil:
		fmt.Fprintln(out, "interrupted: the truth covers what was delivered so far")
	case errors.Is(stopped, context.DeadlineExceeded):
		fmt.Fprintln(out, "stopped after --duration: the server is slower than --rate; the truth covers what was delivered")
	}
	printSummary(out, sum, rejected, elapsed, tr)
	if o.truth != "" {
		if err := writeTruth(o.truth, tr); err != nil {
			return err
		}
		fmt.Fprintf(out, "truth written to %s\n", o.truth)
	}
	return nil
}

func (o *simulateOptions) validate() error {
	var problems []string
	if o.token == "" {
		problems = append(problems, "--token is required (the tenant token that owns the campaigns)")
	}
	if o.campaigns == "" {
		problems = append(problems, "--campaign is required: one id or several separated by commas")
	}
	if u, err := url.Parse(o.target); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		problems = append(problems, fmt.Sprintf("--target must be a URL such as http://localhost:8080, not %q", o.target))
	}
	if u, err := url.Parse(o.pixelTarget); o.pixelTarget != "" && (err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "") {
		problems = append(problems, fmt.Sprintf("--pixel-target must be a URL such as http://localhost:8081, not %q", o.pixelTarget))
	}
	if !(o.rate >= 0) {
		problems = append(problems, "--rate must not be negative")
	}
	if o.rate > 0 && o.duration <= 0 {
		problems = append(problems, "--duration must be positive")
	}
	if o.rate == 0 && o.devices <= 0 {
		problems = append(problems, "with --rate 0 (as fast as possible), give --devices to size the traffic")
	}
	if o.devices < 0 {
		problems = append(problems, "--devices must not be negative")
	}
	if o.days < 1 || o.days > 6 {
		problems = append(problems, "--days must be between 1 and 6: the server takes event times up to 7 days old")
	}
	for _, f := range []struct {
		name string
		v    float64
	}{{"--ivt", o.ivt}, {"--batch", o.batch}, {"--web", o.web}, {"--optout", o.optOut}, {"--app-optout", o.appOptOut}, {"--too-late", o.tooLate},
		{"--viewability", o.viewability}, {"--video", o.video}, {"--conversions", o.conversions}} {
		if !(f.v >= 0 && f.v <= 1) {
			problems = append(problems, fmt.Sprintf("%s must be between 0 and 1, not %v", f.name, f.v))
		}
	}
	if o.concurrency < 1 || o.concurrency > 1024 {
		problems = append(problems, "--concurrency must be between 1 and 1024")
	}
	if len(problems) > 0 {
		return errors.New(strings.Join(problems, "; "))
	}
	return nil
}

// fetchCampaign reads a campaign with its monitoring URL templates from the
// campaign API.
func fetchCampaign(ctx context.Context, client *http.Client, target, token, id string) (simulate.Campaign, error) {
	var cp simulate.Campaign
	if id == "" {
		return cp, usageError{"--campaign has an empty id"}
	}
	u := strings.TrimRight(target, "/") + "/api/v1/campaigns/" + url.PathEscape(id)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return cp, fmt.Errorf("fetch campaign %s: %w", id, err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := client.Do(req)
	if err != nil {
		return cp, fmt.Errorf("fetch campaign %s: %w (is admeter serve running at %s?)", id, err, target)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 16<<20))
	if err != nil {
		return cp, fmt.Errorf("fetch campaign %s: %w", id, err)
	}
	if resp.StatusCode != http.StatusOK {
		var e struct {
			Error struct{ Code, Message string } `json:"error"`
		}
		if json.Unmarshal(body, &e) == nil && e.Error.Message != "" {
			return cp, fmt.Errorf("fetch campaign %s: %s (%s)", id, e.Error.Message, e.Error.Code)
		}
		return cp, fmt.Errorf("fetch campaign %s: status %d", id, resp.StatusCode)
	}
	if err := json.Unmarshal(body, &cp); err != nil {
		return cp, fmt.Errorf("fetch campaign %s: decode: %w", id, err)
	}
	return cp, nil
}

func rateText(rate float64) string {
	if rate == 0 {
		return "as fast as the server answers"
	}
	return strconv.FormatFloat(rate, 'f', -1, 64) + " events/s"
}

// startProgress prints the sender's running totals: a bar redrawn in
// place on a terminal, a line every ten seconds otherwise.
func startProgress(out io.Writer, s *simulate.Sender, total int) *lineProgress {
	start := time.Now()
	return startLineProgress(out, func(tty bool) string {
		pr := s.Progress()
		secs := time.Since(start).Seconds()
		frac := min(1, float64(pr.Events)/float64(max(1, total)))
		if tty {
			const width = 30
			bar := strings.Repeat("=", int(frac*width)) + strings.Repeat(" ", width-int(frac*width))
			return fmt.Sprintf("[%s] %3.0f%%  %d events  %.0f/s  ok %d  failed %d  errors %d",
				bar, frac*100, pr.Events, float64(pr.Events)/secs, pr.OK, pr.Failed, pr.Errors)
		}
		return fmt.Sprintf("%d events (%.0f%%) in %d requests, %.0f events/s; %d ok, %d failed, %d errors",
			pr.Events, frac*100, pr.Requests, float64(pr.Events)/secs, pr.OK, pr.Failed, pr.Errors)
	})
}

// isTerminal reports whether w is a character device (a terminal).
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}

func printSummary(out io.Writer, st simulate.Stats, rejected map[string]int64, elapsed time.Duration, tr *simulate.Truth) {
	fmt.Fprintf(out, "sent %d events in %d requests in %s (%.0f events/s): %d answered, %d failed, %d unanswered\n",
		st.Events, st.Requests, elapsed.Round(100*time.Millisecond), float64(st.Events)/max(elapsed.Seconds(), 1e-3), st.OK, st.Failed, st.Errors)
	if n := rejected["duplicate"]; n > 0 {
		fmt.Fprintf(out, "the server recognised %d retried impressions and did not log them again\n", n)
	}
	for k, v := range rejected {
		if k != "duplicate" {
			fmt.Fprintf(out, "warning: the server rejected %d events (%s); the truth counts them\n", v, k)
		}
	}
	if st.OptOuts > 0 {
		fmt.Fprintf(out, "%d app devices opted out through the API; the truth leaves out their later events\n", st.OptOuts)
	}
	if st.OptOutLimited > 0 {
		fmt.Fprintf(out, "warning: the opt-out API rate-limited %d calls and sending paused %s; run the server with --trusted-proxies covering this machine, or lower --app-optout\n",
			st.OptOutLimited, st.OptOutWait.Round(100*time.Millisecond))
	}
	if st.Errors > 0 {
		fmt.Fprintf(out, "warning: %d requests got no answer; the truth leaves them out, but the server may have counted some\n", st.Errors)
	}
	if st.ClickIDs > 0 || st.NoClickID > 0 {
		fmt.Fprintf(out, "captured %d click ids from click redirects; %d redirects carried none\n", st.ClickIDs, st.NoClickID)
	}
	if st.ConversionRows > 0 {
		fmt.Fprintf(out, "uploaded %d conversion rows: %d accepted, %d duplicates in their upload, %d of opted-out users, %d rejected\n",
			st.ConversionRows, st.ConversionsAccepted, st.ConversionDuplicates, st.ConversionsOptedOut, st.ConversionsRejected)
	}
	if c := tr.Conversions; c != nil {
		fmt.Fprintf(out, "truth of conversions: %d stored (%d with a click id), %d attributed (%d post-click, %d post-view), %d unattributed\n",
			c.Stored, c.WithClickID, c.Attributed, c.PostClick, c.PostView, c.Unattributed)
	}
	for _, c := range tr.Campaigns {
		var ivtImp, ivtClk int64
		for _, v := range c.IVT {
			ivtImp += v.Impressions
			ivtClk += v.Clicks
		}
		fmt.Fprintf(out, "truth for campaign %s: %d impressions, %d clicks, reach %d (%d physical devices), %d anonymous impressions; injected invalid: %d impressions, %d clicks\n",
			c.ID, c.Total.Impressions, c.Total.Clicks, c.Frequency.Reach, c.Devices, c.Total.AnonymousImpressions, ivtImp, ivtClk)
	}
}

func writeTruth(path string, tr *simulate.Truth) (err error) {
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("create truth file: %w", err)
	}
	defer func() {
		if cerr := f.Close(); cerr != nil && err == nil {
			err = fmt.Errorf("close truth file: %w", cerr)
		}
	}()
	return tr.WriteJSON(f)
}
