package analysis

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/admeter/admeter"
	"github.com/admeter/admeter/social/textproc"
	"github.com/admeter/admeter/store"
)

// loadSegmenter loads the dictionary once for every test and benchmark.
var loadSegmenter = sync.OnceValues(textproc.NewSegmenter)

func segmenter(tb testing.TB) *textproc.Segmenter {
	tb.Helper()
	s, err := loadSegmenter()
	if err != nil {
		tb.Fatal(err)
	}
	return s
}

var (
	cst  = time.FixedZone("CST", 8*3600)
	day0 = store.Date{Year: 2025, Month: time.March, Day: 1}
)

// author returns a pseudonym for author number n (never zero).
func author(n int) admeter.Pseudonym {
	var p admeter.Pseudonym
	r := rand.New(rand.NewPCG(uint64(n)+1, 99))
	for i := range p {
		p[i] = byte(r.IntN(256))
	}
	p[0] = 0xab // a letter in the hex form
	return p
}

var nextID uint64

// post returns a record by author n on day d (from day0) at noon CST, with
// its content keys computed as ingest computes them.
func post(n, d int, text string, sent float32) admeter.SocialPost {
	nextID++
	var id admeter.Pseudonym
	for i := range 8 {
		id[i] = byte(nextID >> (8 * i))
	}
	id[15] = 1
	at := day0.AddDays(d).In(cst).Add(12 * time.Hour)
	p := admeter.SocialPost{
		Tenant: "t1", Source: "weibo", Kind: admeter.SocialPostKind, ID: id,
		At: at.UTC(), Received: at.UTC(), Text: text, Count: 1,
		Author: author(n), Sentiment: sent,
	}
	if textproc.Canonical(text) != "" {
		p.ExactKey = textproc.ExactKey(text)
		p.Fingerprint = textproc.Fingerprint(text)
	}
	return p
}

// search returns a search aggregate of term on day d.
func search(term string, d int, count int64) admeter.SocialPost {
	p := post(0, d, term, 0)
	p.Kind, p.Author, p.Count, p.ExactKey, p.Fingerprint = admeter.SocialSearch, admeter.Pseudonym{}, count, [16]byte{}, 0
	p.At = day0.AddDays(d).In(cst).UTC()
	p.Source = "baidu-index"
	return p
}

// Planted topics of the synthetic corpus, and filler words every topic
// uses.
var (
	planted = map[string][]string{
		"battery": {"续航", "电池", "充电", "发热", "耗电", "快充"},
		"camera":  {"拍照", "夜景", "镜头", "像素", "防抖", "人像"},
		"price":   {"价格", "性价比", "优惠", "便宜", "降价", "划算"},
		"service": {"售后", "客服", "维修", "态度", "退货", "保修"},
	}
	plantedNames = []string{"battery", "camera", "price", "service"}
	fillers      = []string{"今天", "朋友", "感觉", "周末", "下午", "出门", "发现", "城市", "地铁", "咖啡", "公司", "晚上", "早上", "同事", "家里"}
	brands       = []string{"星河", "银河", "北斗"}
)

// corpusText returns a synthetic post about brand and planted topic t:
// three of the topic's words among fillers, about 60 characters with
// words.
func corpusText(r *rand.Rand, brand, t string, words int) string {
	vocab := planted[t]
	var parts []string
	parts = append(parts, brand+"手机")
	topical := r.Perm(len(vocab))[:3]
	for i := range words {
		if i < 3 {
			parts = append(parts, vocab[topical[i]])
		}
		parts = append(parts, fillers[r.IntN(len(fillers))])
	}
	r.Shuffle(len(parts)-1, func(i, j int) { parts[i+1], parts[j+1] = parts[j+1], parts[i+1] })
	return strings.Join(parts, "，") + fmt.Sprintf("。第%d次", r.IntN(1000))
}

// rules returns the brand and competitor rules of the synthetic corpus.
func rules() (brand, comp []admeter.SocialRule) {
	brand = []admeter.SocialRule{{Name: "星河", Terms: []string{"星河"}}}
	comp = []admeter.SocialRule{{Name: "银河", Terms: []string{"银河"}}, {Name: "北斗", Terms: []string{"北斗"}}}
	return brand, comp
}
