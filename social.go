package admeter

import (
	"time"
	"unicode/utf8"
)

// SocialKind is what a social record is: something a person wrote, or a
// count of searches for a term.
type SocialKind string

// Social record kinds.
const (
	SocialPostKind SocialKind = "post"    // an original post (微博, 笔记, video caption...)
	SocialComment  SocialKind = "comment" // a comment or reply under a post
	SocialRepost   SocialKind = "repost"  // a repost (转发), with or without its own words
	SocialSearch   SocialKind = "search"  // an aggregate: how often a term was searched on a day
)

// Valid reports whether k is a known kind.
func (k SocialKind) Valid() bool {
	return k == SocialPostKind || k == SocialComment || k == SocialRepost || k == SocialSearch
}

// Authored reports whether records of kind k have an author (every kind but
// search aggregates).
func (k SocialKind) Authored() bool { return k.Valid() && k != SocialSearch }

// Limits on one social record.
const (
	MaxSocialSource = 32   // bytes in a source name
	MaxSocialText   = 4000 // characters of text kept (longer text is cut)
	MaxSocialTerm   = 100  // characters in a search term
)

// ValidSocialSource returns an EINVALID error unless s is a source name: 1 to
// MaxSocialSource lowercase ASCII letters, digits, '_', '-' or '.', starting
// with a letter ("weibo", "xiaohongshu", "douyin", "baidu-index").
func ValidSocialSource(s string) error {
	ok := s != "" && len(s) <= MaxSocialSource && s[0] >= 'a' && s[0] <= 'z'
	for i := 0; ok && i < len(s); i++ {
		c := s[i]
		ok = c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_' || c == '-' || c == '.'
	}
	if !ok {
		return Errorf(EINVALID, "source %q: use 1 to %d lowercase letters, digits, _, - or ., starting with a letter (weibo, douyin, xiaohongshu, baidu-index...)", clipText(s, 40), MaxSocialSource)
	}
	return nil
}

// SocialPost is one record of a partner feed as admeter stores it: a post,
// comment or repost, or a search-term aggregate. It holds no raw author
// identifier and no raw post id: both are pseudonyms, made on arrival.
// Its text is personal data: it is kept as long as raw events and deleted
// with its author's data; reports never show it unless the author is one of
// the tenant's official accounts.
type SocialPost struct {
	Tenant TenantID
	// Source is the partner feed or platform, lowercase ("weibo").
	Source string
	Kind   SocialKind
	// ID is the pseudonym of the partner's record id within its source (for
	// a search aggregate, of its term and day): a record delivered twice is
	// stored once.
	ID Pseudonym
	// At is when it was posted (for a search aggregate, the start of its
	// day in China Standard Time), UTC, to the millisecond.
	At time.Time
	// Received is when admeter received it (UTC, to the millisecond).
	Received time.Time
	// Text is the post's text with other people's handles, phone numbers,
	// e-mail addresses and ID numbers replaced by placeholders; for a search
	// aggregate, the term.
	Text string
	// Engagement counts as the partner reported them (0 when not given).
	Likes, Comments, Shares, Views int64
	// Count is the number of searches of a search aggregate; 1 for the
	// other kinds.
	Count int64
	// Author is the pseudonym of the author's handle (IDSocial) under key
	// KeyVersion; zero for search aggregates.
	Author     Pseudonym
	KeyVersion uint32
	// Sentiment is the lexicon score of Text, −1 (most negative) to +1.
	Sentiment float32
	// ExactKey and Fingerprint identify the post's own content: reposts of
	// one text share the ExactKey, near copies have Fingerprints a few
	// bits apart (package social/textproc). Both are zero for a text with
	// nothing of its own.
	ExactKey    [16]byte
	Fingerprint uint64
}

// Validate checks what every store relies on.
func (p *SocialPost) Validate() error {
	switch {
	case p.Tenant == "":
		return Errorf(EINVALID, "social record: tenant is required")
	case !p.Kind.Valid():
		return Errorf(EINVALID, "social record: kind %q is not post, comment, repost or search", clipText(string(p.Kind), 20))
	case p.ID.IsZero():
		return Errorf(EINVALID, "social record: id is required")
	case p.At.IsZero() || p.Received.IsZero():
		return Errorf(EINVALID, "social record: time and receive time are required")
	case p.Kind.Authored() && p.Author.IsZero():
		return Errorf(EINVALID, "social record: a %s needs an author", p.Kind)
	case !p.Kind.Authored() && !p.Author.IsZero():
		return Errorf(EINVALID, "social record: a search aggregate has no author")
	case p.Likes < 0 || p.Comments < 0 || p.Shares < 0 || p.Views < 0 || p.Count < 1:
		return Errorf(EINVALID, "social record: engagement counts cannot be negative and count is at least 1")
	case p.Sentiment < -1 || p.Sentiment > 1:
		return Errorf(EINVALID, "social record: sentiment %v is outside −1…1", p.Sentiment)
	case utf8.RuneCountInString(p.Text) > MaxSocialText || !utf8.ValidString(p.Text):
		return Errorf(EINVALID, "social record: text must be valid UTF-8 of at most %d characters", MaxSocialText)
	}
	return ValidSocialSource(p.Source)
}

// clipText shortens s to n bytes at most (on a rune boundary) for an error
// message.
func clipText(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "…"
}

// SocialRule is one brand, product or competitor whose mentions a tenant
// counts: its name, the terms (name and synonyms) that mention it, and
// terms that rule a text out (package social/textproc matches them).
type SocialRule struct {
	Name       string   `json:"name"`
	Terms      []string `json:"terms"`
	Exclusions []string `json:"exclusions,omitempty"`
}

// SocialAccount is one of a tenant's own public accounts on a social
// platform ("official brand account"). Its posts are the only ones whose
// text and author reports may show.
type SocialAccount struct {
	Source string `json:"source"`
	Handle string `json:"handle"`
	// Name is what reports call it; the handle when empty.
	Name string `json:"name,omitempty"`
}

// SocialSettings is what a tenant's social insight counts: its own brands
// and products, the competitors it compares them with (share of voice), and
// its official accounts.
type SocialSettings struct {
	Tenant      TenantID        `json:"-"`
	Brands      []SocialRule    `json:"brands"`
	Competitors []SocialRule    `json:"competitors"`
	Official    []SocialAccount `json:"official_accounts"`
	Updated     time.Time       `json:"updated,omitzero"`
}

// MaxOfficialAccounts bounds a tenant's official accounts.
const MaxOfficialAccounts = 200

// Validate checks the parts the domain knows: the official accounts (rule
// terms are checked when they are compiled, by social/textproc).
func (s *SocialSettings) Validate() error {
	if len(s.Official) > MaxOfficialAccounts {
		return Errorf(EINVALID, "official_accounts: at most %d accounts", MaxOfficialAccounts)
	}
	for i, a := range s.Official {
		if err := ValidSocialSource(a.Source); err != nil {
			return Errorf(EINVALID, "official_accounts[%d]: %s", i, ErrorMessage(err))
		}
		if a.Handle == "" || utf8.RuneCountInString(a.Handle) > 100 || utf8.RuneCountInString(a.Name) > 100 {
			return Errorf(EINVALID, "official_accounts[%d]: handle is required and handle and name have at most 100 characters", i)
		}
	}
	if len(s.Brands) == 0 && (len(s.Competitors) > 0 || len(s.Official) > 0) {
		return Errorf(EINVALID, "brands: name at least one brand or product before competitors or accounts")
	}
	return nil
}
