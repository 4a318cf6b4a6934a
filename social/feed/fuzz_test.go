package feed

import (
	"io"
	"strings"
	"testing"
	"unicode/utf8"
)

func FuzzParseJSON(f *testing.F) {
	for _, s := range []string{
		`[{"source":"weibo","id":"1","time":"2026-03-01T08:00:00+08:00","author":"小王","text":"好 @张三 13812345678","likes":3}]`,
		`{"source":"weibo","kind":"repost","id":"2","time":1772323200,"author":"u","text":"转发微博"}` + "\n" +
			`{"source":"baidu-index","term":"新款手机","day":"2026-03-01","count":"12"}`,
		`{"source":"weibo","id":"1","time":"2026-03-01 08:00:00","author":"x","text":"a\ud800b"}`,
		`[{"source":"weibo"}, 1, null, "x", {"time":1772323200000}]`,
		`{"source":"douyin","kind":"comment","id":3,"time":"1772323200.25","author":"y","views":"9"}`,
		"\uFEFF[]", "[", `{"a":`, "",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		checkParse(t, in, ParseJSON)
	})
}

func FuzzParseCSV(f *testing.F) {
	for _, s := range []string{
		"source,kind,id,time,author,text,likes\nweibo,post,1,2026-03-01 08:00:00,小王,\"好,看\",3\n",
		"\uFEFFsource,term,day,count\nbaidu-index,新款手机,2026-03-01,12\n",
		"Text,source,time,id,author\n他说\"好\",weibo,1772323200,1,x\n",
		"source,id\n\"a\n", "source\n", "",
		"source,id,time,author,text\nweibo,1,2026-03-01 08:00:00,\xd0\xa1\xcd\xf5,\xba\xc3\n",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		checkParse(t, in, ParseCSV)
	})
}

// checkParse runs parse on in: it must not panic, must hand over only
// valid records, and must number records and refusals in increasing order.
func checkParse(t *testing.T, in string, parse func(r io.Reader, opt Options, fn func(int, Record) error) ([]RecordError, error)) {
	var seen []int
	errs, _ := parse(strings.NewReader(in), testOptions, func(i int, rec Record) error {
		checkRecord(t, rec, testOptions)
		seen = append(seen, i)
		return nil
	})
	for _, e := range errs {
		seen = append(seen, e.Index)
		if e.Msg == "" {
			t.Errorf("refusal without a message: %+v", e)
		}
	}
	idx := map[int]bool{}
	for _, i := range seen {
		if idx[i] || i < 0 || i >= MaxRecords {
			t.Fatalf("index %d twice or out of range", i)
		}
		idx[i] = true
	}
}

func FuzzRedact(f *testing.F) {
	for _, tt := range []string{
		"@张三 电话13812345678，邮箱a.b@qq.com，身份证11010519491231002X",
		"卡号 6222 0212 3456 7890 123 链接 https://t.cn/abc www.x.com",
		"同意//@小王:说得对 +86 138-1234-5678 010-12345678 １３８１２３４５６７８",
		"12999元 20261201 SF1234567890 ＠王五 ＋8613812345678",
	} {
		f.Add(tt)
	}
	f.Fuzz(func(t *testing.T, in string) {
		out := Redact(in)
		if utf8.ValidString(in) && !utf8.ValidString(out) {
			t.Fatalf("Redact(%q) = %q: not UTF-8", in, out)
		}
		if again := Redact(out); again != out {
			t.Fatalf("not idempotent: %q → %q → %q", in, out, again)
		}
	})
}
