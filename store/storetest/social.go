package storetest

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/admeter/admeter"
	"github.com/admeter/admeter/store"
)

// DefaultSource is the source of a social record built without the
// [PostSource] option.
const DefaultSource = "weibo"

// PostOpt changes a social record made by [Post] or [Search]. Any
// func(*admeter.SocialPost) converts to it.
type PostOpt func(*admeter.SocialPost)

// PostID returns the pseudonym of test social record id n (n > 0):
// distinct n give distinct pseudonyms, none zero and none equal to a
// [UserID].
func PostID(n int) admeter.Pseudonym { return pseudonym(0x50, n) }

// Post returns a valid original post: id [PostID](n), by test user author
// ([UserID]), at at (also its receive time), of the default tenant and
// source, with text "post n", count 1 and key version 1, changed by opts in
// order.
func Post(n int, at time.Time, author int, opts ...PostOpt) admeter.SocialPost {
	p := admeter.SocialPost{
		Tenant:     DefaultTenant,
		Source:     DefaultSource,
		Kind:       admeter.SocialPostKind,
		ID:         PostID(n),
		At:         at.UTC(),
		Received:   at.UTC(),
		Text:       fmt.Sprintf("post %d", n),
		Count:      1,
		Author:     UserID(author),
		KeyVersion: 1,
	}
	for _, o := range opts {
		o(&p)
	}
	return p
}

// Search returns a valid search aggregate: id [PostID](n), count searches
// of term on the day that starts at day, of the default tenant, with
// source "baidu-index" and key version 1, changed by opts in order.
func Search(n int, day time.Time, term string, count int64, opts ...PostOpt) admeter.SocialPost {
	p := admeter.SocialPost{
		Tenant:     DefaultTenant,
		Source:     "baidu-index",
		Kind:       admeter.SocialSearch,
		ID:         PostID(n),
		At:         day.UTC(),
		Received:   day.UTC(),
		Text:       term,
		Count:      count,
		KeyVersion: 1,
	}
	for _, o := range opts {
		o(&p)
	}
	return p
}

// PostTenant sets the record's tenant.
func PostTenant(id admeter.TenantID) PostOpt { return func(p *admeter.SocialPost) { p.Tenant = id } }

// PostSource sets the record's source.
func PostSource(s string) PostOpt { return func(p *admeter.SocialPost) { p.Source = s } }

// PostKind sets the record's kind (an authored kind: post, comment or
// repost).
func PostKind(k admeter.SocialKind) PostOpt { return func(p *admeter.SocialPost) { p.Kind = k } }

// PostText sets the record's text.
func PostText(s string) PostOpt { return func(p *admeter.SocialPost) { p.Text = s } }

// PostKeyVersion sets the version of the key the record's pseudonyms were
// made with (1 by default).
func PostKeyVersion(v uint32) PostOpt { return func(p *admeter.SocialPost) { p.KeyVersion = v } }

// PostReceived sets the record's receive time.
func PostReceived(t time.Time) PostOpt { return func(p *admeter.SocialPost) { p.Received = t.UTC() } }

// InsertPosts inserts social records and fails t unless the call succeeds
// and reports want new records.
func InsertPosts(t testing.TB, s store.Store, want int, posts ...admeter.SocialPost) {
	t.Helper()
	n, err := s.InsertPosts(context.Background(), posts)
	if err != nil || n != want {
		t.Fatalf("InsertPosts(%d records) = %d, %v; want %d", len(posts), n, err, want)
	}
}

