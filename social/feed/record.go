package feed

import (
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/admeter/admeter"
)

// Limits of one call and one record.
const (
	// MaxRecords is the most records one ParseJSON or ParseCSV call takes;
	// the next one ends the call with an ETOOLARGE error.
	MaxRecords = 10000
	// MaxRecordBytes is the most bytes of one record: an NDJSON line, a JSON
	// array element or a CSV row.
	MaxRecordBytes = 64 << 10
	// MaxIDBytes and MaxAuthorBytes bound a partner's record id and an
	// author handle.
	MaxIDBytes     = 256
	MaxAuthorBytes = 256
	// DefaultMaxFuture is Options.MaxFuture when it is zero.
	DefaultMaxFuture = 5 * time.Minute
)

// chinaTime is China Standard Time (UTC+8, no daylight saving since 1991):
// the zone of times and days written without one.
var chinaTime = time.FixedZone("CST", 8*60*60)

// Record is one partner record as received, checked but not pseudonymised.
// Author and ID are raw identifiers and Text is raw personal data: never log
// or store a Record; hand it to the social service, which pseudonymises the
// author and id and passes Text through Redact.
type Record struct {
	// Source is the partner feed or platform, lowercase, valid for
	// admeter.ValidSocialSource.
	Source string
	// Kind is post when the record does not say; search when it gives a
	// term and neither text nor author.
	Kind admeter.SocialKind
	// ID is the partner's record id, 1 to MaxIDBytes bytes. A search
	// aggregate without one gets Term+"\x00"+Day ("2006-01-02"), which may
	// be longer.
	ID string
	// At is when the record was posted, UTC, to the millisecond; for a
	// search aggregate, the start of its day in China Standard Time.
	At time.Time
	// Text is the post's text (valid UTF-8, cut to admeter.MaxSocialText
	// characters), or a search aggregate's term (1 to
	// admeter.MaxSocialTerm characters, spaces trimmed).
	Text string
	// Author is the raw author handle (1 to MaxAuthorBytes bytes, spaces
	// trimmed); empty for a search aggregate.
	Author string
	// Engagement counts as the partner gave them, 0 when absent.
	Likes, Comments, Shares, Views int64
	// Count is a search aggregate's number of searches (at least 1); 1 for
	// the other kinds.
	Count int64
}

// Options tunes what a parse accepts.
type Options struct {
	// Now is the time records are checked against; time.Now() when zero.
	Now time.Time
	// MaxAge rejects records older than Now−MaxAge; 0 takes any age.
	MaxAge time.Duration
	// MaxFuture rejects records later than Now+MaxFuture; 0 means
	// DefaultMaxFuture.
	MaxFuture time.Duration
}

// RecordError says which record of a feed was refused and why. It never
// quotes the record's author, id or text.
type RecordError struct {
	// Index is the record's 0-based position in the feed, counting refused
	// records (and, in CSV, not the header row).
	Index int
	// Line is the 1-based line the record starts on (NDJSON and CSV; 0 for a
	// JSON array).
	Line int
	// Offset is the byte offset of the record in a JSON input (0 for CSV).
	Offset int64
	// Field is the field at fault, "" when it is the record as a whole.
	Field string
	// Msg says what is wrong and what to send instead.
	Msg string
}

// Error implements the error interface.
func (e RecordError) Error() string {
	switch {
	case e.Line > 0:
		return fmt.Sprintf("record %d (line %d): %s", e.Index, e.Line, e.Msg)
	case e.Offset > 0:
		return fmt.Sprintf("record %d (byte %d): %s", e.Index, e.Offset, e.Msg)
	}
	return fmt.Sprintf("record %d: %s", e.Index, e.Msg)
}

// field is one of the names a record's values go by.
type field int

const (
	fSource field = iota
	fKind
	fID
	fTime
	fText
	fTerm
	fAuthor
	fLikes
	fComments
	fShares
	fViews
	fDay
	fCount
	numFields
)

// fieldNames are the fields' names in JSON and in a CSV header.
var fieldNames = [numFields]string{"source", "kind", "id", "time", "text", "term", "author", "likes", "comments", "shares", "views", "day", "count"}

// value is one field of a record as received: its text (a JSON number's
// literal), whether it was given, and whether it was valid UTF-8.
type value struct {
	s       string
	set     bool
	badUTF8 bool
}

// rawRecord is a record's fields before they are checked.
type rawRecord [numFields]value

// given returns v's text without surrounding spaces, and whether it is
// not empty.
func (v value) given() (string, bool) {
	s := strings.TrimSpace(v.s)
	return s, v.set && s != ""
}

// fieldError is why a record was refused.
type fieldError struct {
	field string
	msg   string
}

func refuse(f field, format string, args ...any) *fieldError {
	return &fieldError{field: fieldNames[f], msg: fieldNames[f] + ": " + fmt.Sprintf(format, args...)}
}

