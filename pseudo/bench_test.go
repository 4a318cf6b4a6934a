package pseudo

import (
	"testing"

	"github.com/admeter/admeter"
)

func BenchmarkCanonicalize(b *testing.B) {
	cases := []struct {
		name string
		typ  admeter.IDType
		form Form
		v    string
	}{
		{"RawOAID", admeter.IDOAID, FormRaw, "3c1a6f0e-6b1f-4b8a-9b0e-1f2d3c4b5a69"},
		{"MD5IMEI", admeter.IDIMEI, FormMD5, "8d3ebd3654fb46a2832296669cf1b536"},
		{"RawIDFA", admeter.IDIDFA, FormRaw, "e2dfa89f-9a4b-4d2c-8c5e-3f0a1b2c3d4e"},
		{"RawMACColon", admeter.IDMACColon, FormRaw, "aabbccddeeff"},
		{"Placeholder", admeter.IDIMEI, FormMD5, "5284047f4ffb4e04824a2fd1d1f0cd62"},
	}
	for _, bc := range cases {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				Canonicalize(bc.typ, bc.form, bc.v)
			}
		})
	}
}

func BenchmarkPseudonym(b *testing.B) {
	p := mustNew(b, 1, testSecret())
	c := mustCanon(b, admeter.IDIMEI, FormRaw, "868049039501257")
	b.Run("Serial", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			p.Pseudonym(admeter.IDIMEI, c)
		}
	})
	b.Run("Parallel", func(b *testing.B) {
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				p.Pseudonym(admeter.IDIMEI, c)
			}
		})
	})
}

func BenchmarkToken(b *testing.B) {
	p := mustNew(b, 1, testSecret())
	vf := "1617055429226q172a25a163a167q5761"
	b.ReportAllocs()
	for b.Loop() {
		p.Token("admeter/impression/v1", []byte(vf))
	}
}

// BenchmarkUserKey is the collector's per-event work: three identifiers
// canonicalised into an IDSet, then the user key.
func BenchmarkUserKey(b *testing.B) {
	p := mustNew(b, 1, testSecret())
	b.ReportAllocs()
	for b.Loop() {
		var s IDSet
		s.Add(admeter.IDOAID, FormRaw, "3c1a6f0e-6b1f-4b8a-9b0e-1f2d3c4b5a69")
		s.Add(admeter.IDIMEI, FormMD5, "8d3ebd3654fb46a2832296669cf1b536")
		s.Add(admeter.IDAndroidID, FormMD5, "6d7e9146fdc6416658b5e148489e7172")
		p.UserKey(&s)
	}
}
