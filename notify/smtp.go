package notify

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/base64"
	"errors"
	"fmt"
	"maps"
	"mime"
	"net"
	"net/mail"
	"net/smtp"
	"slices"
	"strings"
	"time"
)

// Message is one email to one recipient.
type Message struct {
	To      string
	Subject string
	// ID is the Message-ID without angle brackets or domain: the delivery
	// id, so that a resent message is recognisably the same one.
	ID string
	// Text is the plain-text body.
	Text string
	// Headers are extra headers (List-Unsubscribe, say).
	Headers map[string]string
}

// SMTP transport security modes.
const (
	TLSStartTLS = "starttls" // plain connection upgraded with STARTTLS, which the server must offer
	TLSImplicit = "tls"      // TLS from the first byte (port 465)
	TLSNone     = "none"     // no encryption: only for a relay on the same host or network
)

// SMTPConfig is how to reach the mail server.
type SMTPConfig struct {
	// Addr is the server's host:port.
	Addr string
	// From is the sender, e.g. "admeter <noreply@admeter.example.com>".
	From string
	// Username and Password authenticate with AUTH PLAIN, only over TLS
	// or to localhost ("" Username: no authentication).
	Username string
	Password string
	// TLS is TLSStartTLS (default), TLSImplicit or TLSNone.
	TLS string
	// TLSConfig, if set, is used for the TLS connection (tests give their
	// own roots); ServerName defaults to Addr's host.
	TLSConfig *tls.Config
	// HelloName is the name sent in EHLO. Default "localhost".
	HelloName string
	// Timeout bounds one message's whole exchange. Default 30 s.
	Timeout time.Duration
	// Now stamps the Date header. Default time.Now.
	Now func() time.Time
}

// SMTP sends email through one SMTP server, one connection per message.
type SMTP struct {
	cfg  SMTPConfig
	from *mail.Address
	host string
}