// checker turns raw records into Records under one set of options.
type checker struct {
	minAt, maxAt time.Time // zero minAt: no lower bound
}

func newChecker(opt Options) checker {
	now := opt.Now
	if now.IsZero() {
		now = time.Now()
	}
	future := opt.MaxFuture
	if future <= 0 {
		future = DefaultMaxFuture
	}
	c := checker{maxAt: now.Add(future)}
	if opt.MaxAge > 0 {
		c.minAt = now.Add(-opt.MaxAge)
	}
	return c
}

// build checks raw and returns its Record, or why it is refused.
func (c *checker) build(raw *rawRecord) (Record, *fieldError) {
	var rec Record
	for f := range numFields {
		if raw[f].badUTF8 || !utf8.ValidString(raw[f].s) {
			return rec, refuse(f, "not valid UTF-8: send UTF-8 text (in JSON, no lone \\u surrogate escapes)")
		}
	}
	src, ok := raw[fSource].given()
	if !ok {
		return rec, refuse(fSource, "required: name the feed or platform (weibo, douyin, xiaohongshu...)")
	}
	rec.Source = strings.ToLower(src)
	if admeter.ValidSocialSource(rec.Source) != nil {
		return rec, refuse(fSource, "use 1 to %d lowercase letters, digits, _, - or ., starting with a letter (weibo, douyin, xiaohongshu, baidu-index...)", admeter.MaxSocialSource)
	}

	// The text, or the term of a search aggregate.
	text, hasText := raw[fText].s, raw[fText].set && raw[fText].s != ""
	term, hasTerm := raw[fTerm].s, raw[fTerm].set && raw[fTerm].s != ""
	if hasText && hasTerm && text != term {
		return rec, refuse(fTerm, "give text or term (its alias), not both")
	} else if hasTerm {
		text = term
	}
	author, hasAuthor := raw[fAuthor].given()

	if k, ok := raw[fKind].given(); ok {
		rec.Kind = admeter.SocialKind(strings.ToLower(k))
		if !rec.Kind.Valid() {
			return rec, refuse(fKind, "not a kind: use post, comment, repost or search")
		}
	} else if hasTerm && !hasText && !hasAuthor {
		rec.Kind = admeter.SocialSearch
	} else {
		rec.Kind = admeter.SocialPostKind
	}

	counts := [...]struct {
		f   field
		dst *int64
	}{{fLikes, &rec.Likes}, {fComments, &rec.Comments}, {fShares, &rec.Shares}, {fViews, &rec.Views}}
	for _, n := range counts {
		if s, ok := raw[n.f].given(); ok {
			v, err := parseCount(n.f, s)
			if err != nil {
				return rec, err
			}
			*n.dst = v
		}
	}

	if rec.Kind == admeter.SocialSearch {
		return c.search(rec, raw, text, hasAuthor)
	}

	id, ok := raw[fID].given()
	switch {
	case !ok:
		return rec, refuse(fID, "required for a %s: send the partner's record id", rec.Kind)
	case len(id) > MaxIDBytes:
		return rec, refuse(fID, "longer than %d bytes", MaxIDBytes)
	case !hasAuthor:
		return rec, refuse(fAuthor, "required for a %s: send the author's handle", rec.Kind)
	case len(author) > MaxAuthorBytes:
		return rec, refuse(fAuthor, "longer than %d bytes", MaxAuthorBytes)
	}
	if _, ok := raw[fDay].given(); ok {
		return rec, refuse(fDay, "only for search aggregates: give a %s its time", rec.Kind)
	}
	s, ok := raw[fTime].given()
	if !ok {
		return rec, refuse(fTime, "required: send when it was posted (RFC 3339, Unix seconds or milliseconds)")
	}
	at, err := parseTime(s)
	if err != nil {
		return rec, err
	}
	if err := c.window(at); err != nil {
		return rec, err
	}
	rec.ID, rec.Author, rec.At, rec.Text, rec.Count = id, author, at, cut(text, admeter.MaxSocialText), 1
	return rec, nil
}

