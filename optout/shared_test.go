package optout_test

import (
	"github.com/admeter/admeter/collect"
	"github.com/admeter/admeter/optout"
	"github.com/admeter/admeter/optout/optouthttp"
	"github.com/admeter/admeter/rights"
)

// A Shared registry stands in for a Registry wherever one is consumed. Its
// behaviour is tested against PostgreSQL, the feed it runs on, in
// meta/postgres/optout_test.go (that package's tests start the server).
var (
	_ collect.OptOuts     = (*optout.Shared)(nil)
	_ optouthttp.Registry = (*optout.Shared)(nil)
	_ rights.Registry     = (*optout.Shared)(nil)
)
