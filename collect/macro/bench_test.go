package macro_test

import (
	"net/url"
	"testing"

	"github.com/admeter/admeter/collect/macro"
)

// BenchmarkParseTarget measures the collector's per-request parse: the MMA
// Android SDK impression (31 parameters, three values to decode), an iOS
// click with an unencoded landing URL, and a tag full of unreplaced macros.
func BenchmarkParseTarget(b *testing.B) {
	for _, bb := range []struct{ name, uri string }{
		{"Impression", androidImpression},
		{"Click", iosClick},
		{"LegacyMacros", youkuLegacy},
	} {
		b.Run(bb.name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(bb.uri)))
			for b.Loop() {
				if _, _, err := macro.ParseTarget(bb.uri); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkStdlibParseQuery is the reference for BenchmarkParseTarget: the
// standard library's url.ParseQuery on the same impression, which decodes
// every value and builds a map. Compare the two from one run; absolute
// numbers vary with the machine and its load.
func BenchmarkStdlibParseQuery(b *testing.B) {
	query := androidImpression[len("/x/"):]
	b.ReportAllocs()
	b.SetBytes(int64(len(query)))
	for b.Loop() {
		if _, err := url.ParseQuery(query); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkHelpers(b *testing.B) {
	_, p, err := macro.ParseTarget(androidImpression)
	if err != nil {
		b.Fatal(err)
	}
	b.Run("ParseRisk", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			macro.ParseRisk(p.SVL)
		}
	})
	b.Run("ParseLocation", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			macro.ParseLocation(p.MM)
		}
	})
	b.Run("DecodeRedirect", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			macro.DecodeRedirect("https%3A%2F%2Fshop.example.com%2Fitem%3Fid%3D42%26utm_source%3Dmz")
		}
	})
}