// GenPosts returns n reproducible, valid social records of tenant
// (DefaultTenant when empty) from seed, for benchmarks: the i-th at
// start + i*step, with distinct ids; about 60% posts, 25% comments, 10%
// reposts and 5% search aggregates, across three sources and 10 000
// authors, with Chinese text of 20 to 140 characters and every other
// field filled.
func GenPosts(seed uint64, tenant admeter.TenantID, n int, start time.Time, step time.Duration) []admeter.SocialPost {
	if tenant == "" {
		tenant = DefaultTenant
	}
	r := rand.New(rand.NewPCG(seed, seed^0x50c1a1))
	words := []string{"新品", "发布", "好用", "太贵了", "推荐", "口红", "手机", "续航", "客服", "物流", "😀", "👍", "真的", "不错", "失望", "回购"}
	sources := []string{"weibo", "douyin", "xiaohongshu"}
	out := make([]admeter.SocialPost, n)
	var b strings.Builder
	for i := range out {
		at := start.Add(time.Duration(i) * step).UTC()
		p := admeter.SocialPost{
			Tenant: tenant, Source: sources[r.IntN(len(sources))], ID: pseudonym(0x47, i+1),
			At: at, Received: at.Add(time.Duration(r.IntN(60_000)) * time.Millisecond).Truncate(time.Millisecond),
			Count: 1, KeyVersion: 1,
		}
		switch k := r.IntN(100); {
		case k < 60:
			p.Kind = admeter.SocialPostKind
		case k < 85:
			p.Kind = admeter.SocialComment
		case k < 95:
			p.Kind = admeter.SocialRepost
		default:
			p.Kind, p.Source, p.Count = admeter.SocialSearch, "baidu-index", 1+r.Int64N(100_000)
		}
		b.Reset()
		for range 5 + r.IntN(30) {
			b.WriteString(words[r.IntN(len(words))])
		}
		p.Text = b.String()
		if p.Kind.Authored() {
			p.Author = UserID(1 + r.IntN(10_000))
			p.Likes, p.Comments, p.Shares, p.Views = r.Int64N(1000), r.Int64N(100), r.Int64N(100), r.Int64N(100_000)
			p.Sentiment = float32(r.Float64()*2 - 1)
			p.Fingerprint = r.Uint64()
			for j := range p.ExactKey {
				p.ExactKey[j] = byte(r.Uint32())
			}
		}
		out[i] = p
	}
	return out
}

// scanPosts runs ScanPosts and returns copies of the records it passed,
// failing t on error.
func scanPosts(t *testing.T, s store.Store, q store.PostQuery) []admeter.SocialPost {
	t.Helper()
	var got []admeter.SocialPost
	err := s.ScanPosts(context.Background(), q, func(p *admeter.SocialPost) error {
		got = append(got, *p)
		return nil
	})
	if err != nil {
		t.Fatalf("ScanPosts(%s): %v", describePosts(q), err)
	}
	return got
}

// checkScan runs ScanPosts and compares the records with want, in order,
// field by field (times by instant, in UTC).
func checkScan(t *testing.T, s store.Store, q store.PostQuery, want ...admeter.SocialPost) {
	t.Helper()
	comparePosts(t, "ScanPosts("+describePosts(q)+")", scanPosts(t, s, q), want)
}

// checkUserPosts runs UserPosts and compares the result with want.
func checkUserPosts(t *testing.T, s store.Store, tenant admeter.TenantID, authors []admeter.Pseudonym, limit int, want []admeter.SocialPost, wantMore bool) {
	t.Helper()
	what := fmt.Sprintf("UserPosts(%s, %d authors, %d)", tenant, len(authors), limit)
	got, more, err := s.UserPosts(context.Background(), tenant, authors, limit)
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	if more != wantMore {
		t.Errorf("%s: truncated %v, want %v", what, more, wantMore)
	}
	comparePosts(t, what, got, want)
}

// comparePosts compares records with want, in order.
func comparePosts(t *testing.T, what string, got, want []admeter.SocialPost) {
	t.Helper()
	if len(got) != len(want) {
		t.Errorf("%s: %d records, want %d:\ngot:\n%swant:\n%s", what, len(got), len(want), formatPosts(got), formatPosts(want))
		return
	}
	for i := range want {
		if !samePost(got[i], want[i]) {
			t.Errorf("%s: record %d:\ngot  %+v\nwant %+v", what, i, got[i], want[i])
		}
	}
}

// samePost reports whether a and b are equal, their times compared as
// instants, which must be in UTC.
func samePost(a, b admeter.SocialPost) bool {
	if !a.At.Equal(b.At) || !a.Received.Equal(b.Received) || a.At.Location() != time.UTC || a.Received.Location() != time.UTC {
		return false
	}
	a.At, a.Received, b.At, b.Received = time.Time{}, time.Time{}, time.Time{}, time.Time{}
	return a == b
}

