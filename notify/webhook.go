package notify

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Webhook headers. Receivers check the signature with Verify and drop a
// delivery whose IdempotencyHeader they have seen.
const (
	// TimestampHeader is the Unix time in seconds when the attempt was
	// signed.
	TimestampHeader = "Admeter-Timestamp"
	// SignatureHeader is "v1=" and the hex HMAC-SHA256, keyed by the
	// tenant's webhook secret, of the timestamp, ".", and the body.
	SignatureHeader = "Admeter-Signature"
	// IdempotencyHeader is the delivery id: the same on every retry.
	IdempotencyHeader = "Idempotency-Key"
)

// DefaultTolerance is how far a webhook timestamp may be from the
// receiver's clock, either way, before Verify refuses it as a replay.
const DefaultTolerance = 5 * time.Minute

// Sign returns the signature header value of body sent at Unix time ts:
// "v1=" and the hex HMAC-SHA256 of "<ts>.<body>" keyed by secret.
func Sign(secret []byte, ts int64, body []byte) string {
	mac := hmac.New(sha256.New, secret)
	mac.Write([]byte(strconv.FormatInt(ts, 10)))
	mac.Write([]byte{'.'})
	mac.Write(body)
	return "v1=" + hex.EncodeToString(mac.Sum(nil))
}

// Verify checks a webhook delivery as a receiver would: timestamp and
// signature are the values of TimestampHeader and SignatureHeader. The
// signature header may list several comma-separated "v1=" values (during a
// secret rotation); one must match. It fails if the timestamp is more than
// tolerance away from now.
func Verify(secret []byte, timestamp, signature string, body []byte, now time.Time, tolerance time.Duration) error {
	ts, err := strconv.ParseInt(strings.TrimSpace(timestamp), 10, 64)
	if err != nil {
		return fmt.Errorf("verify webhook: %s is not a Unix time", TimestampHeader)
	}
	at := time.Unix(ts, 0)
	if d := now.Sub(at); d > tolerance || d < -tolerance {
		return fmt.Errorf("verify webhook: the timestamp is %s away from now, more than %s: a replay or a wrong clock", d.Round(time.Second), tolerance)
	}
	want := Sign(secret, ts, body)
	for _, part := range strings.Split(signature, ",") {
		if hmac.Equal([]byte(strings.TrimSpace(part)), []byte(want)) {
			return nil
		}
	}
	return errors.New("verify webhook: no signature matches: wrong secret, or the body was changed")
}

// Webhook posts signed notices to tenants' webhook URLs.
type Webhook struct {
	// Client sends the requests. NewWebhook's does not follow redirects
	// and times out after 15 s.
	Client *http.Client
	// Now is the clock of the timestamps. Default time.Now.
	Now func() time.Time
}

// NewWebhook returns a Webhook with its defaults.
func NewWebhook() *Webhook {
	return &Webhook{
		Client: &http.Client{
			Timeout: 15 * time.Second,
			CheckRedirect: func(*http.Request, []*http.Request) error {
				return http.ErrUseLastResponse
			},
		},
		Now: time.Now,
	}
}

// Post sends body to url, signed with secret, with key as its idempotency
// key. Any answer but 2xx is an error.
func (w *Webhook) Post(ctx context.Context, url string, secret []byte, key string, body []byte) error {
	now := time.Now
	if w.Now != nil {
		now = w.Now
	}
	ts := now().Unix()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("webhook request: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "admeter-notify/1")
	req.Header.Set(TimestampHeader, strconv.FormatInt(ts, 10))
	req.Header.Set(SignatureHeader, Sign(secret, ts, body))
	req.Header.Set(IdempotencyHeader, key)
	resp, err := w.Client.Do(req)
	if err != nil {
		return fmt.Errorf("webhook post: %w", err)
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return fmt.Errorf("webhook answered %s", resp.Status)
	}
	return nil
}
