package notify

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/admeter/admeter"
)

// Backoff returns the wait before the next attempt of a delivery that has
// failed attempts times (at least 1): Config.Backoff doubled for each
// failure after the first, at most Config.MaxBackoff.
func (s *Service) Backoff(attempts int) time.Duration {
	d := s.cfg.Backoff
	for range max(0, attempts-1) {
		if d >= s.cfg.MaxBackoff/2 {
			return s.cfg.MaxBackoff
		}
		d *= 2
	}
	return min(d, s.cfg.MaxBackoff)
}

// DeliverResult counts what one pass of Deliver did.
type DeliverResult struct {
	Sent    int `json:"sent"`
	Failed  int `json:"failed"`
	GivenUp int `json:"given_up"`
	// Waiting counts email deliveries put off because no mail server is
	// configured.
	Waiting int `json:"waiting"`
}

// Deliver sends the deliveries that are due, at most Config.Batch, and
// records each one's new status. A failed delivery is due again after
// Backoff; after Config.MaxAttempts failures it is given up.
func (s *Service) Deliver(ctx context.Context) (DeliverResult, error) {
	var res DeliverResult
	due, err := s.store.DueDeliveries(ctx, s.cfg.Now(), s.cfg.Batch)
	if err != nil {
		return res, fmt.Errorf("deliver notices: %w", err)
	}
	notices := map[string]*admeter.Notice{}
	for _, d := range due {
		if ctx.Err() != nil {
			return res, ctx.Err()
		}
		n, ok := notices[d.Notice]
		if !ok {
			if n, err = s.store.Notice(ctx, d.Notice); err != nil {
				return res, fmt.Errorf("deliver notices: %w", err)
			}
			notices[d.Notice] = n
		}
		if d.Channel == admeter.ChannelEmail && s.mail == nil {
			// Not an attempt: wait for a mail server without using one up.
			d.LastError = "no SMTP server is configured (--smtp-addr)"
			d.NextAttempt = s.cfg.Now().Add(s.cfg.MaxBackoff)
			if err := s.store.UpdateDelivery(ctx, d); err != nil {
				return res, fmt.Errorf("deliver notices: %w", err)
			}
			res.Waiting++
			continue
		}
		sendErr := s.attempt(ctx, n, d)
		if ctx.Err() != nil {
			return res, ctx.Err()
		}
		now := s.cfg.Now()
		d.Attempts++
		extra := map[string]any{}
		switch {
		case sendErr == nil:
			d.Status, d.Sent, d.LastError = admeter.DeliverySent, now, ""
			res.Sent++
		case d.Attempts >= s.cfg.MaxAttempts:
			d.Status, d.LastError = admeter.DeliveryGivenUp, errorText(sendErr)
			res.GivenUp++
			s.logger.Warn("notice delivery given up", "delivery", d.ID, "channel", d.Channel, "attempts", d.Attempts)
		default:
			d.Status, d.LastError, d.NextAttempt = admeter.DeliveryFailed, errorText(sendErr), now.Add(s.Backoff(d.Attempts))
			extra["next_attempt"] = d.NextAttempt.UTC().Format(time.RFC3339)
			res.Failed++
		}
		if err := s.store.UpdateDelivery(context.WithoutCancel(ctx), d); err != nil {
			return res, fmt.Errorf("deliver notices: %w", err)
		}
		s.recordDelivery(ctx, d, extra)
	}
	return res, nil
}

// attempt sends d once.
func (s *Service) attempt(ctx context.Context, n *admeter.Notice, d *admeter.Delivery) error {
	switch d.Channel {
	case admeter.ChannelEmail:
		m := &Message{To: d.Recipient, Subject: n.Subject.ZH + " / " + n.Subject.EN, ID: d.ID,
			Text:    n.Body.ZH + "\n------------------------------------------------------------\n\n" + n.Body.EN,
			Headers: map[string]string{"X-Admeter-Notice": n.ID}}
		if !n.Critical && s.cfg.ConsoleURL != "" {
			m.Headers["List-Unsubscribe"] = "<" + s.cfg.ConsoleURL + "/console/notices>"
		}
		return s.mail.Send(ctx, m)
	case admeter.ChannelWebhook:
		set, err := s.store.NotifySettings(ctx, d.Tenant)
		if err != nil {
			return err
		}
		if len(set.WebhookSecret) == 0 {
			return fmt.Errorf("the tenant removed its webhook")
		}
		secret, err := s.cfg.Open(set.WebhookSecret)
		if err != nil {
			return fmt.Errorf("open webhook secret: %w", err)
		}
		defer clear(secret)
		body, err := webhookBody(n, d)
		if err != nil {
			return err
		}
		return s.hook.Post(ctx, d.Recipient, secret, d.ID, body)
	}
	return fmt.Errorf("unknown channel %q", d.Channel)
}

// errorText shortens err for the delivery record.
func errorText(err error) string {
	s := err.Error()
	if len(s) > 500 {
		s = s[:500]
	}
	return strings.ToValidUTF8(s, "")
}

// Run sends due deliveries every interval until ctx is done.
func (s *Service) Run(ctx context.Context, interval time.Duration) error {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		res, err := s.Deliver(ctx)
		if err != nil && ctx.Err() == nil {
			s.logger.Error("deliver notices", "err", err)
		} else if res.Sent+res.Failed+res.GivenUp > 0 {
			s.logger.Info("notices delivered", "sent", res.Sent, "failed", res.Failed, "given_up", res.GivenUp)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
		}
	}
}