func formatPosts(posts []admeter.SocialPost) string {
	var b strings.Builder
	for _, p := range posts {
		fmt.Fprintf(&b, "  %s %s %s/%s id %s author %s %q\n", p.At.Format(time.RFC3339Nano), p.Kind, p.Tenant, p.Source, p.ID.Hex(), p.Author, clip(p.Text))
	}
	return b.String()
}

func clip(s string) string {
	if r := []rune(s); len(r) > 20 {
		return string(r[:20]) + "…"
	}
	return s
}

func describePosts(q store.PostQuery) string {
	return fmt.Sprintf("%s [%s, %s) sources %q kinds %q", q.Tenant, q.From.Format(time.RFC3339Nano), q.To.Format(time.RFC3339Nano), q.Sources, q.Kinds)
}

// byTimeThenID orders records as ScanPosts does.
func byTimeThenID(a, b admeter.SocialPost) int {
	return cmp.Or(a.At.Compare(b.At), bytes.Compare(a.ID[:], b.ID[:]))
}

// allPosts is a query of the default tenant's records of 2020 to 2040.
func allPosts() store.PostQuery {
	return store.PostQuery{Tenant: DefaultTenant, From: utc("2020-01-01T00:00:00Z"), To: utc("2040-01-01T00:00:00Z")}
}

// testSocialRoundTrip: every field of every kind of record comes back as
// it was stored (times in UTC to the millisecond, text with Chinese,
// emoji, quotes and newlines, the longest text, unsigned values with the
// high bit set, a float32 sentiment, a search aggregate without author).
func testSocialRoundTrip(t *testing.T, s store.Store) {
	at := utc("2026-03-02T10:00:00.123Z")
	long := strings.Repeat("长文😀", admeter.MaxSocialText/3) + strings.Repeat("。", admeter.MaxSocialText%3) // exactly the most kept
	full := Post(1, at, 1, PostReceived(at.Add(90*time.Minute+7*time.Millisecond)), PostKeyVersion(1<<31+5), func(p *admeter.SocialPost) {
		p.Text = "新品口红太好看了！😍👍 \"quoted\" 'single' \\ back\nnew line\ttab #话题# [占位]"
		p.Likes, p.Comments, p.Shares, p.Views = 1<<40+3, 12, 7, 9_876_543_210
		p.Sentiment = -0.73
		p.ExactKey = [16]byte{0xff, 0x00, 0x80, 0x7f, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 0xfe}
		p.Fingerprint = 0xfedcba9876543210
	})
	comment := Post(2, at.Add(time.Millisecond), 2, PostKind(admeter.SocialComment), PostSource("xiaohongshu"), PostText(long), func(p *admeter.SocialPost) {
		p.Sentiment, p.Fingerprint = 1, 1
	})
	repost := Post(3, at.Add(time.Second), 1, PostKind(admeter.SocialRepost), PostSource("douyin"), PostText(""), func(p *admeter.SocialPost) {
		p.Sentiment = -1
	})
	search := Search(4, utc("2026-03-01T16:00:00Z"), "口红 推荐", 1<<33, PostReceived(utc("2026-03-03T01:02:03.004Z")), PostKeyVersion(2))
	for _, p := range []admeter.SocialPost{full, comment, repost, search} {
		if err := p.Validate(); err != nil {
			t.Fatalf("test record %s: %v", p.ID.Hex(), err)
		}
	}
	InsertPosts(t, s, 4, repost, full, search, comment)
	checkScan(t, s, allPosts(), search, full, comment, repost)
	checkUserPosts(t, s, DefaultTenant, []admeter.Pseudonym{UserID(1), UserID(2)}, 10, []admeter.SocialPost{full, comment, repost}, false)
	InsertPosts(t, s, 0)
}

