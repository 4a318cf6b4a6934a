package main

import (
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/admeter/admeter/notify"
)

// NotifyConfig configures incident notices and service announcements:
// the mail server, the regulator report window and the delivery retries.
type NotifyConfig struct {
	// SMTPAddr is the mail server (host:port); "" sends no email (email
	// deliveries wait until one is configured).
	SMTPAddr         string
	SMTPFrom         string
	SMTPUsername     string
	SMTPPassword     string
	SMTPPasswordFile string
	SMTPTLS          string
	// ReportWindow is the time from an incident's discovery to the due date
	// of its report to the regulator.
	ReportWindow time.Duration
	// Interval is how often due deliveries are sent; MaxAttempts how many
	// times one is tried; Backoff the wait after its first failure
	// (doubling up to MaxBackoff).
	Interval    time.Duration
	MaxAttempts int
	Backoff     time.Duration
	MaxBackoff  time.Duration
}

// defaultNotifyConfig returns the embedded defaults.
func defaultNotifyConfig() NotifyConfig {
	d := notify.DefaultConfig()
	return NotifyConfig{
		SMTPTLS:      notify.TLSStartTLS,
		ReportWindow: d.ReportWindow,
		Interval:     15 * time.Second,
		MaxAttempts:  d.MaxAttempts,
		Backoff:      d.Backoff,
		MaxBackoff:   d.MaxBackoff,
	}
}

// registerNotifyFlags adds the notification flags to fs.
func registerNotifyFlags(fs *flag.FlagSet, c *NotifyConfig) {
	fs.StringVar(&c.SMTPAddr, "smtp-addr", c.SMTPAddr, "mail server (host:port, e.g. smtp.example.com:587) that sends incident notices and announcements; empty: no email, deliveries wait / 发信服务器")
	fs.StringVar(&c.SMTPFrom, "smtp-from", c.SMTPFrom, "sender of notices, e.g. \"admeter <noreply@example.com>\" (required with --smtp-addr)")
	fs.StringVar(&c.SMTPUsername, "smtp-username", c.SMTPUsername, "SMTP user name (AUTH PLAIN, only over TLS or to localhost); empty: no authentication")
	fs.StringVar(&c.SMTPPassword, "smtp-password", c.SMTPPassword, "SMTP password; prefer --smtp-password-file or the environment, which other users cannot see in the process list")
	fs.StringVar(&c.SMTPPasswordFile, "smtp-password-file", c.SMTPPasswordFile, "file holding the SMTP password (mode 0600)")
	fs.StringVar(&c.SMTPTLS, "smtp-tls", c.SMTPTLS, "starttls (upgrade, required), tls (implicit TLS, port 465) or none (only for a relay on this host or a trusted network)")
	fs.DurationVar(&c.ReportWindow, "incident-report-window", c.ReportWindow, "time from an incident's discovery to the due date of its report to the regulator; set it to what applies to you (the default is a setting, not legal advice) / 监管报告期限")
	fs.DurationVar(&c.Interval, "notify-interval", c.Interval, "how often due notice deliveries are sent")
	fs.IntVar(&c.MaxAttempts, "notify-max-attempts", c.MaxAttempts, "how many times a notice delivery is tried before it is given up")
	fs.DurationVar(&c.Backoff, "notify-backoff", c.Backoff, "wait after a delivery's first failure; it doubles after each further failure, up to --notify-max-backoff")
	fs.DurationVar(&c.MaxBackoff, "notify-max-backoff", c.MaxBackoff, "longest wait between two attempts of a delivery")
}

// validate reports every problem with c.
func (c *NotifyConfig) validate() []error {
	var errs []error
	if c.SMTPAddr != "" {
		if _, err := c.smtpConfig(); err != nil {
			errs = append(errs, fmt.Errorf("--smtp-*: %v", err))
		}
	} else if c.SMTPFrom != "" || c.SMTPUsername != "" {
		errs = append(errs, errors.New("--smtp-from and --smtp-username need --smtp-addr"))
	}
	if c.SMTPPassword != "" && c.SMTPPasswordFile != "" {
		errs = append(errs, errors.New("give --smtp-password or --smtp-password-file, not both"))
	}
	if c.Interval < time.Second {
		errs = append(errs, fmt.Errorf("--notify-interval must be at least 1s, not %s", c.Interval))
	}
	ncfg := notify.DefaultConfig()
	c.apply(&ncfg)
	ncfg.Seal, ncfg.Open = func(b []byte) ([]byte, error) { return b, nil }, func(b []byte) ([]byte, error) { return b, nil }
	if err := ncfg.Validate(); err != nil {
		errs = append(errs, fmt.Errorf("--incident-report-window, --notify-*: %v", err))
	}
	return errs
}

// apply copies c's settings into a notify.Config.
func (c *NotifyConfig) apply(n *notify.Config) {
	n.ReportWindow, n.MaxAttempts, n.Backoff, n.MaxBackoff = c.ReportWindow, c.MaxAttempts, c.Backoff, c.MaxBackoff
}

// smtpConfig returns the mail server settings, reading the password file.
// It checks them without connecting.
func (c *NotifyConfig) smtpConfig() (notify.SMTPConfig, error) {
	cfg := notify.SMTPConfig{Addr: c.SMTPAddr, From: c.SMTPFrom, Username: c.SMTPUsername, Password: c.SMTPPassword, TLS: c.SMTPTLS}
	if c.SMTPPasswordFile != "" {
		b, err := os.ReadFile(c.SMTPPasswordFile)
		if err != nil {
			return cfg, fmt.Errorf("read --smtp-password-file: %w", err)
		}
		cfg.Password = strings.TrimRight(string(b), "\r\n")
	}
	_, err := notify.NewSMTP(cfg)
	return cfg, err
}

// openNotify returns the notification service over the metadata store,
// sealing webhook secrets with a key derived from master.
func (m *Main) openNotify(master []byte, public string, logger *slog.Logger) (*notify.Service, error) {
	c := m.Config.Notify
	store, ok := m.meta.(notify.Store)
	if !ok {
		return nil, fmt.Errorf("metadata store %T keeps no incidents", m.meta)
	}
	sealer, err := newSecretSealer(derivedKey(master, "webhook-secrets/v1"))
	if err != nil {
		return nil, err
	}
	ncfg := notify.DefaultConfig()
	c.apply(&ncfg)
	ncfg.ConsoleURL, ncfg.Seal, ncfg.Open = public, sealer.Seal, sealer.Open
	ncfg.Now = func() time.Time { return m.Now() }
	var mailer notify.Mailer
	if c.SMTPAddr != "" {
		scfg, err := c.smtpConfig()
		if err != nil {
			return nil, fmt.Errorf("--smtp-*: %w", err)
		}
		if mailer, err = notify.NewSMTP(scfg); err != nil {
			return nil, fmt.Errorf("--smtp-*: %w", err)
		}
	} else {
		logger.Warn("no mail server (--smtp-addr): incident notices and announcements go by webhook only; email deliveries wait until one is configured")
	}
	return notify.New(ncfg, store, mailer, nil, m.audit, logger)
}
