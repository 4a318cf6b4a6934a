package social_test

import (
	"bytes"
	"fmt"
	"testing"
	"time"

	"github.com/admeter/admeter/social"
)

// BenchmarkIngest times one upload of 10 000 NDJSON posts through the
// whole arrival path — parse, pseudonymise, opt-out check, redact,
// sentiment, fingerprints — and the DuckDB insert, each run with new ids.
func BenchmarkIngest(b *testing.B) {
	f := newFixture(b)
	const n = 10000
	texts := []string{
		"华为新机拍照真的很清晰，夜景模式比上一代强太多了，续航一天没问题 @朋友 你也试试",
		"客服态度太差了，等了三天还没回复，售后真让人失望 13812345678",
		"Huawei's new phone has a great camera, but the price is too high. https://t.cn/abc",
		"转发微博 //@数码博主: 华为这次的影像系统确实领先",
	}
	at := f.now.Add(-time.Hour).Format(time.RFC3339)
	f.svc.Preload() // the dictionary loads before the timer runs
	b.ResetTimer()
	for i := range b.N {
		var buf bytes.Buffer
		for j := range n {
			fmt.Fprintf(&buf, `{"source":"weibo","id":"%d-%d","time":%q,"author":"user%d","text":%q,"likes":%d}`+"\n", i, j, at, j%3000, texts[j%len(texts)], j%50)
		}
		b.StartTimer()
		res, err := f.svc.Ingest(b.Context(), f.tenant.ID, social.FormatJSON, &buf)
		b.StopTimer()
		if err != nil || res.Stored != n {
			b.Fatalf("%+v, %v", res, err)
		}
	}
	b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "records/s")
}