// testSocialIdempotent: a record whose (tenant, source, id) is stored is
// skipped, in a later call and within one call (the first one wins), and
// the count says how many were new; the same id under another source or
// tenant is another record.
func testSocialIdempotent(t *testing.T, s store.Store) {
	at := utc("2026-03-02T10:00:00Z")
	p1 := Post(1, at, 1, PostText("first"))
	InsertPosts(t, s, 1, p1)
	InsertPosts(t, s, 0, p1)
	again := Post(1, at.Add(time.Hour), 2, PostText("second"), PostKind(admeter.SocialComment))
	p2 := Post(2, at.Add(time.Minute), 1)
	InsertPosts(t, s, 1, again, p2)
	// Within one call: the first of two copies is stored.
	p3a, p3b := Post(3, at.Add(2*time.Minute), 3, PostText("a")), Post(3, at.Add(3*time.Minute), 3, PostText("b"))
	InsertPosts(t, s, 2, p3a, Post(4, at.Add(4*time.Minute), 4), p3b, p3a)
	// The same id from another source or of another tenant is new.
	other := Post(1, at.Add(5*time.Minute), 1, PostSource("douyin"))
	t2 := Post(1, at.Add(6*time.Minute), 1, PostTenant("t2"))
	InsertPosts(t, s, 2, other, t2, p1)
	InsertPosts(t, s, 0, other, t2)

	checkScan(t, s, allPosts(), p1, p2, p3a, Post(4, at.Add(4*time.Minute), 4), other)
	q := allPosts()
	q.Tenant = "t2"
	checkScan(t, s, q, t2)
}

// testSocialInvalid: a batch with an invalid record fails with EINVALID
// and stores nothing, not even its valid records.
func testSocialInvalid(t *testing.T, s store.Store) {
	ctx := context.Background()
	at := utc("2026-03-02T10:00:00Z")
	good := Post(1, at, 1)
	for _, tc := range []struct {
		name string
		opt  PostOpt
	}{
		{"no tenant", PostTenant("")},
		{"no source", PostSource("")},
		{"bad source", PostSource("Weibo")},
		{"bad kind", PostKind("tweet")},
		{"no id", func(p *admeter.SocialPost) { p.ID = admeter.Pseudonym{} }},
		{"no time", func(p *admeter.SocialPost) { p.At = time.Time{} }},
		{"no receive time", func(p *admeter.SocialPost) { p.Received = time.Time{} }},
		{"no author", func(p *admeter.SocialPost) { p.Author = admeter.Pseudonym{} }},
		{"search with author", PostKind(admeter.SocialSearch)},
		{"negative likes", func(p *admeter.SocialPost) { p.Likes = -1 }},
		{"zero count", func(p *admeter.SocialPost) { p.Count = 0 }},
		{"sentiment above 1", func(p *admeter.SocialPost) { p.Sentiment = 1.5 }},
		{"invalid UTF-8", PostText("bad \xff text")},
		{"text too long", PostText(strings.Repeat("字", admeter.MaxSocialText+1))},
	} {
		bad := Post(2, at, 2, tc.opt)
		if n, err := s.InsertPosts(ctx, []admeter.SocialPost{good, bad}); admeter.ErrorCode(err) != admeter.EINVALID || n != 0 {
			t.Errorf("%s: InsertPosts = %d, %v; want 0, EINVALID", tc.name, n, err)
		}
	}
	checkScan(t, s, allPosts())
	checkUserPosts(t, s, DefaultTenant, []admeter.Pseudonym{UserID(1)}, 10, nil, false)
	InsertPosts(t, s, 1, good)
	checkScan(t, s, allPosts(), good)
}

