package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// socialReport is the part of the social report the tests read.
type socialReport struct {
	Rules []struct {
		Rule       string `json:"rule"`
		Suppressed bool   `json:"suppressed"`
		Counts     *struct {
			Mentions int64 `json:"mentions"`
			Authors  int64 `json:"authors"`
		} `json:"counts"`
	} `json:"rules"`
	Official []struct {
		Account string `json:"account"`
		Text    string `json:"text"`
	} `json:"official_posts"`
	Privacy struct {
		MinAuthors int `json:"min_authors"`
	} `json:"privacy"`
}

// postRaw sends body with contentType and decodes the answer.
func postRaw(t *testing.T, url, token, contentType, body string, out any) int {
	t.Helper()
	req, _ := http.NewRequest("POST", url, strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", contentType)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if out != nil {
		if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
			t.Fatal(err)
		}
	}
	return resp.StatusCode
}

// TestSocialEndToEnd runs social insight through the real server: settings,
// uploads as NDJSON and CSV and through admeter social import, the report
// (threshold, official posts, no other text), an end user's deletion by
// social handle, and the CLI report.
func TestSocialEndToEnd(t *testing.T) {
	m, base := MustRunMain(t, func(c *ServeConfig) { c.SocialMinAuthors, c.SocialPreload = 5, true })
	tok, _ := setupCampaign(t, base, m.Config.DataDir, 1)
	otherTok, _ := setupCampaign(t, base, m.Config.DataDir, 1)

	var e struct {
		Error struct{ Code, Message string }
	}
	if st := apiCall(t, "GET", base+"/api/v1/social/report?from=2026-11-01&to=2026-11-02", tok, nil, &e); st != 400 || !strings.Contains(e.Error.Message, "brands") {
		t.Errorf("report before settings: %d %q, want 400 asking for brands", st, e.Error.Message)
	}
	settings := map[string]any{
		"brands":            []map[string]any{{"name": "华为", "terms": []string{"华为", "huawei"}}},
		"competitors":       []map[string]any{{"name": "小米", "terms": []string{"小米"}}},
		"official_accounts": []map[string]any{{"source": "weibo", "handle": "华为终端", "name": "华为终端官方"}},
	}
	if st := apiCall(t, "PUT", base+"/api/v1/social/settings", tok, settings, nil); st != 200 {
		t.Fatalf("PUT settings: %d", st)
	}
	var got struct {
		Brands []struct{ Name string } `json:"brands"`
	}
	if st := apiCall(t, "GET", base+"/api/v1/social/settings", tok, nil, &got); st != 200 || len(got.Brands) != 1 || got.Brands[0].Name != "华为" {
		t.Errorf("GET settings: %d %+v", st, got)
	}
	if st := apiCall(t, "GET", base+"/api/v1/social/settings", otherTok, nil, &got); st != 200 || len(got.Brands) != 0 {
		t.Errorf("another tenant's settings: %d %+v, want none", st, got)
	}
	if st := apiCall(t, "PUT", base+"/api/v1/social/settings", tok, map[string]any{"brands": []map[string]any{{"name": "x"}}}, &e); st != 400 {
		t.Errorf("rule without terms: %d", st)
	}

	now := midday().UTC()
	day := now.In(shanghai()).Format(time.DateOnly)
	at := func(min int) string { return now.Add(-time.Duration(min) * time.Minute).Format(time.RFC3339) }
	var nd strings.Builder
	for i := range 12 {
		fmt.Fprintf(&nd, `{"source":"weibo","id":"n%d","time":%q,"author":"fan%d","text":"华为手机很好用 xyzzy%d","likes":2}`+"\n", i, at(i+1), i%6, i)
	}
	fmt.Fprintf(&nd, `{"source":"weibo","id":"n0","time":%q,"author":"fan0","text":"华为 again"}`+"\n", at(1))
	fmt.Fprintf(&nd, `{"source":"weibo","id":"bad","time":"yesterday","author":"fan0","text":"华为"}`+"\n")
	var up struct {
		Received, Stored, Duplicates, Rejected int
		Errors                                 []struct {
			Index   int    `json:"index"`
			Message string `json:"message"`
		}
	}
	waitSocialReady(t, base)
	if st := postRaw(t, base+"/api/v1/social/posts", tok, "application/x-ndjson", nd.String(), &up); st != 200 {
		t.Fatalf("upload NDJSON: %d", st)
	}
	if up.Received != 14 || up.Stored != 12 || up.Duplicates != 1 || up.Rejected != 1 || len(up.Errors) != 1 || up.Errors[0].Index != 13 {
		t.Errorf("NDJSON upload = %+v", up)
	}
	csv := "source,id,time,author,text\n" +
		fmt.Sprintf("weibo,o1,%s,华为终端,官方:华为新品发布\n", at(5)) +
		fmt.Sprintf("weibo,r1,%s,rival,小米更便宜\n", at(5))
	if st := postRaw(t, base+"/api/v1/social/posts", tok, "text/csv", csv, &up); st != 200 || up.Stored != 2 {
		t.Errorf("upload CSV: %d %+v", st, up)
	}
	if st := postRaw(t, base+"/api/v1/social/posts", tok, "application/xml", "<x/>", &e); st != 400 {
		t.Errorf("XML upload: %d", st)
	}
	if st := postRaw(t, base+"/api/v1/social/posts", tok, "application/x-ndjson", strings.Repeat("\n", 33<<20), &e); st != 400 || !strings.Contains(e.Error.Message, "in parts") {
		t.Errorf("a 33 MiB upload: %d %q, want 400 asking for parts", st, e.Error.Message)
	}
	if st := postRaw(t, base+"/api/v1/social/posts", "", "application/json", "[]", nil); st != 401 {
		t.Errorf("upload without a token: %d", st)
	}

	// Each upload is in the tenant's audit trail, with counts only.
	var trail struct {
		Entries []struct {
			Action  string
			Outcome string
			Details map[string]any
		} `json:"entries"`
	}
	op, err := os.ReadFile(filepath.Join(m.Config.DataDir, "operator.token"))
	if err != nil {
		t.Fatal(err)
	}
	if st := apiCall(t, "GET", base+"/api/v1/admin/audit?action=social.upload&limit=10", strings.TrimSpace(string(op)), nil, &trail); st != 200 || len(trail.Entries) != 4 {
		t.Errorf("audit trail of uploads: %d, %d entries, want 4 (NDJSON, CSV, XML and too large)", st, len(trail.Entries))
	} else if ok := trail.Entries[0].Details["stored"] == float64(12) || trail.Entries[3].Details["stored"] == float64(12); !ok {
		t.Errorf("no upload entry with 12 stored: %+v", trail.Entries)
	}

	// The CLI sends a JSON array file in parts.
	file := filepath.Join(t.TempDir(), "feed.json")
	var arr []map[string]any
	for i := range 7 {
		arr = append(arr, map[string]any{"source": "douyin", "id": fmt.Sprint("d", i), "time": at(i + 2), "author": fmt.Sprint("viewer", i), "text": "huawei 视频不错"})
	}
	b, _ := json.Marshal(arr)
	if err := os.WriteFile(file, b, 0o600); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	cmd := &SocialCommand{Out: &out}
	if err := cmd.Run(t.Context(), []string{"import", "--server", base, "--token", tok, "--file", file, "--batch", "3"}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "received 7 records: 7 stored") {
		t.Errorf("import output:\n%s", out.String())
	}

	reportURL := fmt.Sprintf("%s/api/v1/social/report?from=%s&to=%s", base, day, day)
	var rep socialReport
	if st := apiCall(t, "GET", reportURL, tok, nil, &rep); st != 200 {
		t.Fatalf("report: %d", st)
	}
	if len(rep.Rules) != 2 || rep.Rules[0].Counts == nil || rep.Rules[0].Counts.Mentions != 12+1+7 || rep.Rules[0].Counts.Authors != 6+1+7 {
		t.Fatalf("华为 = %+v, want 20 mentions by 14 authors", rep.Rules)
	}
	if !rep.Rules[1].Suppressed || rep.Privacy.MinAuthors != 5 {
		t.Errorf("小米 (one author) = %+v, k = %d; want suppressed at k=5", rep.Rules[1], rep.Privacy.MinAuthors)
	}
	if len(rep.Official) != 1 || rep.Official[0].Account != "华为终端官方" || !strings.Contains(rep.Official[0].Text, "华为新品发布") {
		t.Errorf("official posts = %+v", rep.Official)
	}
	var raw bytes.Buffer
	_, body := get(t, reportURL, map[string]string{"Authorization": "Bearer " + tok})
	raw.Write(body)
	for _, needle := range []string{"xyzzy", "华为手机很好用", "小米更便宜", "fan1", "viewer"} {
		if bytes.Contains(raw.Bytes(), []byte(needle)) {
			i := bytes.Index(raw.Bytes(), []byte(needle))
			t.Errorf("the report holds %q: …%s…", needle, raw.Bytes()[max(0, i-200):min(len(raw.Bytes()), i+50)])
		}
	}
	// The same as CSV for Excel, with a byte order mark.
	resp, body := get(t, reportURL+"&format=csv", map[string]string{"Authorization": "Bearer " + tok})
	if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/csv") || !bytes.HasPrefix(body, []byte("\ufeffdate,rule,role,mentions")) ||
		!strings.Contains(string(body), "total,华为,brand,20,") {
		t.Errorf("CSV report: %d %s\n%s", resp.StatusCode, resp.Header.Get("Content-Type"), body)
	}
	var empty socialReport
	if st := apiCall(t, "GET", reportURL, otherTok, nil, &e); st != 400 {
		t.Errorf("another tenant's report (no settings): %d %+v", st, empty)
	}

	// An end user asks, by handle, for their posts to be deleted.
	var del rightsRequest
	if st := apiCall(t, "POST", base+"/api/v1/requests", tok, map[string]any{"type": "delete", "id_type": "social", "id": "weibo:@FAN0"}, &del); st != 202 {
		t.Fatalf("submit delete by handle: %d", st)
	}
	waitRequest(t, base, tok, del.ID)
	var done struct {
		Status  string `json:"status"`
		Outcome struct {
			SocialRecords int64 `json:"social_records"`
		} `json:"outcome"`
	}
	apiCall(t, "GET", base+"/api/v1/requests/"+del.ID, tok, nil, &done)
	if done.Status != "done" || done.Outcome.SocialRecords != 2 {
		t.Errorf("deletion by handle = %+v, want fan0's 2 posts deleted", done)
	}
	if st := apiCall(t, "GET", reportURL, tok, nil, &rep); st != 200 || rep.Rules[0].Counts == nil || rep.Rules[0].Counts.Mentions != 18 {
		t.Errorf("after deletion: %+v, want 18 mentions", rep.Rules[0])
	}
	// …and the author is now opted out: a new post of theirs is dropped.
	fmt.Fprintf(&nd, "")
	if st := postRaw(t, base+"/api/v1/social/posts", tok, "application/json",
		fmt.Sprintf(`[{"source":"weibo","id":"late","time":%q,"author":"fan0","text":"华为"}]`, at(1)), &up); st != 200 || up.Stored != 0 {
		t.Errorf("post of a deleted author: %d %+v, want dropped", st, up)
	}

	out.Reset()
	if err := cmd.Run(t.Context(), []string{"report", "--server", base, "--token", tok, "--from", day, "--to", day}); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"华为", "(suppressed)", "华为终端官方", "Official account posts"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("CLI report lacks %q:\n%s", want, out.String())
		}
	}
	out.Reset()
	if err := cmd.Run(t.Context(), []string{"report", "--server", base, "--token", tok, "--from", day, "--to", day, "--format", "csv"}); err != nil ||
		!strings.Contains(out.String(), "date,rule,role,mentions") {
		t.Errorf("CLI CSV report: %v\n%s", err, out.String())
	}
	if err := cmd.Run(t.Context(), []string{"settings", "--server", base, "--token", tok}); err != nil || !strings.Contains(out.String(), `"brands"`) {
		t.Errorf("CLI settings: %v", err)
	}
}

