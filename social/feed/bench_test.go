package feed

import (
	"bytes"
	"fmt"
	"testing"
)

// BenchmarkParseJSON parses MaxRecords NDJSON posts.
func BenchmarkParseJSON(b *testing.B) {
	var in bytes.Buffer
	for i := range MaxRecords {
		fmt.Fprintf(&in, `{"source":"weibo","kind":"post","id":"49580%05d","time":"2026-03-01T08:%02d:00+08:00","author":"用户%d","text":"新款手机真好看，拍照清晰，续航也不错 #春季新品# @小王 你觉得呢？","likes":%d,"comments":3,"shares":1,"views":1200}`+"\n", i, i%60, i%500, i%97)
	}
	b.SetBytes(int64(in.Len()))
	b.ReportAllocs()
	for b.Loop() {
		n := 0
		errs, err := ParseJSON(bytes.NewReader(in.Bytes()), testOptions, func(int, Record) error { n++; return nil })
		if err != nil || len(errs) > 0 || n != MaxRecords {
			b.Fatal(n, errs, err)
		}
	}
}

// post140 is a typical post of 140 characters with a mention, a phone
// number and a link.
const post140 = "今天去门店试了新款手机，拍照效果真的很惊艳，夜景模式比上一代强太多了！续航一天没问题，价格12999元有点贵。" +
	"//@数码小王:同意 店员电话138-1234-5678 详情见 https://t.cn/A6abcd #春季新品# 😀😀"

func BenchmarkRedact(b *testing.B) {
	b.SetBytes(int64(len(post140)))
	b.ReportAllocs()
	for b.Loop() {
		Redact(post140)
	}
}

// BenchmarkRedactClean is a 140-character post with nothing to redact.
func BenchmarkRedactClean(b *testing.B) {
	clean := "今天去门店试了新款手机，拍照效果真的很惊艳，夜景模式比上一代强太多了！续航一天没问题，价格12999元有点贵。" +
		"同意 店员说下周还有活动，到时候再去看看，大家觉得值得入手吗？欢迎留言讨论 #春季新品# 😀😀"
	b.SetBytes(int64(len(clean)))
	b.ReportAllocs()
	for b.Loop() {
		Redact(clean)
	}
}
