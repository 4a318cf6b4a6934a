package feed

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"

	"github.com/admeter/admeter"
)

// parser is the state one ParseJSON or ParseCSV call shares.
type parser struct {
	checker
	fn   func(int, Record) error
	errs []RecordError
	n    int // records seen
}

// next counts a record and refuses to go past MaxRecords.
func (p *parser) next() (int, error) {
	if p.n == MaxRecords {
		return 0, admeter.Errorf(admeter.ETOOLARGE, "feed: more than %d records: split it into smaller files", MaxRecords)
	}
	p.n++
	return p.n - 1, nil
}

// take checks raw and hands it to fn, or notes why it is refused.
func (p *parser) take(raw *rawRecord, at RecordError) error {
	rec, ferr := p.build(raw)
	if ferr != nil {
		at.Field, at.Msg = ferr.field, ferr.msg
		p.errs = append(p.errs, at)
		return nil
	}
	if p.fn == nil {
		return nil
	}
	return p.fn(at.Index, rec)
}

// refuseRecord notes a record refused as a whole.
func (p *parser) refuseRecord(at RecordError, msg string) {
	at.Msg = msg
	p.errs = append(p.errs, at)
}

// ParseJSON reads a feed of JSON records and calls fn with each valid one,
// in order, with its 0-based index. The feed is one JSON array of objects
// when its first character (after spaces and a UTF-8 byte order mark) is
// '[', NDJSON otherwise: one object a line, blank lines skipped. See the
// package documentation for the fields.
//
// A record that is refused becomes a RecordError and parsing goes on. A feed
// that is not JSON ends the parse with an EINVALID error saying where; more
// than MaxRecords records with an ETOOLARGE error; an error of fn or of r
// ends it with that error (r's wrapped). fn may be nil to only check the
// feed. It reads r as a stream and holds one record at a time (at most
// MaxRecordBytes; a JSON array element more than 4×MaxRecordBytes long ends
// the parse).
func ParseJSON(r io.Reader, opt Options, fn func(index int, rec Record) error) ([]RecordError, error) {
	p := &parser{checker: newChecker(opt), fn: fn}
	br := bufio.NewReaderSize(r, MaxRecordBytes+2)
	if bom, _ := br.Peek(3); bytes.Equal(bom, utf8BOM) {
		br.Discard(3)
	}
	// Spaces before the first record: NDJSON counts their lines.
	line, off := 1, int64(0)
	for {
		c, err := br.ReadByte()
		if err == io.EOF {
			return p.errs, nil
		} else if err != nil {
			return p.errs, fmt.Errorf("read feed: %w", err)
		}
		switch c {
		case ' ', '\t', '\r', '\n':
			off++
			if c == '\n' {
				line++
			}
			continue
		case '[':
			return p.errs, p.jsonArray(br, off)
		}
		br.UnreadByte()
		return p.errs, p.ndjson(br, line, off)
	}
}

var utf8BOM = []byte{0xEF, 0xBB, 0xBF}

// ndjson reads one record a line.
func (p *parser) ndjson(br *bufio.Reader, line int, off int64) error {
	for ; ; line++ {
		b, err := br.ReadSlice('\n')
		n := int64(len(b))
		tooLong := false
		for errors.Is(err, bufio.ErrBufferFull) {
			tooLong = true
			b, err = br.ReadSlice('\n')
			n += int64(len(b))
		}
		if err != nil && err != io.EOF {
			return fmt.Errorf("read feed line %d: %w", line, err)
		}
		b = bytes.TrimSpace(b)
		if tooLong || len(b) > 0 {
			i, lerr := p.next()
			if lerr != nil {
				return lerr
			}
			at := RecordError{Index: i, Line: line, Offset: off}
			if tooLong || len(b) > MaxRecordBytes {
				p.refuseRecord(at, fmt.Sprintf("line longer than %d bytes: send one record a line, at most %[1]d bytes", MaxRecordBytes))
			} else if err := p.jsonRecord(b, at, line); err != nil {
				return err
			}
		}
		if err == io.EOF {
			return nil
		}
		off += n
	}
}

