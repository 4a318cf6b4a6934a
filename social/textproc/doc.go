// Package textproc turns the text of social posts, comments and search
// terms into what social insight counts. It does no I/O and keeps no state
// but a loaded dictionary.
//
//   - Tokens: normalised tokens of Chinese (segmented with go-ego/gse and its
//     embedded dictionary) and English. Normalize folds width and case.
//   - Keyword rules: a tenant's brands, products and competitors, each a Rule
//     with synonyms and exclusions, compiled by CompileRules into a Matcher
//     whose Match says which rules a post counts for. English terms match on
//     word boundaries, Chinese terms wherever their characters stand
//     together (not only where gse cuts a word), so a match does not depend
//     on how gse segments the sentence around it. One Aho–Corasick pass over
//     the post finds every rule's terms at once.
//   - Repost dedup: Canonical strips what a repost adds (Weibo's "//@name:"
//     chains, "转发微博", URLs, mentions, emoticons, punctuation); ExactKey
//     hashes it for exact duplicates and Fingerprint is a 64-bit SimHash of
//     its character 3-shingles, compared with Near; both are stable across
//     processes and can be stored. SimHash pairs short posts that merely
//     share an opening, so NearCopy (an edit distance on canonical texts)
//     decides what a near copy is, and Shingles and Resemblance feed the
//     MinHash index that finds candidates (social/analysis).
//   - Topic groundwork: Keywords ranks a set of posts' terms by TF-IDF,
//     without stop words (StopWord: short Chinese and English lists shipped
//     here), one-character tokens and numbers.
package textproc
