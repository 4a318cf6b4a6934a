package api

import (
	"encoding/json"
	"log/slog"
	"net/http"

	"github.com/admeter/admeter"
)

// codes maps application error codes to HTTP statuses.
var codes = map[string]int{
	admeter.ECONFLICT:     http.StatusConflict,
	admeter.EFORBIDDEN:    http.StatusForbidden,
	admeter.EINVALID:      http.StatusBadRequest,
	admeter.ENOTFOUND:     http.StatusNotFound,
	admeter.ETOOLARGE:     http.StatusRequestEntityTooLarge,
	admeter.EUNAUTHORIZED: http.StatusUnauthorized,
	admeter.ERATELIMITED:  http.StatusTooManyRequests,
	admeter.EINTERNAL:     http.StatusInternalServerError,
}

// errorStatus returns the HTTP status for an application error code.
func errorStatus(code string) int {
	if s, ok := codes[code]; ok {
		return s
	}
	return http.StatusInternalServerError
}

// writeError writes err in the API's error shape. Internal errors are logged
// and shown to the caller only as "Internal error.".
func writeError(w http.ResponseWriter, r *http.Request, logger *slog.Logger, err error) {
	code, msg := admeter.ErrorCode(err), admeter.ErrorMessage(err)
	if code == admeter.EINTERNAL {
		logger.Error("internal error", "method", r.Method, "path", r.URL.Path, "err", err)
	}
	if code == admeter.EUNAUTHORIZED {
		w.Header().Set("WWW-Authenticate", `Bearer realm="admeter"`)
	}
	writeJSON(w, errorStatus(code), map[string]any{"error": map[string]string{"code": code, "message": msg}})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v)
}