// testSocialScan: ScanPosts passes a tenant's records in [From, To) in
// order of time, then of id bytes, of the sources and kinds asked for
// when the query names some; never another tenant's.
func testSocialScan(t *testing.T, s store.Store) {
	at := utc("2026-03-02T10:00:00Z")
	// Ids that differ in their first, middle and last bytes, with the high
	// bit set or not: they order as bytes, not as signed numbers or halves.
	id := func(b ...byte) PostOpt {
		return func(p *admeter.SocialPost) {
			p.ID = admeter.Pseudonym{}
			for i := 0; i+1 < len(b); i += 2 {
				p.ID[b[i]] = b[i+1]
			}
		}
	}
	same := []admeter.SocialPost{
		Post(0, at, 1, id(0, 0x80)),
		Post(0, at, 1, id(0, 0x7f, 15, 0xff)),
		Post(0, at, 1, id(0, 0x01)),
		Post(0, at, 1, id(0, 0x01, 8, 0x01)),
		Post(0, at, 1, id(0, 0x01, 7, 0x01)),
		Post(0, at, 1, id(0, 0xff)),
		Post(0, at, 1, id(15, 0x01)),
		Post(0, at, 1, id(8, 0x80)),
	}
	before := Post(10, at.Add(-time.Millisecond), 2)
	comment := Post(11, at.Add(time.Millisecond), 3, PostKind(admeter.SocialComment), PostSource("douyin"))
	repost := Post(12, at.Add(time.Hour), 3, PostKind(admeter.SocialRepost))
	search := Search(13, at.Add(2*time.Hour), "口红", 50)
	end := Post(14, at.Add(3*time.Hour), 4, PostSource("xiaohongshu"))
	other := Post(15, at, 1, PostTenant("t2"))
	all := append(slices.Clone(same), before, comment, repost, search, end)
	InsertPosts(t, s, len(all)+1, append([]admeter.SocialPost{other}, all...)...)
	slices.SortFunc(all, byTimeThenID)
	checkScan(t, s, allPosts(), all...)

	q := store.PostQuery{Tenant: DefaultTenant, From: at, To: at.Add(3 * time.Hour)}
	checkScan(t, s, q, all[1:len(all)-1]...)
	q.From, q.To = at.Add(time.Millisecond), at.Add(2*time.Hour+time.Millisecond)
	checkScan(t, s, q, comment, repost, search)
	q.To = q.From
	checkScan(t, s, q)

	q = allPosts()
	q.Sources = []string{"douyin", "xiaohongshu", "nowhere"}
	checkScan(t, s, q, comment, end)
	q.Sources = []string{"nowhere"}
	checkScan(t, s, q)
	q.Sources = nil
	q.Kinds = []admeter.SocialKind{admeter.SocialRepost, admeter.SocialSearch}
	checkScan(t, s, q, repost, search)
	q.Kinds = []admeter.SocialKind{admeter.SocialComment, admeter.SocialPostKind}
	q.Sources = []string{DefaultSource, "douyin"}
	want := slices.DeleteFunc(slices.Clone(all), func(p admeter.SocialPost) bool {
		return p.Kind == admeter.SocialRepost || p.Kind == admeter.SocialSearch || p.Source == "xiaohongshu"
	})
	checkScan(t, s, q, want...)

	q = allPosts()
	q.Tenant = "t2"
	checkScan(t, s, q, other)
	q.Tenant = "t9"
	checkScan(t, s, q)
}

// testSocialScanStop: ScanPosts stops at fn's first error and returns it;
// an invalid query is EINVALID and calls fn never.
func testSocialScanStop(t *testing.T, s store.Store) {
	ctx := context.Background()
	at := utc("2026-03-02T10:00:00Z")
	for i := range 50 {
		InsertPosts(t, s, 1, Post(i+1, at.Add(time.Duration(i)*time.Second), i+1))
	}
	stop := errors.New("enough")
	calls := 0
	err := s.ScanPosts(ctx, allPosts(), func(p *admeter.SocialPost) error {
		calls++
		if calls == 3 {
			return stop
		}
		return nil
	})
	if !errors.Is(err, stop) || calls != 3 {
		t.Errorf("ScanPosts with fn failing at the 3rd record: %v after %d calls, want %v after 3", err, calls, stop)
	}
	for _, q := range []store.PostQuery{
		{From: at, To: at.Add(time.Hour)},
		{Tenant: DefaultTenant, To: at},
		{Tenant: DefaultTenant, From: at},
		{Tenant: DefaultTenant, From: at, To: at.Add(-time.Millisecond)},
	} {
		err := s.ScanPosts(ctx, q, func(*admeter.SocialPost) error {
			t.Errorf("ScanPosts(%s) passed a record", describePosts(q))
			return nil
		})
		if admeter.ErrorCode(err) != admeter.EINVALID {
			t.Errorf("ScanPosts(%s): %v, want EINVALID", describePosts(q), err)
		}
	}
}

