// Package notifytest runs an SMTP server inside a test process (the
// github.com/emersion/go-smtp server) that keeps every message it accepts,
// so that tests of package notify and end-to-end tests can read the mail
// admeter sends.
package notifytest

import (
	"encoding/base64"
	"io"
	"mime"
	"net"
	"net/mail"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-smtp"
)

// Mail is one accepted message: its envelope, headers, decoded subject and
// decoded plain-text body.
type Mail struct {
	From    string
	To      []string
	Header  mail.Header
	Subject string
	Text    string
}

// Mailbox is a running SMTP server that accepts every message, without
// TLS or authentication.
type Mailbox struct {
	// Addr is the server's host:port.
	Addr string
	mu   sync.Mutex
	msgs []Mail
}

// NewMailbox starts a Mailbox on a loopback port and stops it when tb ends.
func NewMailbox(tb testing.TB) *Mailbox {
	tb.Helper()
	mb := &Mailbox{}
	srv := smtp.NewServer(backend{mb})
	srv.Domain = "mx.test"
	srv.ReadTimeout, srv.WriteTimeout = 10*time.Second, 10*time.Second
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	mb.Addr = ln.Addr().String()
	go func() { _ = srv.Serve(ln) }()
	tb.Cleanup(func() { _ = srv.Close() })
	return mb
}

// All returns the messages accepted so far, oldest first.
func (mb *Mailbox) All() []Mail {
	mb.mu.Lock()
	defer mb.mu.Unlock()
	return slices.Clone(mb.msgs)
}

// Wait returns the messages once there are at least n, or what there is
// after d.
func (mb *Mailbox) Wait(n int, d time.Duration) []Mail {
	deadline := time.Now().Add(d)
	for {
		msgs := mb.All()
		if len(msgs) >= n || time.Now().After(deadline) {
			return msgs
		}
		time.Sleep(20 * time.Millisecond)
	}
}

type backend struct{ mb *Mailbox }

func (b backend) NewSession(*smtp.Conn) (smtp.Session, error) { return &session{mb: b.mb}, nil }

type session struct {
	mb   *Mailbox
	from string
	to   []string
}

func (s *session) Reset()        { s.from, s.to = "", nil }
func (s *session) Logout() error { return nil }

func (s *session) Mail(from string, _ *smtp.MailOptions) error {
	s.from = from
	return nil
}

func (s *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	s.to = append(s.to, to)
	return nil
}

// Data parses the message and decodes a base64 or plain body.
func (s *session) Data(r io.Reader) error {
	m, err := mail.ReadMessage(r)
	if err != nil {
		return err
	}
	var body io.Reader = m.Body
	if strings.EqualFold(m.Header.Get("Content-Transfer-Encoding"), "base64") {
		body = base64.NewDecoder(base64.StdEncoding, m.Body)
	}
	raw, err := io.ReadAll(body)
	if err != nil {
		return err
	}
	subject, err := new(mime.WordDecoder).DecodeHeader(m.Header.Get("Subject"))
	if err != nil {
		return err
	}
	s.mb.mu.Lock()
	s.mb.msgs = append(s.mb.msgs, Mail{From: s.from, To: slices.Clone(s.to), Header: m.Header, Subject: subject, Text: string(raw)})
	s.mb.mu.Unlock()
	return nil
}
