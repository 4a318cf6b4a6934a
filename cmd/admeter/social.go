package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"text/tabwriter"
	"time"

	"github.com/admeter/admeter/social/analysis"
)

// SocialCommand sends partner social feeds to a running server, and reads
// and changes social settings and reports there.
type SocialCommand struct {
	// Out receives progress and results; os.Stdout when nil.
	Out io.Writer
}

const socialUsage = `Usage: admeter social <import|settings|report> [flags]

  import    send a file of posts, comments, reposts or search counts (JSON lines, a JSON array or CSV) / 导入合作方社交数据文件
  settings  show the brand, competitor and official-account settings, or replace them from a JSON file / 查看或设置品牌、竞品与官方账号
  report    print the social insight report (mentions, sentiment, share of voice, keywords, topics, campaign lift) / 社会化洞察报表

Run "admeter social <subcommand> --help" for its flags.
`

// Run executes the command.
func (c *SocialCommand) Run(ctx context.Context, args []string) error {
	if c.Out == nil {
		c.Out = os.Stdout
	}
	if len(args) == 0 {
		return usageError{"admeter social needs a subcommand: import, settings or report (run 'admeter social --help')"}
	}
	switch args[0] {
	case "import":
		return c.importFile(ctx, args[1:])
	case "settings":
		return c.settings(ctx, args[1:])
	case "report":
		return c.report(ctx, args[1:])
	case "-h", "-help", "--help", "help":
		fmt.Fprint(c.Out, socialUsage)
		return nil
	}
	return usageError{fmt.Sprintf("unknown subcommand %q of admeter social: use import, settings or report", args[0])}
}

// serverFlags are the flags every subcommand has.
type serverFlags struct {
	server, token, tokenFile string
}

func (s *serverFlags) add(fsAdd func(p *string, name, value, usage string)) {
	s.server = "http://localhost:8080"
	fsAdd(&s.server, "server", s.server, "base URL of the admeter server")
	fsAdd(&s.token, "token", "", "tenant token (Authorization: Bearer)")
	fsAdd(&s.tokenFile, "token-file", "", "file holding the tenant token (e.g. admeter-data/demo.token)")
}

func (s *serverFlags) bearer() (string, error) {
	if s.token == "" && s.tokenFile != "" {
		b, err := os.ReadFile(s.tokenFile)
		if err != nil {
			return "", fmt.Errorf("read --token-file: %w", err)
		}
		s.token = strings.TrimSpace(string(b))
	}
	if s.token == "" {
		return "", usageError{"--token or --token-file is required (the tenant token)"}
	}
	return s.token, nil
}

// call sends one request and returns the body of a 200 answer, or the
// server's error.
func (s *serverFlags) call(ctx context.Context, method, path, contentType string, body io.Reader) ([]byte, error) {
	token, err := s.bearer()
	if err != nil {
		return nil, err
	}
	req, err := http.NewRequestWithContext(ctx, method, strings.TrimRight(s.server, "/")+path, body)
	if err != nil {
		return nil, usageError{fmt.Sprintf("--server %q: %v", s.server, err)}
	}
	req.Header.Set("Authorization", "Bearer "+token)
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := (&http.Client{Timeout: 10 * time.Minute}).Do(req)
	if err != nil {
		return nil, fmt.Errorf("ask %s: %w (is admeter serve running there? set --server)", s.server, err)
	}
	defer resp.Body.Close()
	out, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, fmt.Errorf("read answer: %w", err)
	}
	if resp.StatusCode != http.StatusOK {
		var e struct {
			Error struct{ Code, Message string }
		}
		if json.Unmarshal(out, &e) == nil && e.Error.Message != "" {
			return nil, fmt.Errorf("%s: %s", e.Error.Code, e.Error.Message)
		}
		return nil, fmt.Errorf("server answered %s", resp.Status)
	}
	return out, nil
}

// importTotals adds up the server's answers to the parts of an import.
type importTotals struct {
	Received   int64 `json:"received"`
	Stored     int64 `json:"stored"`
	Duplicates int64 `json:"duplicates"`
	OptedOut   int64 `json:"opted_out"`
	Rejected   int64 `json:"rejected"`
	Errors     []struct {
		Index   int    `json:"index"`
		Line    int    `json:"line,omitempty"`
		Message string `json:"message"`
	} `json:"errors,omitempty"`
}