// search finishes the checks of a search aggregate.
func (c *checker) search(rec Record, raw *rawRecord, term string, hasAuthor bool) (Record, *fieldError) {
	if hasAuthor {
		return rec, refuse(fAuthor, "a search aggregate has no author: leave author empty")
	}
	term = strings.TrimSpace(term)
	if n := utf8.RuneCountInString(term); n == 0 || n > admeter.MaxSocialTerm {
		return rec, refuse(fTerm, "a search aggregate needs a term of 1 to %d characters", admeter.MaxSocialTerm)
	}
	day, hasDay := raw[fDay].given()
	ts, hasTime := raw[fTime].given()
	switch {
	case hasDay:
		t, err := time.ParseInLocation(time.DateOnly, day, chinaTime)
		if err != nil {
			return rec, refuse(fDay, "not a day: use 2006-01-02 (China Standard Time)")
		}
		rec.At = t
		if hasTime {
			t, ferr := parseTime(ts)
			if ferr != nil {
				return rec, ferr
			}
			if startOfDay(t) != rec.At {
				return rec, refuse(fTime, "not on the day given: send day alone")
			}
		}
	case hasTime:
		t, err := parseTime(ts)
		if err != nil {
			return rec, err
		}
		rec.At = startOfDay(t)
	default:
		return rec, refuse(fDay, "required for a search aggregate: use 2006-01-02 (China Standard Time)")
	}
	if err := c.window(rec.At); err != nil {
		return rec, err
	}
	s, ok := raw[fCount].given()
	if !ok {
		return rec, refuse(fCount, "required for a search aggregate: send the number of searches")
	}
	n, err := parseCount(fCount, s)
	if err != nil {
		return rec, err
	}
	if n < 1 {
		return rec, refuse(fCount, "a search aggregate counts at least 1 search")
	}
	rec.Count = n
	rec.At = rec.At.UTC()
	rec.Text = term
	if id, ok := raw[fID].given(); ok {
		if len(id) > MaxIDBytes {
			return rec, refuse(fID, "longer than %d bytes", MaxIDBytes)
		}
		rec.ID = id
	} else {
		rec.ID = term + "\x00" + rec.At.In(chinaTime).Format(time.DateOnly)
	}
	return rec, nil
}

// window checks that at is within the options' bounds.
func (c *checker) window(at time.Time) *fieldError {
	if !c.minAt.IsZero() && at.Before(c.minAt) {
		return refuse(fTime, "%s is older than this feed takes (from %s): drop old records", at.Format(time.RFC3339), c.minAt.UTC().Format(time.RFC3339))
	}
	if at.After(c.maxAt) {
		return refuse(fTime, "%s is in the future: check the time zone (a time without one is China Standard Time)", at.Format(time.RFC3339))
	}
	return nil
}

// startOfDay returns the start of t's day in China Standard Time.
func startOfDay(t time.Time) time.Time {
	y, m, d := t.In(chinaTime).Date()
	return time.Date(y, m, d, 0, 0, 0, 0, chinaTime)
}

// timeLayouts are the layouts of times with a zone, then without one
// (China Standard Time).
var (
	zonedLayouts = []string{time.RFC3339Nano, "2006-01-02 15:04:05Z07:00"}
	localLayouts = []string{time.DateTime, "2006-01-02T15:04:05"}
)

// parseTime reads a record's time: RFC 3339, Unix seconds (with an optional
// fraction) or milliseconds, or a China Standard Time without zone. It
// returns UTC to the millisecond.
func parseTime(s string) (time.Time, *fieldError) {
	if t, ok := parseUnix(s); ok {
		return t.UTC().Truncate(time.Millisecond), nil
	}
	for _, l := range zonedLayouts {
		if t, err := time.Parse(l, s); err == nil {
			return t.UTC().Truncate(time.Millisecond), nil
		}
	}
	for _, l := range localLayouts {
		if t, err := time.ParseInLocation(l, s, chinaTime); err == nil {
			return t.UTC().Truncate(time.Millisecond), nil
		}
	}
	return time.Time{}, refuse(fTime, "not a time: use RFC 3339 (2026-03-01T08:00:00+08:00), Unix seconds or milliseconds, or 2026-03-01 08:00:00 (China Standard Time)")
}

// unixMilliFrom is the smallest number read as Unix milliseconds rather than
// seconds (1e11 seconds is in the year 5138; 1e11 ms in 1973).
const unixMilliFrom = 100_000_000_000

// parseUnix reads digits with an optional fraction as Unix seconds, or as
// milliseconds from unixMilliFrom on.
func parseUnix(s string) (time.Time, bool) {
	whole, frac, _ := strings.Cut(s, ".")
	if whole == "" || len(whole) > 16 || !digits(whole) || !digits(frac) {
		return time.Time{}, false
	}
	n, err := strconv.ParseInt(whole, 10, 64)
	if err != nil {
		return time.Time{}, false
	}
	if n >= unixMilliFrom {
		return time.UnixMilli(n), true
	}
	var ns int64
	for i, scale := 0, int64(100_000_000); i < len(frac) && i < 9; i, scale = i+1, scale/10 {
		ns += int64(frac[i]-'0') * scale
	}
	return time.Unix(n, ns), true
}

// digits reports whether s is ASCII digits only ("" is).
func digits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// parseCount reads a whole number ≥ 0.
func parseCount(f field, s string) (int64, *fieldError) {
	if !digits(s) {
		return 0, refuse(f, "not a count: use a whole number ≥ 0")
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return 0, refuse(f, "too large")
	}
	return n, nil
}

// cut returns s's first n characters.
func cut(s string, n int) string {
	for i := range s {
		if n == 0 {
			return s[:i]
		}
		n--
	}
	return s
}
