package feed

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/admeter/admeter"
	"golang.org/x/text/encoding/simplifiedchinese"
)

// now is the fixed clock of the tests: 2026-03-02 12:00 China Standard Time.
var now = time.Date(2026, 3, 2, 4, 0, 0, 0, time.UTC)

var testOptions = Options{Now: now, MaxAge: 30 * 24 * time.Hour}

// collect parses with parse and returns the records taken.
func collect(t *testing.T, parse func(io.Reader, Options, func(int, Record) error) ([]RecordError, error), in string) ([]Record, []RecordError, error) {
	t.Helper()
	var recs []Record
	errs, err := parse(strings.NewReader(in), testOptions, func(i int, r Record) error {
		checkRecord(t, r, testOptions)
		recs = append(recs, r)
		return nil
	})
	return recs, errs, err
}

// checkRecord fails t unless rec keeps every rule a taken Record keeps.
func checkRecord(t testing.TB, rec Record, opt Options) {
	t.Helper()
	fail := func(format string, args ...any) { t.Errorf("record %+v: "+format, append([]any{rec}, args...)...) }
	if err := admeter.ValidSocialSource(rec.Source); err != nil {
		fail("source: %v", err)
	}
	if !rec.Kind.Valid() {
		fail("kind")
	}
	if rec.At.Location() != time.UTC || rec.At.IsZero() || !rec.At.Equal(rec.At.Truncate(time.Millisecond)) {
		fail("time not UTC to the ms")
	}
	if !opt.Now.IsZero() && (rec.At.After(opt.Now.Add(DefaultMaxFuture)) || opt.MaxAge > 0 && rec.At.Before(opt.Now.Add(-opt.MaxAge))) {
		fail("time outside the window")
	}
	if !utf8.ValidString(rec.Text) || !utf8.ValidString(rec.Author) || !utf8.ValidString(rec.ID) {
		fail("not UTF-8")
	}
	if rec.Likes < 0 || rec.Comments < 0 || rec.Shares < 0 || rec.Views < 0 || rec.Count < 1 {
		fail("counts")
	}
	if rec.Kind.Authored() {
		if rec.Author == "" || len(rec.Author) > MaxAuthorBytes || rec.ID == "" || len(rec.ID) > MaxIDBytes || rec.Count != 1 {
			fail("author, id or count")
		}
		if utf8.RuneCountInString(rec.Text) > admeter.MaxSocialText {
			fail("text too long")
		}
	} else {
		n := utf8.RuneCountInString(rec.Text)
		if rec.Author != "" || n < 1 || n > admeter.MaxSocialTerm || rec.ID == "" {
			fail("search author, term or id")
		}
		if !rec.At.Equal(startOfDay(rec.At)) {
			fail("search time not the start of a day")
		}
	}
}

