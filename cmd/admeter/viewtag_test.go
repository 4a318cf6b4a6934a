package main

import (
	"bufio"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/admeter/admeter"
)

// viewtagPage is a tall page with two ads far below the fold, each measured
// by its own v.js tag from the collector at %[1]s (campaign %[2]s,
// placements %[3]s and %[4]s).
const viewtagPage = `<!doctype html>
<html><head><meta charset="utf-8"><title>viewability</title>
<style>body { margin: 0; height: 6000px; } .ad { position: absolute; left: 20px; width: 300px; height: 250px; background: #c33; }</style>
</head><body>
<div id="ad-a" class="ad" style="top: 2000px"></div>
<div id="ad-b" class="ad" style="top: 4000px"></div>
<script async src="%[1]s/v.js" data-k="%[2]s" data-p="%[3]s" data-target="ad-a"></script>
<script async src="%[1]s/v.js" data-k="%[2]s" data-p="%[4]s" data-target="ad-b" data-video="0"></script>
</body></html>`

// TestViewabilityTagInBrowser loads a page with the viewability tag in
// headless Chromium against the real binary: ad A is scrolled into view and
// kept there for 1.5 s and must be reported viewable (vx=1); ad B is in view
// for 0.3 s only and must not be, and once the page goes away it must be
// reported not viewable (vx=4). The test reads what the collector logged.
func TestViewabilityTagInBrowser(t *testing.T) {
	exe := browserExecPath()
	if exe == "" {
		t.Skip("no Chromium found (set $CHROMIUM or put chromium on the PATH); .ci/run installs it, so CI always runs this test")
	}
	dataDir := filepath.Join(t.TempDir(), "data")
	// A collector only: the events stay in the log, where the test reads them.
	p := startBinary(t, dataDir, "--log-level", "warn", "--ingest=false")
	_, c := setupCampaign(t, p.base, dataDir, 2)
	plA, plB := admeter.PlacementID(c.Placements[0].ID), admeter.PlacementID(c.Placements[1].ID)

	// The page comes from another origin, as an advertiser's or a media's
	// page would. It loads the tag from the pixel listener, the host of
	// the monitoring URLs, to which the tag sends its pings.
	page := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprintf(w, viewtagPage, p.pixel, c.ID, plA, plB)
	}))
	defer page.Close()

	// The tag itself, on both listeners: small, cacheable, JavaScript,
	// revalidated with its ETag.
	for _, base := range []string{p.base, p.pixel} {
		resp, err := http.Get(base + "/v.js")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/javascript") ||
			!strings.Contains(resp.Header.Get("Cache-Control"), "max-age=") || resp.Header.Get("ETag") == "" {
			t.Fatalf("GET %s/v.js: %d %v", base, resp.StatusCode, resp.Header)
		}
		req, _ := http.NewRequest("GET", base+"/v.js", nil)
		req.Header.Set("If-None-Match", resp.Header.Get("ETag"))
		again, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		again.Body.Close()
		if again.StatusCode != http.StatusNotModified {
			t.Fatalf("GET %s/v.js with its ETag: %d, want 304", base, again.StatusCode)
		}
	}

	ctx, cancel := context.WithTimeout(t.Context(), browserBudget)
	defer cancel()
	allocCtx, cancelAlloc := headlessChromium(ctx, exe)
	defer cancelAlloc()
	tab, cancelTab := chromedp.NewContext(allocCtx)
	defer cancelTab()
	do := func(step string, actions ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		if err := chromedp.Do(tab, actions...); err != nil {
			t.Fatalf("%s: %v\nadmeter output:\n%s", step, err, p.out.Bytes())
		}
	}
	scroll := func(y int) chromedp.Action[chromedp.Void] {
		return chromedp.Evaluate[chromedp.Void](fmt.Sprintf("window.scrollTo(0, %d)", y))
	}
	// waitLogged waits until the collector has logged n events of kind.
	waitLogged := func(kind admeter.Kind, n int) {
		t.Helper()
		var got int
		for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
			if got = loggedOfKind(t, p.base, kind); got >= n {
				return
			}
		}
		t.Fatalf("the collector logged %d %s events, want %d", got, kind, n)
	}

	do("start Chromium", chromedp.EmulateViewport(1366, 900))
	do("open the page", chromedp.Navigate(page.URL), chromedp.WaitReady(chromedp.CSS("#ad-b")))
	waitLogged(admeter.KindImpression, 2)
	if vis := browserEvalCtx[string](t, tab, "document.visibilityState"); vis != "visible" {
		t.Fatalf("the page is %s, not visible", vis)
	}

	// B: in view for 0.3 s, then out.
	do("show ad B briefly", scroll(3800), chromedp.Sleep(300*time.Millisecond), scroll(0))
	// A: in view for 1.5 s.
	do("show ad A", scroll(1800), chromedp.Sleep(1500*time.Millisecond), scroll(0))
	waitLogged(admeter.KindViewability, 1)
	// Well past B's second in view: had its clock not stopped, it would
	// have reported viewable by now.
	do("wait", chromedp.Sleep(time.Second))
	if n := loggedOfKind(t, p.base, admeter.KindViewability); n != 1 {
		t.Fatalf("%d viewability results before the page went away, want only A's", n)
	}

	// The page goes away: B, never viewable, reports so.
	do("leave the page", chromedp.Navigate("about:blank"))
	waitLogged(admeter.KindViewability, 2)
	time.Sleep(300 * time.Millisecond) // nothing more may come
	p.stop(t)

	type byPlacement struct {
		imps    []admeter.Event
		results []admeter.Event
	}
	got := map[admeter.PlacementID]*byPlacement{plA: {}, plB: {}}
	for _, ev := range readLog(t, dataDir) {
		b := got[ev.Placement]
		if b == nil || ev.Campaign != admeter.CampaignID(c.ID) {
			t.Fatalf("logged an event of placement %q", ev.Placement)
		}
		switch ev.Kind {
		case admeter.KindImpression:
			b.imps = append(b.imps, ev)
		case admeter.KindViewability:
			b.results = append(b.results, ev)
		default:
			t.Errorf("logged a %s event", ev.Kind)
		}
	}
	for pl, want := range map[admeter.PlacementID]admeter.ViewResult{plA: admeter.ViewViewable, plB: admeter.ViewNotViewable} {
		b := got[pl]
		if len(b.imps) != 1 || len(b.results) != 1 {
			t.Fatalf("placement %s: %d impressions and %d results, want one of each", pl, len(b.imps), len(b.results))
		}
		imp, res := b.imps[0], b.results[0]
		if imp.View != admeter.ViewStarted || imp.ImpressionID.IsZero() {
			t.Errorf("placement %s: the impression has view %q and id %v; want started, with an id", pl, imp.View, imp.ImpressionID)
		}
		if res.ImpressionID != imp.ImpressionID {
			t.Errorf("placement %s: the result does not carry the impression's id", pl)
		}
		if res.View != want {
			t.Errorf("placement %s: result %q, want %q", pl, res.View, want)
		}
		if res.At.Before(imp.At) || res.Flags&admeter.FlagTimeCorrected != 0 {
			t.Errorf("placement %s: result at %v, impression at %v (flags %b): the tag's mt must be used", pl, res.At, imp.At, res.Flags)
		}
	}
	if got[plA].imps[0].ImpressionID == got[plB].imps[0].ImpressionID {
		t.Error("the two ads share an impression id")
	}
}

// browserEvalCtx evaluates a JavaScript expression in the tab ctx.
func browserEvalCtx[T any](t *testing.T, ctx context.Context, expr string) T {
	t.Helper()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](expr))
	if err != nil {
		t.Fatalf("evaluate %s: %v", expr, err)
	}
	return v
}

// loggedOfKind reads admeter_collect_logged_total{kind} from /metrics.
func loggedOfKind(t *testing.T, base string, kind admeter.Kind) int {
	t.Helper()
	resp, err := http.Get(base + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	prefix := fmt.Sprintf("admeter_collect_logged_total{kind=%q} ", kind.String())
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), prefix); ok {
			n, err := strconv.ParseFloat(v, 64)
			if err != nil {
				t.Fatalf("metric %s%s", prefix, v)
			}
			return int(n)
		}
	}
	return 0
}