// importFile sends a file in parts of at most --batch records.
func (c *SocialCommand) importFile(ctx context.Context, args []string) error {
	var (
		sf     serverFlags
		file   string
		format = "auto"
		batch  = 5000
	)
	fs := newFlagSet("social import", "Send a partner feed file to a running server: JSON lines (one record per line), a JSON array, or CSV with a header row. Records are de-identified on arrival; the file is sent in parts, each stored whole.\n向运行中的服务导入合作方社交数据文件(JSON Lines、JSON 数组或带表头的 CSV),数据到达即去标识化,分批发送。")
	sf.add(fs.StringVar)
	fs.StringVar(&file, "file", file, "the file to send (- for standard input)")
	fs.StringVar(&format, "format", format, "json (a JSON array or JSON lines), csv, or auto (from the file name: .csv is CSV, anything else JSON)")
	fs.IntVar(&batch, "batch", batch, "records per request, 1 to 10000")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if file == "" {
		return usageError{"--file is required"}
	}
	if batch < 1 || batch > 10000 {
		return usageError{fmt.Sprintf("--batch must be 1 to 10000, not %d", batch)}
	}
	if format == "auto" {
		format = "json"
		if strings.EqualFold(filepath.Ext(file), ".csv") {
			format = "csv"
		}
	}
	if format != "json" && format != "csv" {
		return usageError{fmt.Sprintf("--format must be json, csv or auto, not %q", format)}
	}
	if _, err := sf.bearer(); err != nil {
		return err
	}
	var in io.Reader = os.Stdin
	var size int64
	if file != "-" {
		f, err := os.Open(file)
		if err != nil {
			return fmt.Errorf("open --file: %w", err)
		}
		defer f.Close()
		if fi, err := f.Stat(); err == nil {
			size = fi.Size()
		}
		in = f
	}
	cr := &countingReader{r: in}
	var tot importTotals
	var sent atomic.Int64
	prog := startLineProgress(c.Out, func(bool) string {
		done := cr.n.Load()
		pct := ""
		if size > 0 {
			pct = fmt.Sprintf(" (%.0f%% of the file)", 100*float64(done)/float64(size))
		}
		return fmt.Sprintf("%d records sent%s", sent.Load(), pct)
	})
	send := func(body []byte, n int, contentType string, first int) error {
		out, err := sf.call(ctx, "POST", "/api/v1/social/posts", contentType, bytes.NewReader(body))
		if err != nil {
			return fmt.Errorf("send records %d to %d: %w (the parts before were stored)", first+1, first+n, err)
		}
		var part importTotals
		if err := json.Unmarshal(out, &part); err != nil {
			return fmt.Errorf("read answer: %w", err)
		}
		tot.Received += part.Received
		tot.Stored += part.Stored
		tot.Duplicates += part.Duplicates
		tot.OptedOut += part.OptedOut
		tot.Rejected += part.Rejected
		for _, e := range part.Errors {
			if len(tot.Errors) < 20 {
				e.Index += first
				e.Line = 0
				tot.Errors = append(tot.Errors, e)
			}
		}
		sent.Add(int64(n))
		return nil
	}
	var err error
	if format == "csv" {
		err = splitCSV(cr, batch, send)
	} else {
		err = splitJSON(cr, batch, send)
	}
	prog.stop()
	if err != nil {
		return err
	}
	fmt.Fprintf(c.Out, "received %d records: %d stored, %d duplicates, %d dropped (author opted out), %d rejected\n",
		tot.Received, tot.Stored, tot.Duplicates, tot.OptedOut, tot.Rejected)
	fmt.Fprintf(c.Out, "共 %d 条:新存 %d,重复 %d,作者已退出 %d,拒收 %d\n", tot.Received, tot.Stored, tot.Duplicates, tot.OptedOut, tot.Rejected)
	for _, e := range tot.Errors {
		fmt.Fprintf(c.Out, "  record %d: %s\n", e.Index+1, e.Message)
	}
	return nil
}