func TestParseJSON(t *testing.T) {
	at := func(s string) time.Time {
		t, err := time.Parse(time.RFC3339, s)
		if err != nil {
			panic(err)
		}
		return t.UTC()
	}
	post := func(id, ts string) Record {
		return Record{Source: "weibo", Kind: admeter.SocialPostKind, ID: id, At: at(ts), Author: "小王", Text: "好", Count: 1}
	}
	long := strings.Repeat("长", admeter.MaxSocialText+10)
	tests := []struct {
		name     string
		in       string
		want     []Record
		wantErrs []RecordError // Index, Line and Field
		wantErr  string
	}{
		{name: "array", in: `[
			{"source":"weibo","id":"1","time":"2026-03-01T08:00:00+08:00","author":"小王","text":"好"},
			{"source":"Weibo","id":2,"time":1772323200,"author":" 小王 ","text":"好","likes":"3","views":10}
		]`, want: []Record{post("1", "2026-03-01T00:00:00Z"), {Source: "weibo", Kind: "post", ID: "2", At: at("2026-03-01T00:00:00Z"), Author: "小王", Text: "好", Likes: 3, Views: 10, Count: 1}}},
		{name: "ndjson time formats", in: "\n" +
			`{"source":"weibo","id":"a","time":"2026-03-01 08:00:00","author":"小王","text":"好"}` + "\n\n" +
			`{"source":"weibo","id":"b","time":"2026-03-01T08:00:00","author":"小王","text":"好"}` + "\r\n" +
			`{"source":"weibo","id":"c","time":"1772323200000","author":"小王","text":"好"}` + "\n" +
			`{"source":"weibo","id":"d","time":1772323200.5,"author":"小王","text":"好"}` + "\n" +
			`{"source":"weibo","id":"e","time":"2026-03-01T00:00:00.123456Z","author":"小王","text":"好"}`,
			want: []Record{post("a", "2026-03-01T00:00:00Z"), post("b", "2026-03-01T00:00:00Z"), post("c", "2026-03-01T00:00:00Z"), post("d", "2026-03-01T00:00:00.5Z"), post("e", "2026-03-01T00:00:00.123Z")}},
		{name: "search aggregates", in: `{"source":"baidu-index","term":" 新款手机 ","day":"2026-03-01","count":5321}
{"source":"baidu-index","kind":"search","id":"s1","text":"phone","time":"2026-03-01T15:00:00Z","count":"2"}`,
			want: []Record{
				{Source: "baidu-index", Kind: "search", ID: "新款手机\x002026-03-01", At: at("2026-02-28T16:00:00Z"), Text: "新款手机", Count: 5321},
				{Source: "baidu-index", Kind: "search", ID: "s1", At: at("2026-02-28T16:00:00Z"), Text: "phone", Count: 2},
			}},
		{name: "text is cut", in: `{"source":"weibo","id":"1","time":"2026-03-01T08:00:00+08:00","author":"小王","text":"` + long + `"}`,
			want: []Record{{Source: "weibo", Kind: "post", ID: "1", At: at("2026-03-01T00:00:00Z"), Author: "小王", Text: long[:3*admeter.MaxSocialText], Count: 1}}},
		{name: "refused records", in: strings.Join([]string{
			`{"source":"weibo","id":"1","time":"2026-03-01T08:00:00+08:00","text":"好"}`,                            // no author
			`{"source":"weibo","id":"1","time":"2026-01-01T08:00:00+08:00","author":"x","text":"好"}`,               // too old
			`{"source":"weibo","id":"1","time":"2026-03-03T08:00:00+08:00","author":"x","text":"好"}`,               // future
			`{"source":"We!bo","id":"1","time":"2026-03-01T08:00:00+08:00","author":"x"}`,                          // source
			`{"source":"weibo","kind":"like","id":"1","time":"2026-03-01T08:00:00+08:00","author":"x"}`,            // kind
			`{"source":"weibo","id":"1","time":"yesterday","author":"x"}`,                                          // time
			`{"source":"weibo","id":"1","time":"2026-03-01T08:00:00+08:00","author":"x","likes":-1}`,               // count
			`{"source":"weibo","id":"1","time":"2026-03-01T08:00:00+08:00","author":"x","likes":1.5}`,              // count
			`{"source":"weibo","id":"1","time":"2026-03-01T08:00:00+08:00","author":"x","text":"a\ud800b"}`,        // surrogate
			`{"source":"weibo","id":"1","time":"2026-03-01T08:00:00+08:00","author":"x","text":["a"]}`,             // type
			`{"source":"baidu","term":"x","count":0,"day":"2026-03-01"}`,                                           // count
			`{"source":"baidu","kind":"search","term":"x","count":1,"day":"2026-03-01","author":"x"}`,              // author
			`{"source":"baidu","term":"` + strings.Repeat("词", 101) + `","count":1,"day":"2026-03-01"}`,            // term
			`{"source":"weibo","id":"` + strings.Repeat("i", 257) + `","time":"2026-03-01 08:00:00","author":"x"}`, // id
			`42`,
			`{"source":"weibo","id":"1","time":"2026-03-01T08:00:00+08:00","author":"x","text":"a","term":"b"}`, // both
		}, "\n"), wantErrs: []RecordError{
			{Index: 0, Line: 1, Field: "author"}, {Index: 1, Line: 2, Field: "time"}, {Index: 2, Line: 3, Field: "time"},
			{Index: 3, Line: 4, Field: "source"}, {Index: 4, Line: 5, Field: "kind"}, {Index: 5, Line: 6, Field: "time"},
			{Index: 6, Line: 7, Field: "likes"}, {Index: 7, Line: 8, Field: "likes"}, {Index: 8, Line: 9, Field: "text"},
			{Index: 9, Line: 10, Field: "text"}, {Index: 10, Line: 11, Field: "count"}, {Index: 11, Line: 12, Field: "author"},
			{Index: 12, Line: 13, Field: "term"}, {Index: 13, Line: 14, Field: "id"}, {Index: 14, Line: 15}, {Index: 15, Line: 16, Field: "term"},
		}},
		{name: "invalid utf-8", in: "{\"source\":\"weibo\",\"id\":\"1\",\"time\":\"2026-03-01 08:00:00\",\"author\":\"x\",\"text\":\"a\xffb\"}",
			wantErrs: []RecordError{{Index: 0, Line: 1, Field: "text"}}},
		{name: "long line", in: `{"source":"weibo","text":"` + strings.Repeat("a", MaxRecordBytes) + `"}` + "\n" +
			`{"source":"weibo","id":"1","time":"2026-03-01T08:00:00+08:00","author":"小王","text":"好"}`,
			want: []Record{post("1", "2026-03-01T00:00:00Z")}, wantErrs: []RecordError{{Index: 0, Line: 1}}},
		{name: "broken ndjson", in: `{"source":"weibo"}` + "\n" + `{"source":"weibo",` + "\n", wantErrs: []RecordError{{Index: 0, Line: 1, Field: "id"}}, wantErr: "line 2"},
		{name: "broken array", in: `[{"source":"weibo"}, {"source" "x"}]`, wantErrs: []RecordError{{Index: 0, Field: "id"}}, wantErr: "at byte 30"},
		{name: "open array", in: `[{"source":"weibo"}`, wantErrs: []RecordError{{Index: 0, Field: "id"}}, wantErr: "ends early"},
		{name: "after array", in: `[] {}`, wantErr: "after the JSON array"},
		{name: "empty", in: " \n "},
		{name: "bom", in: "\uFEFF[]"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			recs, errs, err := collect(t, ParseJSON, tt.in)
			checkErr(t, err, tt.wantErr)
			checkRecords(t, recs, tt.want)
			checkRecordErrors(t, errs, tt.wantErrs)
		})
	}
}

