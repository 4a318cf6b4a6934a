package viewtag

import (
	"bytes"
	"crypto/sha256"
	_ "embed"
	"encoding/hex"
	"net/http"
	"time"
)

// Path is where the collector serves the tag.
const Path = "/v.js"

//go:embed v.js
var script []byte

// etag names this build's script, so a cached copy is revalidated cheaply.
var etag = func() string {
	sum := sha256.Sum256(script)
	return `"` + hex.EncodeToString(sum[:8]) + `"`
}()

// CacheControl lets browsers and CDNs keep the tag a day and serve a stale
// copy for a week while they revalidate it: pages load it from cache, and a
// new version still reaches them within a day.
const CacheControl = "public, max-age=86400, stale-while-revalidate=604800"

// Script returns the tag's source.
func Script() []byte { return bytes.Clone(script) }

// ETag returns the entity tag of this build's script, quoted.
func ETag() string { return etag }

// Headers returns the headers the tag is served with, whichever listener
// serves it: its type, its cache life, its ETag, and what lets pages of
// any site load it.
func Headers() [][2]string {
	return [][2]string{
		{"Content-Type", "text/javascript; charset=utf-8"},
		{"Cache-Control", CacheControl},
		{"ETag", etag},
		{"X-Content-Type-Options", "nosniff"},
		// Pages of any site load it, including cross-origin-isolated ones.
		{"Cross-Origin-Resource-Policy", "cross-origin"},
	}
}

// Handler returns the handler of GET and HEAD Path: the script, with a long
// cache life, an ETag and conditional requests answered 304.
func Handler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			http.Error(w, "use GET to load the viewability tag", http.StatusMethodNotAllowed)
			return
		}
		h := w.Header()
		for _, kv := range Headers() {
			h.Set(kv[0], kv[1])
		}
		http.ServeContent(w, r, "v.js", time.Time{}, bytes.NewReader(script))
	})
}