// errTooLarge is the error of a limitReader past its limit.
var errTooLarge = errors.New("record too large")

// limitReader fails once more than limit bytes were read from r in all.
type limitReader struct {
	r     io.Reader
	n     int64 // bytes read
	limit int64
}

func (l *limitReader) Read(b []byte) (int, error) {
	if l.n >= l.limit {
		return 0, errTooLarge
	}
	if rest := l.limit - l.n; int64(len(b)) > rest {
		b = b[:rest]
	}
	n, err := l.r.Read(b)
	l.n += int64(n)
	return n, err
}

// jsonArray reads one JSON array of records.
func (p *parser) jsonArray(r io.Reader, base int64) error {
	lr := &limitReader{r: io.MultiReader(strings.NewReader("["), r)}
	dec := json.NewDecoder(lr)
	lr.limit = 4 * MaxRecordBytes
	if _, err := dec.Token(); err != nil { // '['
		return jsonStreamError(err, dec, base)
	}
	for {
		lr.limit = dec.InputOffset() + 4*MaxRecordBytes
		if !dec.More() {
			break
		}
		i, err := p.next()
		if err != nil {
			return err
		}
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return jsonStreamError(err, dec, base)
		}
		start := dec.InputOffset() - int64(len(raw))
		at := RecordError{Index: i, Offset: base + start}
		if len(raw) > MaxRecordBytes {
			p.refuseRecord(at, fmt.Sprintf("longer than %d bytes", MaxRecordBytes))
			continue
		}
		if err := p.jsonRecord(raw, at, 0); err != nil {
			return err
		}
	}
	if _, err := dec.Token(); err != nil { // ']'
		return jsonStreamError(err, dec, base)
	}
	if tok, err := dec.Token(); err != io.EOF {
		if err != nil {
			return jsonStreamError(err, dec, base)
		}
		return admeter.Errorf(admeter.EINVALID, "feed: %v after the JSON array at byte %d: send one array", tok, base+dec.InputOffset())
	}
	return nil
}

// jsonStreamError explains an error of a JSON array's decoder.
func jsonStreamError(err error, dec *json.Decoder, base int64) error {
	var syn *json.SyntaxError
	switch {
	case errors.As(err, &syn):
		return admeter.Errorf(admeter.EINVALID, "feed: not JSON at byte %d: %s", base+syn.Offset, syn.Error())
	case errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF):
		return admeter.Errorf(admeter.EINVALID, "feed: the JSON array ends early (byte %d): close it with ]", base+dec.InputOffset())
	case errors.Is(err, errTooLarge):
		return admeter.Errorf(admeter.ETOOLARGE, "feed: a record from byte %d is longer than %d bytes", base+dec.InputOffset(), 4*MaxRecordBytes)
	}
	var typ *json.UnmarshalTypeError
	if errors.As(err, &typ) {
		return admeter.Errorf(admeter.EINVALID, "feed: byte %d: %s", base+typ.Offset, typ.Error())
	}
	return fmt.Errorf("read feed: %w", err)
}

// jsonFields is a record object's known fields, undecoded.
type jsonFields struct {
	Source   json.RawMessage `json:"source"`
	Kind     json.RawMessage `json:"kind"`
	ID       json.RawMessage `json:"id"`
	Time     json.RawMessage `json:"time"`
	Text     json.RawMessage `json:"text"`
	Term     json.RawMessage `json:"term"`
	Author   json.RawMessage `json:"author"`
	Likes    json.RawMessage `json:"likes"`
	Comments json.RawMessage `json:"comments"`
	Shares   json.RawMessage `json:"shares"`
	Views    json.RawMessage `json:"views"`
	Day      json.RawMessage `json:"day"`
	Count    json.RawMessage `json:"count"`
}