// splitJSON reads a JSON array or a stream of JSON values and sends them
// as NDJSON parts of at most batch records.
func splitJSON(r io.Reader, batch int, send func(body []byte, n int, contentType string, first int) error) error {
	br := bufio.NewReaderSize(r, 1<<16)
	dec := json.NewDecoder(br)
	array := false
	for {
		b, err := br.Peek(1)
		if err != nil {
			if errors.Is(err, io.EOF) {
				return nil
			}
			return fmt.Errorf("read --file: %w", err)
		}
		if b[0] == ' ' || b[0] == '\t' || b[0] == '\r' || b[0] == '\n' || b[0] == 0xEF || b[0] == 0xBB || b[0] == 0xBF {
			_, _ = br.ReadByte()
			continue
		}
		if b[0] == '[' {
			array = true
			if _, err := dec.Token(); err != nil {
				return fmt.Errorf("read --file: %w", err)
			}
		}
		break
	}
	var buf bytes.Buffer
	n, first := 0, 0
	flush := func() error {
		if n == 0 {
			return nil
		}
		if err := send(buf.Bytes(), n, "application/x-ndjson", first); err != nil {
			return err
		}
		first += n
		buf.Reset()
		n = 0
		return nil
	}
	for i := 0; ; i++ {
		if array && !dec.More() {
			break
		}
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			if !array && errors.Is(err, io.EOF) {
				break
			}
			return fmt.Errorf("--file is not valid JSON at record %d: %v (the records before were sent)", i+1, err)
		}
		if err := json.Compact(&buf, v); err != nil {
			return fmt.Errorf("--file record %d: %w", i+1, err)
		}
		buf.WriteByte('\n')
		if n++; n == batch {
			if err := flush(); err != nil {
				return err
			}
		}
	}
	return flush()
}

// splitCSV reads CSV with a header row and sends parts of at most batch
// rows, each with the header.
func splitCSV(r io.Reader, batch int, send func(body []byte, n int, contentType string, first int) error) error {
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1
	header, err := cr.Read()
	if err != nil {
		return fmt.Errorf("--file has no CSV header row: %w", err)
	}
	if len(header) > 0 {
		header[0] = strings.TrimPrefix(header[0], "\ufeff")
	}
	var buf bytes.Buffer
	w := csv.NewWriter(&buf)
	n, first := 0, 0
	flush := func() error {
		if n == 0 {
			return nil
		}
		w.Flush()
		if err := send(buf.Bytes(), n, "text/csv", first); err != nil {
			return err
		}
		first += n
		buf.Reset()
		n = 0
		return nil
	}
	for i := 0; ; i++ {
		if n == 0 {
			_ = w.Write(header)
		}
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			return fmt.Errorf("--file is not valid CSV at record %d: %v (the records before were sent)", i+1, err)
		}
		_ = w.Write(rec)
		if n++; n == batch {
			if err := flush(); err != nil {
				return err
			}
		}
	}
	return flush()
}

// countingReader counts the bytes read through it.
type countingReader struct {
	r io.Reader
	n atomic.Int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n.Add(int64(n))
	return n, err
}

// lineProgress prints status(tty) every few seconds: redrawn in place on a
// terminal (every half second), as a "progress:" line every ten seconds
// otherwise. Work that ends before the first tick prints nothing.
type lineProgress struct {
	done chan struct{}
	end  chan struct{}
}

func startLineProgress(out io.Writer, status func(tty bool) string) *lineProgress {
	p := &lineProgress{done: make(chan struct{}), end: make(chan struct{})}
	tty := isTerminal(out)
	every := 10 * time.Second
	if tty {
		every = 500 * time.Millisecond
	}
	go func() {
		defer close(p.end)
		tick := time.NewTicker(every)
		defer tick.Stop()
		printed := false
		for {
			select {
			case <-p.done:
				if tty && printed {
					fmt.Fprintln(out)
				}
				return
			case <-tick.C:
				printed = true
				if tty {
					fmt.Fprintf(out, "\r%s ", status(true))
				} else {
					fmt.Fprintf(out, "progress: %s\n", status(false))
				}
			}
		}
	}()
	return p
}

// stop ends the progress lines; it may be called more than once.
func (p *lineProgress) stop() {
	select {
	case <-p.done:
	default:
		close(p.done)
	}
	<-p.end
}

