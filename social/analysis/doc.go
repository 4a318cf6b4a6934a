// Package analysis turns a tenant's stored social records into the
// aggregate social report (issue 13): mention volume and sentiment over
// time, share of voice against competitors, keywords and topics, the posts
// of official accounts, and mentions before, during and after a campaign's
// delivery with a lift estimate. It is pure computation: the caller loads
// the records, settings and delivery curve and calls Analyze.
//
// # Counting
//
// Only authored records (posts, comments, reposts) of local days From…To
// (Input.Location, Asia/Shanghai by default) are counted; others are
// ignored. A record counts for every rule (brand or competitor) whose terms
// textproc's Matcher finds in its text, once per rule; Total counts each
// record mentioning any rule once. For each rule, and for each of its days:
//
//   - Mentions: records. Authors: distinct author pseudonyms.
//   - Original: distinct contents among the records (see Dedup), Reposts:
//     Mentions − Original.
//   - Likes, Comments, Shares, Views: sums as the partners reported them.
//   - Positive, Negative, Neutral: records by the label of their stored
//     score, as package sentiment labels (≥ 0.05, ≤ −0.05, between);
//     NetSentiment = (Positive − Negative) / Mentions.
//
// Sources break Total down by source. Share of voice is each rule's
// mentions over the sum of all rules' mentions (a record mentioning two
// rules counts for both), and the same weighted by likes + comments +
// shares; overall and per day. Search aggregates (kind search, no author)
// are summed per rule whose terms their search term matches, per day of
// China Standard Time (the day they are for); being partner aggregates,
// they are not thresholded.
//
// # Dedup
//
// Records with the same ExactKey are one content (a repost's key is its
// original's, see textproc.Canonical). Exact groups whose canonical texts
// are near copies (textproc.NearCopy: at most max(1, n/10) characters
// inserted, deleted or changed) are joined too, transitively
// (union–find). Candidates come from MinHash locality-sensitive hashing
// over the texts' character 3-shingles (60 values in 20 bands of 3: a
// one-character edit of a 15-character post is a candidate with
// probability 0.99), each checked by edit distance, so the work grows with
// the number of contents rather than its square, and posts that only
// share an opening or an ending stay apart. Records whose ExactKey is
// zero (or the key of an empty text) have no content of their own — a
// bare "转发微博" — and are never joined: they count as reposts. A content
// is represented by the text of its earliest record.
//
// # Keywords and topics
//
// Both are computed over the brands' distinct contents: one text per
// content with at least one record matching a brand rule, segmented once.
// Keywords are scored as textproc.Keywords scores them (summed TF-IDF; stop
// words, one-character tokens and numbers dropped), with every rule's terms
// (and their tokens) dropped too, since they are in every post. Each
// keyword says how many contents use it, and the brand records and distinct
// authors of those contents.
//
// Topics are built from the 100 best keywords that are in at least two
// contents: the strongest keyword left seeds a topic, which then takes, one
// at a time, the keyword whose average normalised PMI with the topic's
// keywords over contents, NPMI(x, y) = ln(p(x,y) / p(x)p(y)) / −ln p(x,y),
// is highest and at least 0.25 (pairs in fewer than two contents have
// −1), up to 8 keywords. A seed that takes none is left for later topics.
// Each content goes to the topic sharing most keywords with it (ties to the
// earlier, stronger topic), or to "other". The largest Input.Topics topics
// are kept and contents assigned again among them. A topic's label is its
// three best keywords.
//
// # Threshold
//
// k = Input.MinAuthors. Every cell (Total, a rule, a rule's day, a source,
// an alignment period, a topic, a keyword) is computed from a set of
// records; a cell whose records have between 1 and k−1 distinct authors
// other than official accounts is suppressed: its counts are left out and
// Suppressed is set. Official accounts do not count towards the threshold
// (their posts are the brand's own and the report lists them): a cell of
// official posts only is published.
//
// Complementary suppression: where the parts of a published whole are
// published too (the days of a rule, the sources of Total, the periods of
// the brands' mentions), the suppressed parts together are the whole minus
// the published parts. So while the suppressed parts together have between
// 1 and k−1 people, the smallest published part is suppressed as well. A
// share-of-voice day is suppressed when any rule's cell of that day is, and
// the overall shares leave suppressed rules out of the sum.
//
// Keywords below the threshold are left out. Topics below it are folded
// into "other"; while "other" is below it, the smallest topics are folded
// into it too, and if none is left "other" is suppressed. Privacy reports k
// and how many cells, keywords and topics were suppressed, dropped or
// folded.
//
// The report holds no author pseudonym and no text but those of the posts
// of official accounts (Official, at most MaxOfficialPosts, oldest first).
//
// # Alignment and lift
//
// With a delivery curve, the delivery period is the first to the last day
// of the range with impressions; days of the range before it are "before",
// after it "after". Each period counts the records mentioning any brand,
// each once.
//
// Lift is the ratio of mentions per day during delivery to mentions per day
// before it. Social counts are overdispersed (a viral post brings many), so
// a Poisson interval would be far too narrow: the interval is quasi-Poisson.
// With a and b the mentions during and before, over the n days of the two
// periods, the dispersion is φ = max(1, Σ (x − m)² / m / (n − 2)), the
// Pearson χ² of each day's count x around its own period's mean m; the
// standard error of the log ratio is sqrt(φ (1/a + 1/b)), and the 95%
// interval is exp(log ratio ± t · se) with t the 97.5th percentile of
// Student's t with n − 2 degrees of freedom (φ is estimated). Simulated
// negative-binomial days cover the true ratio 94–96% of the time (see
// TestLiftCoverage). No lift is given (Insufficient, with a Reason) when
// there are fewer than 3 days before delivery, no mentions before or during
// it, or either period is suppressed. The ratio is an association, not a
// causal effect: anything else that happened during delivery moves it too.
package analysis
