// Package feed reads partner social feeds — posts, comments, reposts and
// search-term aggregates — from outside input, checks each record, and
// redacts personal data in post text. It holds raw data: Record.Author and
// Record.ID are raw identifiers, pseudonymised by the caller (the social
// service) before anything is stored, and Record.Text is stored only
// through Redact. It does no other I/O and keeps no state.
//
// # Fields
//
// A record has these fields, in JSON and as CSV columns:
//
//	source    feed or platform, lowercase letters, digits, _ - . (weibo, douyin)
//	kind      post (the default), comment, repost or search
//	id        the partner's record id, up to 256 bytes; required but for search
//	time      RFC 3339, Unix seconds or milliseconds (number or string), or
//	          "2006-01-02 15:04:05" / "2006-01-02T15:04:05" in China Standard Time
//	text      the post's text, UTF-8; cut at 4000 characters
//	author    the author's handle, up to 256 bytes; required but for search
//	likes, comments, shares, views   whole numbers ≥ 0 (numbers or strings)
//
// A search aggregate has instead: term (an alias of text, 1 to 100
// characters), day ("2006-01-02", China Standard Time; or a time on that
// day) and count (searches, at least 1), and no author. A record with a term
// and neither text nor author is a search aggregate without saying so; its
// id is term+"\x00"+day when it has none. Times must lie within
// [Now−MaxAge, Now+MaxFuture] of Options. Unknown fields are ignored; null
// or "" is an absent field.
//
// # Formats
//
// ParseJSON takes a JSON array:
//
//	[
//	  {"source": "weibo", "id": "4958", "time": "2026-03-01T08:00:00+08:00",
//	   "author": "小王", "text": "新款真好看 #春季新品#", "likes": 12},
//	  {"source": "baidu-index", "term": "新款手机", "day": "2026-03-01", "count": 5321}
//	]
//
// or NDJSON, one object a line:
//
//	{"source":"weibo","kind":"repost","id":"4959","time":1772323200,"author":"u2","text":"转发微博//@小王:新款真好看"}
//	{"source":"douyin","kind":"comment","id":"c-77","time":"2026-03-01 09:30:00","author":"u3","text":"求链接"}
//
// ParseCSV takes a header row naming the columns, in any order:
//
//	source,kind,id,time,author,text,likes,term,day,count
//	weibo,post,4958,2026-03-01 08:00:00,小王,"新款真好看, #春季新品#",12,,,
//	baidu-index,search,,,,,,新款手机,2026-03-01,5321
//
// in UTF-8 (with or without a byte order mark) or GB18030/GBK.
//
// # Errors
//
// A record that fails a check is refused with a RecordError (its index,
// line, field, and what to fix; never its author, id or text) and parsing
// goes on. Input that is not JSON or CSV at all ends the parse with an
// admeter EINVALID error saying where, and more than MaxRecords records
// with ETOOLARGE. At most MaxRecordBytes are read for one record.
//
// # Redaction
//
// Redact replaces other users' @mentions, URLs, e-mail addresses, phone,
// ID card and bank card numbers in a post's text with placeholders
// ("@某人", "[链接]", "[邮箱]", "[电话]", "[证件号]", "[卡号]") and keeps the
// rest. It is idempotent, so text redacted twice is the same.
package feed