// testSocialUserPosts: an access request returns the tenant's records of
// those authors, ordered like ScanPosts, at most limit; never another
// tenant's under the same pseudonym, nor search aggregates (no author).
func testSocialUserPosts(t *testing.T, s store.Store) {
	ctx := context.Background()
	at := utc("2026-03-02T10:00:00Z")
	a1 := Post(1, at.Add(2*time.Hour), 1)
	a2 := Post(2, at, 1, PostKind(admeter.SocialComment), PostSource("douyin"))
	a3 := Post(3, at.Add(time.Hour), 1, PostKind(admeter.SocialRepost))
	a4 := Post(4, at.Add(time.Hour), 1) // same time as a3: by id
	b1 := Post(5, at.Add(30*time.Minute), 2)
	other := Post(6, at, 1, PostTenant("t2"))
	InsertPosts(t, s, 7, a1, a2, a3, a4, b1, other, Search(7, at, "口红", 3))

	u1 := []admeter.Pseudonym{UserID(1)}
	all := []admeter.SocialPost{a2, a3, a4, a1}
	checkUserPosts(t, s, DefaultTenant, []admeter.Pseudonym{UserID(1), UserID(9), {}, UserID(1)}, 100, all, false)
	checkUserPosts(t, s, DefaultTenant, u1, 4, all, false)
	checkUserPosts(t, s, DefaultTenant, u1, 3, all[:3], true)
	checkUserPosts(t, s, DefaultTenant, u1, 1, all[:1], true)
	checkUserPosts(t, s, DefaultTenant, []admeter.Pseudonym{UserID(2), UserID(1)}, 100, []admeter.SocialPost{a2, b1, a3, a4, a1}, false)
	checkUserPosts(t, s, "t2", u1, 100, []admeter.SocialPost{other}, false)
	checkUserPosts(t, s, "t2", []admeter.Pseudonym{UserID(2)}, 100, nil, false)
	checkUserPosts(t, s, "t9", u1, 100, nil, false)
	checkUserPosts(t, s, DefaultTenant, nil, 100, nil, false)
	checkUserPosts(t, s, DefaultTenant, []admeter.Pseudonym{{}}, 100, nil, false)
	for _, tc := range []struct {
		tenant admeter.TenantID
		limit  int
	}{{"", 10}, {DefaultTenant, 0}, {DefaultTenant, -1}} {
		if _, _, err := s.UserPosts(ctx, tc.tenant, u1, tc.limit); admeter.ErrorCode(err) != admeter.EINVALID {
			t.Errorf("UserPosts(%q, limit %d): %v, want EINVALID", tc.tenant, tc.limit, err)
		}
	}
}

// testSocialDeleteBefore: retention deletes every tenant's records before
// t, to the millisecond, and counts them; later records stay, and a
// record before the cut can be stored again afterwards.
func testSocialDeleteBefore(t *testing.T, s store.Store) {
	ctx := context.Background()
	cut := utc("2026-03-02T12:00:00Z")
	early := []admeter.SocialPost{
		Post(1, utc("2026-03-01T10:00:00Z"), 1),
		Post(2, cut.Add(-time.Millisecond), 2, PostTenant("t2")),
		Search(3, utc("2026-03-01T16:00:00Z"), "口红", 9),
	}
	late := []admeter.SocialPost{Post(4, cut, 1), Post(5, cut.Add(time.Hour), 3, PostKind(admeter.SocialComment))}
	lateT2 := Post(6, cut.Add(time.Minute), 2, PostTenant("t2"))
	InsertPosts(t, s, 6, append(append(slices.Clone(early), late...), lateT2)...)
	// Events are not social records: DeletePostsBefore leaves them.
	Insert(t, s, 1, Imp(utc("2026-03-01T10:00:00Z"), User(1)))

	del := func(cut time.Time, want int64) {
		t.Helper()
		if n, err := s.DeletePostsBefore(ctx, cut); err != nil || n != want {
			t.Fatalf("DeletePostsBefore(%s) = %d, %v; want %d", cut.Format(time.RFC3339Nano), n, err, want)
		}
	}
	del(cut, 3)
	checkScan(t, s, allPosts(), late...)
	q := allPosts()
	q.Tenant = "t2"
	checkScan(t, s, q, lateT2)
	checkReport(t, s, wideQuery(), store.ReportResult{Total: counts(1, 0, 1, 0)})
	del(cut, 0)
	InsertPosts(t, s, 1, early[0])
	checkScan(t, s, allPosts(), early[0], late[0], late[1])
	del(utc("2030-01-01T00:00:00Z"), 4)
	checkScan(t, s, allPosts())
	checkScan(t, s, q)
}

