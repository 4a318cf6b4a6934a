package viewtag_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"

	"github.com/admeter/admeter/collect/viewtag"
)

func TestHandler(t *testing.T) {
	srv := httptest.NewServer(viewtag.Handler())
	defer srv.Close()

	resp, err := http.Get(srv.URL + viewtag.Path)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "text/javascript; charset=utf-8" ||
		resp.Header.Get("Cache-Control") != viewtag.CacheControl || resp.Header.Get("X-Content-Type-Options") != "nosniff" {
		t.Fatalf("GET: %d %v", resp.StatusCode, resp.Header)
	}
	if string(body) != string(viewtag.Script()) {
		t.Fatal("the body is not the script")
	}
	if len(body) > 6<<10 {
		t.Errorf("the tag is %d bytes; keep it under 6 KiB", len(body))
	}

	req, _ := http.NewRequest("GET", srv.URL+viewtag.Path, nil)
	req.Header.Set("If-None-Match", resp.Header.Get("ETag"))
	resp2, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp2.Body.Close()
	if resp.Header.Get("ETag") == "" || resp2.StatusCode != http.StatusNotModified {
		t.Errorf("revalidation with ETag %q: %d, want 304", resp.Header.Get("ETag"), resp2.StatusCode)
	}

	resp3, err := http.Post(srv.URL+viewtag.Path, "text/plain", strings.NewReader("x"))
	if err != nil {
		t.Fatal(err)
	}
	resp3.Body.Close()
	if resp3.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("POST: %d, want 405", resp3.StatusCode)
	}
}

// TestScriptIsES2017 guards the browsers the tag supports: no syntax newer
// than ES2017 (optional chaining, nullish coalescing, class fields) and no
// module syntax, since it is loaded as a classic async script.
func TestScriptIsES2017(t *testing.T) {
	src := string(viewtag.Script())
	code := regexp.MustCompile(`(?m)//.*$`).ReplaceAllString(src, "")
	for _, bad := range []string{"?.", "??", "import ", "export ", "async ", "await "} {
		if strings.Contains(code, bad) {
			t.Errorf("the tag uses %q", bad)
		}
	}
	for _, want := range []string{"IntersectionObserver", "visibilityState", "sendBeacon", "vx=", "pagehide"} {
		if !strings.Contains(code, want) {
			t.Errorf("the tag does not use %s", want)
		}
	}
}
