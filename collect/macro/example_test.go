package macro_test

import (
	"fmt"

	"github.com/admeter/admeter/collect/macro"
)

func ExampleParseTarget() {
	uri := "/r/k=2299094&p=8AGuD&mo=1&m5=__IDFA__&mt=1790000000&md=iPhone14%2C2" +
		"&o=https%3A%2F%2Fshop.example.com%2Fitem%3Fid%3D42"
	ep, p, err := macro.ParseTarget(uri)
	if err != nil {
		fmt.Println(err)
		return
	}
	at, _ := macro.ParseTime(p.MT)
	fmt.Println(ep, p.K, p.P, macro.ParseOS(p.MO), p.MD, at)
	fmt.Printf("idfa present: %v\n", p.M5 != "")
	fmt.Println(macro.DecodeRedirect(p.O))
	fmt.Println(p) // redacted
	// Output:
	// click 2299094 8AGuD ios iPhone14,2 2026-09-21 14:13:20 +0000 UTC
	// idfa present: false
	// https://shop.example.com/item?id=42
	// k=2299094 p=8AGuD present=mo,mt,md,o
}