func checkErr(t *testing.T, err error, want string) {
	t.Helper()
	if want == "" && err != nil || want != "" && (err == nil || !strings.Contains(err.Error(), want)) {
		t.Errorf("error %v, want one with %q", err, want)
	}
}

func checkRecords(t *testing.T, got, want []Record) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("got %d records %+v, want %d", len(got), got, len(want))
	}
	for i := range got {
		if !got[i].At.Equal(want[i].At) {
			t.Errorf("record %d: time %v, want %v", i, got[i].At, want[i].At)
		}
		got[i].At, want[i].At = time.Time{}, time.Time{}
		if got[i] != want[i] {
			t.Errorf("record %d:\n got %+v\nwant %+v", i, got[i], want[i])
		}
	}
}

func checkRecordErrors(t *testing.T, got, want []RecordError) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("got %d record errors %v, want %d", len(got), got, len(want))
	}
	for i := range got {
		if got[i].Index != want[i].Index || got[i].Line != want[i].Line || got[i].Field != want[i].Field || got[i].Msg == "" {
			t.Errorf("record error %d: %+v, want index %d line %d field %q", i, got[i], want[i].Index, want[i].Line, want[i].Field)
		}
	}
}

func TestParseCSV(t *testing.T) {
	at := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	tests := []struct {
		name     string
		in       string
		want     []Record
		wantErrs []RecordError
		wantErr  string
	}{
		{name: "any order, unknown columns, quotes", in: "Text,extra,author,id,Source,time,likes\n" +
			"\"好,看\n第二行\",x,小王,1,weibo,2026-03-01 08:00:00,7\r\n" +
			",,,,,,\n" +
			"他说\"好\",x,小王,2,weibo,1772323200,\n",
			want: []Record{
				{Source: "weibo", Kind: "post", ID: "1", At: at, Author: "小王", Text: "好,看\n第二行", Likes: 7, Count: 1},
				{Source: "weibo", Kind: "post", ID: "2", At: at, Author: "小王", Text: "他说\"好\"", Count: 1},
			}},
		{name: "bom and search", in: "\uFEFFsource,term,day,count\nbaidu-index,新款手机,2026-03-01,12\nbaidu-index,新款手机,2026-03-01,\n",
			want:     []Record{{Source: "baidu-index", Kind: "search", ID: "新款手机\x002026-03-01", At: at.Add(-8 * time.Hour), Text: "新款手机", Count: 12}},
			wantErrs: []RecordError{{Index: 1, Line: 3, Field: "count"}}},
		{name: "refused and lines", in: "source,id,time,author\nweibo,1,2026-03-01 08:00:00,\n\"we\nibo\",1,2026-03-01 08:00:00,x\nweibo,1,2026-03-01 08:00:00,x\n",
			want:     []Record{{Source: "weibo", Kind: "post", ID: "1", At: at, Author: "x", Count: 1}},
			wantErrs: []RecordError{{Index: 0, Line: 2, Field: "author"}, {Index: 1, Line: 3, Field: "source"}}},
		{name: "invalid utf-8 later", in: "source,id,time,author,text\nweibo,1,2026-03-01 08:00:00,x,ok\n" + strings.Repeat("weibo,1,2026-03-01 08:00:00,x,ok\n", 2100) + "weibo,1,2026-03-01 08:00:00,x,\xff\n",
			wantErrs: []RecordError{{Index: 2101, Line: 2103, Field: "text"}}},
		{name: "no source column", in: "id,time\n1,2\n", wantErr: "no source column"},
		{name: "twice", in: "source,Source\n", wantErr: "twice"},
		{name: "open quote", in: "source,text\nweibo,\"abc\n" + strings.Repeat("weibo,abc\n", MaxRecordBytes/2), wantErr: "not closed"},
		{name: "empty", in: ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			recs, errs, err := collect(t, ParseCSV, tt.in)
			checkErr(t, err, tt.wantErr)
			if tt.name != "invalid utf-8 later" {
				checkRecords(t, recs, tt.want)
			}
			checkRecordErrors(t, errs, tt.wantErrs)
		})
	}
}

