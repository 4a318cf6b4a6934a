// Package socialsim generates realistic partner social feeds with a known
// answer, for testing and demonstrating social insight (package social).
//
// Generate builds, for one tenant's brand and competitors over a range of
// local days in Asia/Shanghai, the records a partner would send: posts,
// comments and reposts by a population of authors whose activity is heavy
// tailed (a few authors post a lot, most once or twice), on weibo,
// xiaohongshu and douyin, plus daily search-term aggregates (baidu-index).
//
// The texts are Chinese consumer talk about phones: the brand and
// competitors written by their terms and synonyms in the variants people
// type (mixed case, upper case, full-width ＬａｎＳｔａｒ), topic
// vocabulary (续航, 拍照, 价格, 售后…) with positive, negative and neutral
// phrases from the sentiment lexicon, comparisons that mention two rules,
// posts that mention only an exclusion (a street named like the brand:
// they must not count), posts that mention nothing, Weibo reposts
// ("转发微博//@name:original", "说得对//@name:original"), near copies (one
// character changed), comments, @mentions and phone numbers (which the
// server redacts), and an official brand account that posts every day.
// During a campaign window brand activity — posts, their reposts and
// comments, and brand searches — rises by a configurable factor.
//
// Everything is deterministic for a Config: the same Config gives the same
// records, in the same order, with the same ids (so a feed uploaded twice
// stores duplicates only). The authors depend on the seed, and each day's
// records on the seed and the day's index in the range — or, with
// Config.DatedDays, its date, so that a feed over a later range has the
// same records on the days both have. Some records are delivered twice, as
// partners do on retries.
//
// The Truth is computed from the records as delivered and what the
// generator knows each one mentions, independently of package
// social/analysis and of textproc's Matcher: per rule and local day the
// mentions (records, a record delivered twice counted once, every repost a
// mention), distinct authors, distinct authors other than the official
// account (the people the threshold protects), distinct contents (a
// repost shares its original's content) and the searches. To keep that
// knowledge exact, every text is checked as it is made: each rule it is
// meant to mention has a term in it and none of its exclusions, each rule
// it is meant to exclude has an exclusion, and no other rule's term or
// exclusion is in it, comparing case- and width-folded text without spaces
// (a stricter test than the server's). A Config whose terms clash with the
// generator's vocabulary or author handles is refused.
//
// The records hold fake handles and phone numbers only; nothing here logs
// or writes them but the writers the caller asks for.
package socialsim