// settings prints the tenant's social settings, or replaces them with
// those of --file.
func (c *SocialCommand) settings(ctx context.Context, args []string) error {
	var (
		sf   serverFlags
		file string
	)
	fs := newFlagSet("social settings", "Print the tenant's social settings (brands, competitors, official accounts) as JSON, or replace them with those of --file.\n查看或替换品牌、竞品与官方账号设置。")
	sf.add(fs.StringVar)
	fs.StringVar(&file, "file", file, "a JSON file of settings to save: {\"brands\":[{\"name\":…,\"terms\":[…],\"exclusions\":[…]}],\"competitors\":[…],\"official_accounts\":[{\"source\":\"weibo\",\"handle\":…,\"name\":…}]}")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	var out []byte
	var err error
	if file == "" {
		out, err = sf.call(ctx, "GET", "/api/v1/social/settings", "", nil)
	} else {
		b, rerr := os.ReadFile(file)
		if rerr != nil {
			return fmt.Errorf("read --file: %w", rerr)
		}
		out, err = sf.call(ctx, "PUT", "/api/v1/social/settings", "application/json", bytes.NewReader(b))
	}
	if err != nil {
		return err
	}
	var pretty bytes.Buffer
	if json.Indent(&pretty, out, "", "  ") == nil {
		out = append(pretty.Bytes(), '\n')
	}
	_, err = c.Out.Write(out)
	return err
}

// report prints the social report.
func (c *SocialCommand) report(ctx context.Context, args []string) error {
	var (
		sf                                  serverFlags
		from, to, campaign, sources, format string
	)
	format = "table"
	fs := newFlagSet("social report", "Print the social insight report: mentions and sentiment over time per brand and competitor, share of voice, keywords, topics, official posts, and with --campaign the lift in mentions during its delivery. Aggregates only; cells of too few authors are suppressed.\n社会化洞察报表:声量与情感走势、声量份额、关键词、话题、官方账号内容,以及投放期间的声量提升。")
	sf.add(fs.StringVar)
	fs.StringVar(&from, "from", from, "first day, YYYY-MM-DD (default: 29 days before --to)")
	fs.StringVar(&to, "to", to, "last day, YYYY-MM-DD (default: today in Asia/Shanghai)")
	fs.StringVar(&campaign, "campaign", campaign, "campaign id to align mentions with its delivery (optional)")
	fs.StringVar(&sources, "sources", sources, "comma-separated sources to keep (default: all)")
	fs.StringVar(&format, "format", format, "table, json, or csv (each rule's days and totals, for Excel)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if format != "table" && format != "json" && format != "csv" {
		return usageError{fmt.Sprintf("--format must be table, json or csv, not %q", format)}
	}
	if to == "" {
		to = time.Now().In(shanghaiZone()).Format(time.DateOnly)
	}
	if from == "" {
		t, err := time.Parse(time.DateOnly, to)
		if err != nil {
			return usageError{fmt.Sprintf("--to %q is not YYYY-MM-DD", to)}
		}
		from = t.AddDate(0, 0, -29).Format(time.DateOnly)
	}
	q := url.Values{"from": {from}, "to": {to}}
	if campaign != "" {
		q.Set("campaign", campaign)
	}
	if sources != "" {
		q.Set("sources", sources)
	}
	if format == "csv" {
		q.Set("format", "csv")
	}
	out, err := sf.call(ctx, "GET", "/api/v1/social/report?"+q.Encode(), "", nil)
	if err != nil {
		return err
	}
	if format != "table" {
		_, err := c.Out.Write(out)
		return err
	}
	return printSocial(c.Out, out)
}

// shanghaiZone returns Asia/Shanghai, or UTC+8 without the zone database.
func shanghaiZone() *time.Location {
	if loc, err := time.LoadLocation("Asia/Shanghai"); err == nil {
		return loc
	}
	return time.FixedZone("CST", 8*3600)
}

