package feed

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"

	"github.com/admeter/admeter"
	"golang.org/x/text/encoding/simplifiedchinese"
	"golang.org/x/text/transform"
)

// ParseCSV reads a feed of CSV records and calls fn with each valid one, in
// order, with its 0-based index (the header row not counted). The first row
// names the columns with the JSON field names, in any order and any case;
// unknown columns are ignored and an empty cell is an absent field. Rows
// whose cells are all empty are skipped. The input is UTF-8, with or
// without a byte order mark, or GB18030 (and so GBK, as Excel saves CSV on
// Chinese Windows): GB18030 when it starts with GB18030's byte order mark or
// its first 64 KiB are not UTF-8.
//
// Errors are as for ParseJSON: a refused record becomes a RecordError and
// parsing goes on; CSV that cannot be read (a quoted cell never closed, a
// header without a source column) ends the parse with an EINVALID error
// saying where.
func ParseCSV(r io.Reader, opt Options, fn func(index int, rec Record) error) ([]RecordError, error) {
	p := &parser{checker: newChecker(opt), fn: fn}
	in, err := textReader(r)
	if err != nil {
		return nil, err
	}
	lr := &limitReader{r: in, limit: 4 * MaxRecordBytes}
	cr := csv.NewReader(lr)
	cr.FieldsPerRecord = -1
	cr.LazyQuotes = true // 他说"好" in an unquoted cell
	cr.ReuseRecord = true

	head, err := cr.Read()
	if err == io.EOF {
		return nil, nil
	} else if err != nil {
		return nil, csvStreamError(err, 1)
	}
	cols, err := header(head)
	if err != nil {
		return nil, err
	}
	for {
		start := cr.InputOffset()
		lr.limit = start + 4*MaxRecordBytes
		row, err := cr.Read()
		if err == io.EOF {
			return p.errs, nil
		} else if err != nil {
			line, _ := cr.FieldPos(0)
			return p.errs, csvStreamError(err, line)
		}
		if blank(row) {
			continue
		}
		i, err := p.next()
		if err != nil {
			return p.errs, err
		}
		line, _ := cr.FieldPos(0)
		at := RecordError{Index: i, Line: line}
		if cr.InputOffset()-start > MaxRecordBytes {
			p.refuseRecord(at, fmt.Sprintf("row longer than %d bytes", MaxRecordBytes))
			continue
		}
		var raw rawRecord
		for f, c := range cols {
			if c >= 0 && c < len(row) && row[c] != "" {
				raw[f] = value{s: row[c], set: true}
			}
		}
		if err := p.take(&raw, at); err != nil {
			return p.errs, err
		}
	}
}

// header maps each field to its column in the header row, -1 when absent.
func header(head []string) ([numFields]int, error) {
	var cols [numFields]int
	for i := range cols {
		cols[i] = -1
	}
	for c, name := range head {
		if c == 0 {
			name = strings.TrimPrefix(name, "\uFEFF")
		}
		name = strings.ToLower(strings.TrimSpace(name))
		for f, n := range fieldNames {
			if name != n {
				continue
			}
			if cols[f] >= 0 {
				return cols, admeter.Errorf(admeter.EINVALID, "feed header row: column %s is there twice: keep one", n)
			}
			cols[f] = c
		}
	}
	if cols[fSource] < 0 {
		return cols, admeter.Errorf(admeter.EINVALID, "feed header row: no source column: the first row names the columns (%s)", strings.Join(fieldNames[:], ", "))
	}
	return cols, nil
}

// blank reports whether every cell of row is empty or spaces.
func blank(row []string) bool {
	for _, c := range row {
		if strings.TrimSpace(c) != "" {
			return false
		}
	}
	return true
}

// csvStreamError explains an error of the CSV reader.
func csvStreamError(err error, line int) error {
	var pe *csv.ParseError
	switch {
	case errors.Is(err, errTooLarge):
		return admeter.Errorf(admeter.ETOOLARGE, "feed line %d: a row is longer than %d bytes (a quoted cell not closed?)", line, 4*MaxRecordBytes)
	case errors.As(err, &pe):
		return admeter.Errorf(admeter.EINVALID, "feed line %d, column %d: %v: quote cells with \"…\" and double the quotes inside them", pe.Line, pe.Column, pe.Err)
	}
	return fmt.Errorf("read feed: %w", err)
}

// gb18030BOM is GB18030's encoding of U+FEFF.
var gb18030BOM = []byte{0x84, 0x31, 0x95, 0x33}

// textReader returns r as UTF-8 without a byte order mark: r itself, or r
// decoded from GB18030.
func textReader(r io.Reader) (io.Reader, error) {
	br := bufio.NewReaderSize(r, 64<<10)
	head, err := br.Peek(64 << 10)
	if err != nil && err != io.EOF && !errors.Is(err, bufio.ErrBufferFull) {
		return nil, fmt.Errorf("read feed: %w", err)
	}
	switch {
	case bytes.HasPrefix(head, utf8BOM):
		br.Discard(len(utf8BOM))
		return br, nil
	case bytes.HasPrefix(head, gb18030BOM):
		br.Discard(len(gb18030BOM))
		return transform.NewReader(br, simplifiedchinese.GB18030.NewDecoder()), nil
	}
	if err == nil { // the peek may end inside a character
		i := len(head) - 1
		for i > 0 && i > len(head)-utf8.UTFMax && !utf8.RuneStart(head[i]) {
			i--
		}
		if i >= 0 && !utf8.FullRune(head[i:]) {
			head = head[:i]
		}
	}
	if utf8.Valid(head) {
		return br, nil
	}
	return transform.NewReader(br, simplifiedchinese.GB18030.NewDecoder()), nil
}
