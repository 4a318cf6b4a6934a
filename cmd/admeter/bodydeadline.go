package main

import (
	"net/http"
	"time"
)

// bodyReadTimeout bounds how long a client may take to send a request body.
const bodyReadTimeout = 30 * time.Second

// withBodyDeadline gives a request that has a body a read deadline of d from
// now; net/http clears it once the handler has read the body to its end.
//
// The server sets no ReadTimeout, which would make net/http set a second read
// deadline on every request, after its headers: a runtime timer update per
// pixel, which has no body to bound. Headers are bounded by
// ReadHeaderTimeout, bodies here.
func withBodyDeadline(w http.ResponseWriter, r *http.Request, d time.Duration) {
	if r.Body == nil || r.Body == http.NoBody {
		return
	}
	_ = http.NewResponseController(w).SetReadDeadline(time.Now().Add(d))
}