// NewSMTP checks cfg and returns an SMTP mailer.
func NewSMTP(cfg SMTPConfig) (*SMTP, error) {
	if cfg.TLS == "" {
		cfg.TLS = TLSStartTLS
	}
	if cfg.HelloName == "" {
		cfg.HelloName = "localhost"
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 30 * time.Second
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	var errs []error
	host, _, err := net.SplitHostPort(cfg.Addr)
	if err != nil || host == "" {
		errs = append(errs, fmt.Errorf("SMTP address must be host:port such as smtp.example.com:587, not %q", cfg.Addr))
	}
	from, err := mail.ParseAddress(cfg.From)
	if err != nil {
		errs = append(errs, fmt.Errorf("SMTP sender must be an address such as \"admeter <noreply@example.com>\", not %q", cfg.From))
	}
	switch cfg.TLS {
	case TLSStartTLS, TLSImplicit, TLSNone:
	default:
		errs = append(errs, fmt.Errorf("SMTP TLS must be starttls, tls or none, not %q", cfg.TLS))
	}
	if cfg.Username == "" && cfg.Password != "" {
		errs = append(errs, errors.New("an SMTP password needs a username"))
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return &SMTP{cfg: cfg, from: from, host: host}, nil
}

// domain returns the sender's domain, for Message-IDs.
func (s *SMTP) domain() string {
	if i := strings.LastIndexByte(s.from.Address, '@'); i >= 0 {
		return s.from.Address[i+1:]
	}
	return "admeter.invalid"
}

// Send delivers m. An error means the server did not accept it; the
// message may still have arrived if the connection broke after DATA.
func (s *SMTP) Send(ctx context.Context, m *Message) error {
	to, err := mail.ParseAddress(m.To)
	if err != nil {
		return fmt.Errorf("send mail: bad recipient address: %w", err)
	}
	msg := s.format(m, to)
	ctx, cancel := context.WithTimeout(ctx, s.cfg.Timeout)
	defer cancel()
	d := &net.Dialer{}
	conn, err := d.DialContext(ctx, "tcp", s.cfg.Addr)
	if err != nil {
		return fmt.Errorf("send mail: connect to %s: %w", s.cfg.Addr, err)
	}
	defer conn.Close()
	if dl, ok := ctx.Deadline(); ok {
		_ = conn.SetDeadline(dl)
	}
	stop := context.AfterFunc(ctx, func() { _ = conn.SetDeadline(time.Unix(1, 0)) })
	defer stop()
	if s.cfg.TLS == TLSImplicit {
		tc := tls.Client(conn, s.tlsConfig())
		if err := tc.HandshakeContext(ctx); err != nil {
			return fmt.Errorf("send mail: TLS with %s: %w", s.cfg.Addr, err)
		}
		conn = tc
	}
	c, err := smtp.NewClient(conn, s.host)
	if err != nil {
		return fmt.Errorf("send mail: %w", err)
	}
	defer c.Close()
	if err := c.Hello(s.cfg.HelloName); err != nil {
		return fmt.Errorf("send mail: EHLO: %w", err)
	}
	if s.cfg.TLS == TLSStartTLS {
		if ok, _ := c.Extension("STARTTLS"); !ok {
			return fmt.Errorf("send mail: %s does not offer STARTTLS; use --smtp-tls=tls for port 465, or none only for a local relay", s.cfg.Addr)
		}
		if err := c.StartTLS(s.tlsConfig()); err != nil {
			return fmt.Errorf("send mail: STARTTLS: %w", err)
		}
	}
	if s.cfg.Username != "" {
		if err := c.Auth(smtp.PlainAuth("", s.cfg.Username, s.cfg.Password, s.host)); err != nil {
			return fmt.Errorf("send mail: authenticate: %w", err)
		}
	}
	if err := c.Mail(s.from.Address); err != nil {
		return fmt.Errorf("send mail: MAIL FROM: %w", err)
	}
	if err := c.Rcpt(to.Address); err != nil {
		return fmt.Errorf("send mail: RCPT TO: %w", err)
	}
	w, err := c.Data()
	if err != nil {
		return fmt.Errorf("send mail: DATA: %w", err)
	}
	if _, err := w.Write(msg); err != nil {
		return fmt.Errorf("send mail: write: %w", err)
	}
	if err := w.Close(); err != nil {
		return fmt.Errorf("send mail: end of data: %w", err)
	}
	_ = c.Quit()
	return nil
}

func (s *SMTP) tlsConfig() *tls.Config {
	if s.cfg.TLSConfig != nil {
		c := s.cfg.TLSConfig.Clone()
		if c.ServerName == "" {
			c.ServerName = s.host
		}
		return c
	}
	return &tls.Config{ServerName: s.host, MinVersion: tls.VersionTLS12}
}

// format returns m as an RFC 5322 message: UTF-8 text, base64 encoded.
func (s *SMTP) format(m *Message, to *mail.Address) []byte {
	var b bytes.Buffer
	header := func(k, v string) {
		// Header values never carry line breaks from the caller.
		v = strings.NewReplacer("\r", " ", "\n", " ").Replace(v)
		fmt.Fprintf(&b, "%s: %s\r\n", k, v)
	}
	header("From", s.from.String())
	header("To", (&mail.Address{Address: to.Address}).String())
	header("Subject", mime.BEncoding.Encode("UTF-8", m.Subject))
	header("Date", s.cfg.Now().Format(time.RFC1123Z))
	header("Message-ID", "<"+m.ID+"@"+s.domain()+">")
	header("MIME-Version", "1.0")
	header("Content-Type", "text/plain; charset=UTF-8")
	header("Content-Transfer-Encoding", "base64")
	header("Auto-Submitted", "auto-generated")
	for _, k := range slices.Sorted(maps.Keys(m.Headers)) {
		header(k, m.Headers[k])
	}
	b.WriteString("\r\n")
	text := strings.ReplaceAll(strings.ReplaceAll(m.Text, "\r\n", "\n"), "\n", "\r\n")
	enc := base64.StdEncoding.EncodeToString([]byte(text))
	for len(enc) > 76 {
		b.WriteString(enc[:76])
		b.WriteString("\r\n")
		enc = enc[76:]
	}
	b.WriteString(enc)
	b.WriteString("\r\n")
	return b.Bytes()
}