// jsonRecord decodes and takes one record. Broken JSON on an NDJSON line
// (line > 0) ends the parse.
func (p *parser) jsonRecord(b []byte, at RecordError, line int) error {
	if b[0] != '{' {
		if line > 0 && !json.Valid(b) {
			return ndjsonSyntaxError(b, line)
		}
		p.refuseRecord(at, "not a JSON object: send each record as {\"source\": ..., ...}")
		return nil
	}
	var f jsonFields
	if err := json.Unmarshal(b, &f); err != nil {
		if line > 0 {
			return ndjsonSyntaxError(b, line)
		}
		p.refuseRecord(at, "not a JSON object") // not reached: the decoder checked it
		return nil
	}
	var raw rawRecord
	for i, m := range [numFields]json.RawMessage{f.Source, f.Kind, f.ID, f.Time, f.Text, f.Term, f.Author, f.Likes, f.Comments, f.Shares, f.Views, f.Day, f.Count} {
		v, ok := jsonValue(m)
		if !ok {
			at.Field = fieldNames[i]
			p.refuseRecord(at, fieldNames[i]+": give a string or a number")
			return nil
		}
		raw[i] = v
	}
	return p.take(&raw, at)
}

// ndjsonSyntaxError says where an NDJSON line is not JSON.
func ndjsonSyntaxError(b []byte, line int) error {
	var v any
	err := json.Unmarshal(b, &v)
	var syn *json.SyntaxError
	if errors.As(err, &syn) {
		return admeter.Errorf(admeter.EINVALID, "feed line %d: not JSON at column %d: %s: send one JSON object a line", line, syn.Offset, syn.Error())
	}
	return admeter.Errorf(admeter.EINVALID, "feed line %d: not JSON: send one JSON object a line", line)
}

// jsonValue reads a field: a string, a number (its literal), or null and
// absent (not set). It reports false for other JSON types.
func jsonValue(m json.RawMessage) (value, bool) {
	if len(m) == 0 || string(m) == "null" {
		return value{}, true
	}
	switch c := m[0]; {
	case c == '"':
		if !utf8.Valid(m) || loneSurrogate(m) {
			return value{set: true, badUTF8: true}, true
		}
		if bytes.IndexByte(m, '\\') < 0 {
			return value{s: string(m[1 : len(m)-1]), set: true}, true
		}
		var s string
		if err := json.Unmarshal(m, &s); err != nil {
			return value{}, false
		}
		return value{s: s, set: true}, true
	case c == '-' || c >= '0' && c <= '9':
		return value{s: string(m), set: true}, true
	}
	return value{}, false
}

// loneSurrogate reports whether a JSON string has a \u escape of half a
// UTF-16 surrogate pair without its other half (which encoding/json would
// silently turn into U+FFFD).
func loneSurrogate(m []byte) bool {
	for i := 0; i < len(m)-1; i++ {
		if m[i] != '\\' {
			continue
		}
		if m[i+1] != 'u' {
			i++ // an escaped character, maybe a backslash
			continue
		}
		r, ok := hex4(m[i+2:])
		if !ok {
			return false // not JSON: the decoder says so
		}
		switch {
		case r >= 0xDC00 && r <= 0xDFFF:
			return true
		case r >= 0xD800 && r <= 0xDBFF:
			if len(m) < i+12 || m[i+6] != '\\' || m[i+7] != 'u' {
				return true
			}
			lo, ok := hex4(m[i+8:])
			if !ok || lo < 0xDC00 || lo > 0xDFFF {
				return true
			}
			i += 11
		default:
			i += 5
		}
	}
	return false
}

// hex4 reads four hex digits.
func hex4(b []byte) (rune, bool) {
	if len(b) < 4 {
		return 0, false
	}
	var r rune
	for _, c := range b[:4] {
		switch {
		case c >= '0' && c <= '9':
			c -= '0'
		case c >= 'a' && c <= 'f':
			c -= 'a' - 10
		case c >= 'A' && c <= 'F':
			c -= 'A' - 10
		default:
			return 0, false
		}
		r = r<<4 | rune(c)
	}
	return r, true
}