// printSocial prints a social report as tables.
func printSocial(w io.Writer, body []byte) error {
	var r analysis.Report
	if err := json.Unmarshal(body, &r); err != nil {
		return fmt.Errorf("read report: %w", err)
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(w, "Social insight %s … %s (%s); cells of fewer than %d authors are suppressed (%d cells, %d complementary)\n",
		r.From, r.To, r.Timezone, r.Privacy.MinAuthors, r.Privacy.SuppressedCells, r.Privacy.Complementary)
	fmt.Fprintf(w, "社会化洞察 %s 至 %s;作者少于 %d 人的单元格不予显示\n\n", r.From, r.To, r.Privacy.MinAuthors)
	fmt.Fprintln(tw, "rule\trole\tmentions\toriginal\tauthors\tpositive\tnegative\tneutral\tnet\tshare of voice\t")
	cellRow := func(name, role string, c analysis.Cell, share string) {
		if c.Suppressed || c.Counts == nil {
			fmt.Fprintf(tw, "%s\t%s\t(suppressed)\t\t\t\t\t\t\t%s\t\n", name, role, share)
			return
		}
		k := c.Counts
		fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t%d\t%d\t%d\t%d\t%+.2f\t%s\t\n", name, role, k.Mentions, k.Original, k.Authors, k.Positive, k.Negative, k.Neutral, k.NetSentiment, share)
	}
	for i, rr := range r.Rules {
		share := ""
		if i < len(r.ShareOfVoice.Rules) && r.ShareOfVoice.Rules[i].Mentions != nil {
			share = fmt.Sprintf("%.1f%%", 100**r.ShareOfVoice.Rules[i].Mentions)
		}
		cellRow(rr.Rule, rr.Role, rr.Cell, share)
	}
	cellRow("total", "", r.Total, "")
	if err := tw.Flush(); err != nil {
		return err
	}
	if len(r.Keywords) > 0 {
		fmt.Fprintln(w, "\nKeywords / 关键词:")
		for i, k := range r.Keywords {
			if i == 15 {
				break
			}
			fmt.Fprintf(w, "  %-16s posts %d, authors %d\n", k.Term, k.Posts, k.Authors)
		}
	}
	if len(r.Topics) > 0 {
		fmt.Fprintln(w, "\nTopics / 话题:")
		for _, t := range r.Topics {
			if t.Suppressed || t.Counts == nil {
				fmt.Fprintf(w, "  %-30s (suppressed)\n", t.Label)
				continue
			}
			share := 0.0
			if t.Share != nil {
				share = *t.Share
			}
			fmt.Fprintf(w, "  %-30s %5.1f%%  posts %d, net sentiment %+.2f\n", t.Label, 100*share, t.Counts.Mentions, t.Counts.NetSentiment)
		}
	}
	if a := r.Alignment; a != nil {
		fmt.Fprintln(w, "\nCampaign alignment / 投放对齐:")
		for _, p := range []struct {
			name string
			p    analysis.Period
		}{{"before / 投放前", a.Before}, {"during / 投放期", a.During}, {"after / 投放后", a.After}} {
			per := "—"
			if p.p.PerDay != nil {
				per = fmt.Sprintf("%.1f mentions/day", *p.p.PerDay)
			}
			fmt.Fprintf(w, "  %-16s %s … %s (%d days): %s\n", p.name, p.p.From, p.p.To, p.p.Days, per)
		}
		if a.Lift.Insufficient {
			fmt.Fprintf(w, "  lift: not estimated: %s\n", a.Lift.Reason)
		} else {
			fmt.Fprintf(w, "  lift / 提升: ×%.2f (95%% CI %.2f–%.2f; %s)\n", a.Lift.Ratio, a.Lift.Low, a.Lift.High, a.Lift.Method)
		}
	}
	if len(r.Official) > 0 {
		fmt.Fprintf(w, "\nOfficial account posts / 官方账号内容: %d\n", len(r.Official))
		for i, p := range r.Official {
			if i == 10 {
				fmt.Fprintf(w, "  … (%d more; --format=json lists them all)\n", len(r.Official)-10)
				break
			}
			fmt.Fprintf(w, "  %s %s  %s  👍%d 💬%d ↗%d\n", p.At.In(shanghaiZone()).Format("2006-01-02 15:04"), p.Account, clipLine(p.Text, 60), p.Likes, p.Comments, p.Shares)
		}
	}
	return nil
}

// clipLine shortens s to n characters on one line.
func clipLine(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n]) + "…"
}