// testSocialDeleteUsers: a deletion request deletes the records the users
// wrote in that tenant only, counts them in Deleted.Posts, and deletes and
// counts their events as before; search aggregates and others' records
// stay.
func testSocialDeleteUsers(t *testing.T, s store.Store) {
	ctx := context.Background()
	day1, day2 := utc("2026-03-01T10:00:00Z"), utc("2026-03-05T10:00:00.250Z")
	Insert(t, s, 1, Imp(day1, User(1)), Click(day2, User(1)), Imp(day1, User(2)), Imp(day1, User(1), Tenant("t2")))
	p1 := Post(1, day1, 1)
	p2 := Post(2, day2, 1, PostKind(admeter.SocialComment), PostSource("douyin"))
	p3 := Post(3, day1, 2)
	p4 := Post(4, day1, 3) // an author without events
	search := Search(5, day1, "口红", 3)
	otherTenant := Post(6, day1, 1, PostTenant("t2"))
	InsertPosts(t, s, 6, p1, p2, p3, p4, search, otherTenant)

	del := func(tenant admeter.TenantID, users []admeter.Pseudonym, want store.Deleted) {
		t.Helper()
		got, err := s.DeleteUsers(ctx, tenant, users)
		if err != nil {
			t.Fatalf("DeleteUsers(%s, %d users): %v", tenant, len(users), err)
		}
		if got.Posts != want.Posts {
			t.Errorf("DeleteUsers(%s, %d users): %d posts deleted, want %d", tenant, len(users), got.Posts, want.Posts)
		}
		checkDeleted(t, got, want)
	}
	del(DefaultTenant, []admeter.Pseudonym{UserID(1), {}, UserID(9), UserID(1)}, store.Deleted{Events: 2, Posts: 2,
		Campaigns: map[admeter.CampaignID]store.TimeSpan{DefaultCampaign: {From: day1, To: day2}}})
	checkScan(t, s, allPosts(), p3, p4, search) // all at day1: by id
	checkUserPosts(t, s, DefaultTenant, []admeter.Pseudonym{UserID(1)}, 10, nil, false)
	checkReport(t, s, wideQuery(), store.ReportResult{Total: counts(1, 0, 1, 0)})
	q := allPosts()
	q.Tenant = "t2"
	checkScan(t, s, q, otherTenant)

	// Posts only: no events, no campaigns.
	del(DefaultTenant, []admeter.Pseudonym{UserID(3)}, store.Deleted{Posts: 1})
	del(DefaultTenant, []admeter.Pseudonym{UserID(3)}, store.Deleted{})
	del("t9", []admeter.Pseudonym{UserID(2)}, store.Deleted{})
	checkScan(t, s, allPosts(), p3, search)
	del("t2", []admeter.Pseudonym{UserID(1)}, store.Deleted{Events: 1, Posts: 1,
		Campaigns: map[admeter.CampaignID]store.TimeSpan{DefaultCampaign: {From: day1, To: day1}}})
	checkScan(t, s, q)
}

