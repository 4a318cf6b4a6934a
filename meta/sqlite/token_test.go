package sqlite_test

import (
	"crypto/sha256"
	"fmt"
	"testing"
)

func BenchmarkTokenByHash(b *testing.B) {
	db := MustOpenDB(b)
	for i := range 1000 {
		MustCreateTenant(b, db, fmt.Sprintf("tenant %d", i))
	}
	hash := sha256.Sum256([]byte("token-tenant 500"))
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := db.TokenByHash(b.Context(), hash); err != nil {
			b.Fatal(err)
		}
	}
}