// waitSocialReady waits until the server has loaded its dictionary (a race
// build takes long), so that the first upload does not time out.
func waitSocialReady(t *testing.T, base string) {
	t.Helper()
	for deadline := time.Now().Add(2 * time.Minute); time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
		if _, body := get(t, base+"/metrics", nil); bytes.Contains(body, []byte("\nadmeter_social_text_ready 1\n")) {
			return
		}
	}
	t.Fatal("the social dictionary did not load within 2 minutes")
}

// TestSocialDictionaryLoadsOnDemand: a server started without
// --social-preload does not load the Chinese dictionary (190 MiB of heap;
// loading it at every start once cost collectors two thirds of their
// throughput) until its first social request, and then does.
func TestSocialDictionaryLoadsOnDemand(t *testing.T) {
	dir := t.TempDir()
	p := startBinary(t, dir)
	tok, _ := setupCampaign(t, p.base, dir, 1)
	const loading = "loading social text processing"
	ready := func() bool {
		_, body := get(t, p.base+"/metrics", nil)
		return bytes.Contains(body, []byte("\nadmeter_social_text_ready 1\n"))
	}
	// The Go memory limit serve sets (a soft limit sized for a collector,
	// raised while the dictionary is loaded), as the runtime reports it.
	memLimit := func() float64 {
		_, body := get(t, p.base+"/metrics", nil)
		for line := range strings.Lines(string(body)) {
			if v, ok := strings.CutPrefix(line, "go_gc_gomemlimit_bytes "); ok {
				f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
				if err != nil {
					t.Fatal(err)
				}
				return f
			}
		}
		t.Fatal("no go_gc_gomemlimit_bytes in /metrics")
		return 0
	}
	time.Sleep(time.Second)
	if ready() || bytes.Contains(p.out.Bytes(), []byte(loading)) {
		t.Fatalf("the dictionary loads before any social request:\n%s", p.out.Bytes())
	}
	if l := memLimit(); l != goMemLimit {
		t.Errorf("memory limit before any social request %.0f, want %d", l, goMemLimit)
	}

	// The first upload loads it. It waits for the load (long under the
	// race detector), so its answer is not awaited here.
	post := func(id string) {
		body := fmt.Sprintf(`[{"source":"weibo","id":%q,"time":%q,"author":"fan","text":"华为"}]`, id, time.Now().UTC().Add(-time.Minute).Format(time.RFC3339))
		req, _ := http.NewRequest("POST", p.base+"/api/v1/social/posts", strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+tok)
		req.Header.Set("Content-Type", "application/json")
		if resp, err := http.DefaultClient.Do(req); err == nil {
			resp.Body.Close()
		}
	}
	go post("first")
	deadline := time.Now().Add(2 * time.Minute)
	for !ready() {
		if time.Now().After(deadline) {
			t.Fatalf("the dictionary did not load within 2 minutes of the first upload:\n%s", p.out.Bytes())
		}
		time.Sleep(200 * time.Millisecond)
	}
	if !bytes.Contains(p.out.Bytes(), []byte(loading)) {
		t.Errorf("no %q line in the log", loading)
	}
	var up struct{ Stored int }
	if st := postRaw(t, p.base+"/api/v1/social/posts", tok, "application/json",
		fmt.Sprintf(`[{"source":"weibo","id":"second","time":%q,"author":"fan","text":"华为"}]`, time.Now().UTC().Add(-time.Minute).Format(time.RFC3339)), &up); st != 200 || up.Stored != 1 {
		t.Errorf("upload once loaded: %d, %d stored", st, up.Stored)
	}
	// Loaded and unused (once the first upload has answered too): the
	// limit allows for the dictionary, not for a running report.
	for l := memLimit(); l != goMemLimit+textLoadedLimit; l = memLimit() {
		if time.Now().After(deadline) {
			t.Fatalf("memory limit with the dictionary loaded and unused %.0f, want %d", l, goMemLimit+textLoadedLimit)
		}
		time.Sleep(200 * time.Millisecond)
	}
}