func TestParseCSVGB18030(t *testing.T) {
	in := "source,id,time,author,text\nweibo,1,2026-03-01 08:00:00,小王,新款真好看😀\n"
	for _, bom := range []string{"", "\uFEFF"} {
		enc, err := simplifiedchinese.GB18030.NewEncoder().String(bom + in)
		if err != nil {
			t.Fatal(err)
		}
		if utf8.ValidString(enc) {
			t.Fatal("the test input is UTF-8")
		}
		recs, errs, err := collect(t, ParseCSV, enc)
		if err != nil || len(errs) > 0 || len(recs) != 1 {
			t.Fatalf("bom %q: %v %v %v", bom, recs, errs, err)
		}
		if recs[0].Text != "新款真好看😀" || recs[0].Author != "小王" {
			t.Errorf("bom %q: %+v", bom, recs[0])
		}
	}
}

func TestParseLimits(t *testing.T) {
	line := `{"source":"weibo","id":"1","time":"2026-03-01 08:00:00","author":"x"}` + "\n"
	t.Run("records", func(t *testing.T) {
		n := 0
		_, err := ParseJSON(strings.NewReader(strings.Repeat(line, MaxRecords+1)), testOptions, func(int, Record) error { n++; return nil })
		if admeter.ErrorCode(err) != admeter.ETOOLARGE || n != MaxRecords {
			t.Errorf("got %d records and %v, want %d and ETOOLARGE", n, err, MaxRecords)
		}
		if _, err := ParseJSON(strings.NewReader(strings.Repeat(line, MaxRecords)), testOptions, nil); err != nil {
			t.Errorf("%d records: %v", MaxRecords, err)
		}
	})
	t.Run("array element", func(t *testing.T) {
		big := `{"source":"weibo","text":"` + strings.Repeat("a", 5*MaxRecordBytes) + `"}`
		_, err := ParseJSON(strings.NewReader("["+big+"]"), testOptions, nil)
		if admeter.ErrorCode(err) != admeter.ETOOLARGE {
			t.Errorf("got %v, want ETOOLARGE", err)
		}
		mid := `{"source":"weibo","text":"` + strings.Repeat("a", 2*MaxRecordBytes) + `"}`
		errs, err := ParseJSON(strings.NewReader("["+mid+","+strings.TrimSpace(line)+"]"), testOptions, nil)
		if err != nil || len(errs) != 1 || errs[0].Index != 0 || errs[0].Offset != 1 {
			t.Errorf("got %v %v, want record 0 refused", errs, err)
		}
	})
	t.Run("fn error", func(t *testing.T) {
		stop := errors.New("stop")
		n := 0
		for name, parse := range map[string]func() error{
			"json": func() error {
				_, err := ParseJSON(strings.NewReader(line+line), testOptions, func(int, Record) error { n++; return stop })
				return err
			},
			"csv": func() error {
				_, err := ParseCSV(strings.NewReader("source,id,time,author\nweibo,1,2026-03-01 08:00:00,x\nweibo,1,2026-03-01 08:00:00,x\n"), testOptions, func(int, Record) error { n++; return stop })
				return err
			},
		} {
			n = 0
			if err := parse(); err != stop || n != 1 {
				t.Errorf("%s: got %v after %d records, want stop after 1", name, err, n)
			}
		}
	})
}