// testSocialDeleteTenant: DeleteTenant deletes a tenant's social records
// with its events and counts both; another tenant's stay. A tenant with
// social records only is deleted too.
func testSocialDeleteTenant(t *testing.T, s store.Store) {
	ctx := context.Background()
	at := utc("2026-03-01T10:00:00Z")
	Insert(t, s, 1, Imp(at, User(1)), Click(at, User(1)), Imp(at, User(1), Tenant("t2")))
	InsertPosts(t, s, 6,
		Post(1, at, 1), Search(2, at, "口红", 4), Post(3, at, 2, PostKind(admeter.SocialComment)),
		Post(1, at, 1, PostTenant("t2")), Post(4, at, 1, PostTenant("t3")), Post(5, at, 2, PostTenant("t3")))
	if n, err := s.DeleteTenant(ctx, DefaultTenant); err != nil || n != 5 {
		t.Fatalf("DeleteTenant = %d, %v; want 5 (2 events and 3 social records)", n, err)
	}
	checkScan(t, s, allPosts())
	q := allPosts()
	q.Tenant = "t2"
	checkScan(t, s, q, Post(1, at, 1, PostTenant("t2")))
	if n, err := s.DeleteTenant(ctx, "t3"); err != nil || n != 2 {
		t.Fatalf("DeleteTenant of a tenant with social records only = %d, %v; want 2", n, err)
	}
	q.Tenant = "t3"
	checkScan(t, s, q)
	q.Tenant = "t2"
	checkScan(t, s, q, Post(1, at, 1, PostTenant("t2")))
	// The deleted tenant's ids can be stored again.
	InsertPosts(t, s, 1, Post(1, at, 1))
}

// testSocialKeyVersions: social records count under their key version
// with the events, each as a record with a pseudonym, and the latest time
// is the latest of both; a version whose records are all deleted is no
// longer listed.
func testSocialKeyVersions(t *testing.T, s store.Store) {
	ctx := context.Background()
	check := func(want ...store.KeyVersionUse) {
		t.Helper()
		got, err := s.KeyVersions(ctx)
		if err != nil {
			t.Fatalf("KeyVersions: %v", err)
		}
		ok := len(got) == len(want)
		for i := 0; ok && i < len(want); i++ {
			g, w := got[i], want[i]
			ok = g.Version == w.Version && g.Events == w.Events && g.Pseudonymous == w.Pseudonymous &&
				g.Latest.Equal(w.Latest) && g.Latest.Location() == time.UTC
		}
		if !ok {
			t.Errorf("KeyVersions = %+v, want %+v", got, want)
		}
	}
	InsertPosts(t, s, 2, Post(1, utc("2026-03-01T10:00:00Z"), 1, PostKeyVersion(4)), Search(2, utc("2026-03-01T16:00:00.5Z"), "口红", 7, PostKeyVersion(4)))
	check(store.KeyVersionUse{Version: 4, Events: 2, Pseudonymous: 2, Latest: utc("2026-03-01T16:00:00.5Z")})

	Insert(t, s, 1, Imp(utc("2026-03-01T11:00:00Z"), User(1)), Imp(utc("2026-03-01T12:00:00Z")),
		Imp(utc("2026-03-03T10:00:00Z"), User(2), KeyVersion(2)))
	InsertPosts(t, s, 3,
		Post(3, utc("2026-03-02T10:00:00.25Z"), 1), // v1: later than its events
		Post(4, utc("2026-03-02T09:00:00Z"), 2, PostKeyVersion(2), PostTenant("t2")),
		Post(5, utc("2026-03-01T09:00:00Z"), 3, PostKeyVersion(2), PostKind(admeter.SocialComment)))
	v1 := store.KeyVersionUse{Version: 1, Events: 3, Pseudonymous: 2, Latest: utc("2026-03-02T10:00:00.25Z")}
	v2 := store.KeyVersionUse{Version: 2, Events: 3, Pseudonymous: 3, Latest: utc("2026-03-03T10:00:00Z")}
	v4 := store.KeyVersionUse{Version: 4, Events: 2, Pseudonymous: 2, Latest: utc("2026-03-01T16:00:00.5Z")}
	check(v1, v2, v4)

	if n, err := s.DeletePostsBefore(ctx, utc("2026-03-02T00:00:00Z")); err != nil || n != 3 {
		t.Fatalf("DeletePostsBefore = %d, %v; want 3", n, err)
	}
	v2.Events, v2.Pseudonymous = 2, 2
	check(v1, v2)
	if _, err := s.DeleteUsers(ctx, DefaultTenant, []admeter.Pseudonym{UserID(1)}); err != nil {
		t.Fatalf("DeleteUsers: %v", err)
	}
	v1 = store.KeyVersionUse{Version: 1, Events: 1, Pseudonymous: 0, Latest: utc("2026-03-01T12:00:00Z")}
	check(v1, v2)
}
