package duckdb

import (
	"context"
	"database/sql/driver"
	"testing"
	"time"

	duck "github.com/duckdb/duckdb-go/v2"
)

const protoDDL = `CREATE TABLE t (
 tenant VARCHAR, campaign VARCHAR, placement VARCHAR, kind UTINYINT, ts TIMESTAMPTZ, received TIMESTAMPTZ,
 flags USMALLINT, "user" UUID, user_type UTINYINT, key_version UINTEGER, impression_id UUID,
 os UTINYINT, os_version VARCHAR, device UTINYINT, browser VARCHAR, model VARCHAR, network UTINYINT,
 app VARCHAR, app_package VARCHAR, net BIGINT, country VARCHAR, province VARCHAR, city VARCHAR,
 lat INTEGER, lon INTEGER, risk UTINYINT)`

func BenchmarkProtoAppend(b *testing.B) {
	ctx := context.Background()
	c, err := duck.NewConnector("", nil)
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	conn, err := c.Connect(ctx)
	if err != nil {
		b.Fatal(err)
	}
	defer conn.Close()
	if _, err := conn.(driver.ExecerContext).ExecContext(ctx, protoDDL, nil); err != nil {
		b.Fatal(err)
	}
	now := time.Now()
	const n = 100000
	b.ReportAllocs()
	for b.Loop() {
		a, err := duck.NewAppenderFromConn(conn, "", "t")
		if err != nil {
			b.Fatal(err)
		}
		for i := range n {
			var u, imp duck.UUID
			u[0] = byte(i)
			u[1] = byte(i >> 8)
			imp[3] = byte(i)
			if err := a.AppendRow("tenant1", "1000123", "plc42", uint8(1), now, now, uint16(0), u, uint8(1), uint32(1), imp,
				uint8(1), "14.2", uint8(1), "Chrome", "iPhone15,2", uint8(2), "SomeApp", "com.some.app", int64(1<<48|i), "CN", "广东", "深圳",
				int32(2254), int32(11405), uint8(0)); err != nil {
				b.Fatal(err)
			}
		}
		if err := a.Close(); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "events/s")
}