// TestRecordErrorsHideData checks that no refusal quotes a record's author,
// id or text.
func TestRecordErrorsHideData(t *testing.T) {
	const secret = "SECRET_handle_42"
	var b bytes.Buffer
	for _, rec := range []string{
		`{"source":"weibo","id":"%[1]s","time":"nope","author":"%[1]s","text":"%[1]s"}`,
		`{"source":"weibo","id":"%[1]s","time":"2026-03-01 08:00:00","author":"%[1]s%[2]s"}`,
		`{"source":"weibo","id":"%[1]s%[2]s","time":"2026-03-01 08:00:00","author":"%[1]s"}`,
		`{"source":"baidu","term":"%[1]s","day":"2026-03-01","count":0}`,
		`{"source":"baidu","kind":"search","term":"x","day":"2026-03-01","count":1,"author":"%[1]s"}`,
		`{"source":"weibo","id":"1","time":"2026-03-01 08:00:00","author":"%[1]s","text":"%[1]s","term":"x"}`,
		`{"source":"weibo","id":"1","time":"2026-03-01 08:00:00","author":"%[1]s","likes":"-%[1]s"}`,
		`{"source":"%[1]s!","id":"1","time":"2026-03-01 08:00:00","author":"%[1]s"}`,
		`{"source":"weibo","kind":"%[1]s","id":"1","time":"2026-03-01 08:00:00","author":"%[1]s"}`,
		`{"source":"weibo","id":"1","time":"%[1]s","author":"%[1]s"}`,
		`{"source":"baidu","term":"x","day":"%[1]s","count":1}`,
	} {
		fmt.Fprintf(&b, rec+"\n", secret, strings.Repeat("x", 300))
	}
	errs, err := ParseJSON(&b, testOptions, nil)
	if err != nil || len(errs) != 11 {
		t.Fatalf("got %v %v, want 11 refusals", errs, err)
	}
	for _, e := range errs {
		if strings.Contains(e.Error(), "SECRET") {
			t.Errorf("%v quotes the record", e)
		}
	}
}
