package main

import (
	"os/exec"
	"strings"
	"testing"
)

// TestImportRules enforces the dependency direction of docs/architecture.md:
// the domain imports only the standard library, services and front doors
// never import an adapter, and adapters never import each other or a service.
func TestImportRules(t *testing.T) {
	const mod = "github.com/admeter/admeter"
	adapters := []string{mod + "/eventlog", mod + "/meta/sqlite", mod + "/meta/postgres", mod + "/keystore", mod + "/geoip", mod + "/store/duckdb", mod + "/store/clickhouse"}
	services := []string{mod + "/collect", mod + "/api", mod + "/pseudo", mod + "/optout", mod + "/useragent", mod + "/collect/macro",
		mod + "/ingest", mod + "/report", mod + "/simulate", mod + "/store",
		mod + "/rights", mod + "/retention", mod + "/workday", mod + "/optout/optouthttp", mod + "/auth", mod + "/console", mod + "/console/chart", mod + "/console/codes", mod + "/ivt", mod + "/ivt/behaviour",
		mod + "/attribution", mod + "/collect/viewtag", mod + "/taxonomy", mod + "/insight", mod + "/insight/dp", mod + "/benchmark", mod + "/notify", mod + "/notify/notifytest",
		mod + "/reach", mod + "/mediaplan", mod + "/social", mod + "/social/feed", mod + "/social/analysis", mod + "/social/textproc", mod + "/social/sentiment"}
	deps := func(pkg string) []string {
		out, err := exec.Command("go", "list", "-deps", pkg).Output()
		if err != nil {
			t.Fatalf("go list -deps %s: %v", pkg, err)
		}
		return strings.Fields(string(out))
	}
	isOurs := func(d string) bool { return d == mod || strings.HasPrefix(d, mod+"/") }

	for _, d := range deps(mod) {
		if d != mod && strings.Contains(strings.SplitN(d, "/", 2)[0], ".") {
			t.Errorf("domain package imports %s; it may import the standard library only", d)
		}
	}
	for _, s := range services {
		for _, d := range deps(s) {
			for _, a := range adapters {
				if d == a || strings.HasPrefix(d, a+"/") {
					t.Errorf("%s imports adapter %s; declare an interface in %s and wire the adapter in cmd/admeter", s, a, s)
				}
			}
		}
	}
	for _, a := range adapters {
		for _, d := range deps(a) {
			if isOurs(d) && d != a && d != mod && d != mod+"/store" && !strings.HasPrefix(d, a+"/") && !strings.HasPrefix(d, mod+"/internal/") {
				t.Errorf("adapter %s imports %s; adapters may import only the domain, the store contract and internal helpers", a, d)
			}
		}
	}
}
