package main

import (
	"strings"
	"testing"
	"time"
)

// TestRoleValidate: each role demands the shared engines it cannot work
// without, and says which flag is missing.
func TestRoleValidate(t *testing.T) {
	const (
		kafka = "kafka-1:9092"
		ch    = "clickhouse://ch:9000/admeter"
		pg    = "postgres://admeter@pg:5432/admeter"
	)
	tests := []struct {
		name               string
		role, k, c, p      string
		demo, noIngest     bool
		retention          time.Duration
		cluster            string
		wantErr            []string // empty: valid
		collect, load, api bool
	}{
		{name: "all embedded", role: RoleAll, collect: true, load: true, api: true},
		{name: "all on cluster engines", role: RoleAll, k: kafka, c: ch, p: pg, collect: true, load: true, api: true},
		{name: "all collecting only", role: RoleAll, noIngest: true, collect: true, api: true},
		{name: "collector", role: RoleCollector, k: kafka, p: pg, collect: true},
		{name: "collector without kafka", role: RoleCollector, p: pg, wantErr: []string{"--role collector needs --kafka-brokers"}},
		{name: "collector without postgres", role: RoleCollector, k: kafka, wantErr: []string{"--role collector needs --postgres-dsn"}},
		{name: "loader", role: RoleLoader, k: kafka, c: ch, p: pg, load: true},
		{name: "loader without anything", role: RoleLoader, wantErr: []string{"--kafka-brokers", "--clickhouse-dsn", "--postgres-dsn"}},
		{name: "api", role: RoleAPI, k: kafka, c: ch, p: pg, api: true},
		{name: "api without clickhouse", role: RoleAPI, k: kafka, p: pg, wantErr: []string{"--role api needs --clickhouse-dsn"}},
		{name: "demo needs all", role: RoleAPI, k: kafka, c: ch, p: pg, demo: true, wantErr: []string{"--demo needs --role all"}},
		{name: "ingest=false needs all", role: RoleLoader, k: kafka, c: ch, p: pg, noIngest: true, wantErr: []string{"--ingest=false applies to --role all"}},
		{name: "unknown role", role: "worker", wantErr: []string{`--role must be all, collector, loader or api, not "worker"`}},
		{name: "http clickhouse", role: RoleAll, c: "http://ch:8123", wantErr: []string{"--clickhouse-dsn must be a native-protocol DSN"}},
		{name: "bad postgres", role: RoleAll, p: "pg.internal", wantErr: []string{"--postgres-dsn must be"}},
		{name: "cluster without coordinator", role: RoleAll, cluster: "admeter", wantErr: []string{"--clickhouse-cluster needs --clickhouse-dsn"}},
		{name: "kafka retention too long", role: RoleAll, k: kafka, retention: 30 * 24 * time.Hour, wantErr: []string{"--kafka-retention must be between 1h and 168h"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := DefaultServeConfig()
			cfg.Role, cfg.KafkaBrokers, cfg.ClickHouseDSN, cfg.PostgresDSN = tt.role, tt.k, tt.c, tt.p
			cfg.Demo, cfg.Ingest = tt.demo, !tt.noIngest
			cfg.ClickHouseCluster = tt.cluster
			if tt.retention != 0 {
				cfg.KafkaRetention = tt.retention
			}
			err := cfg.Validate()
			if len(tt.wantErr) == 0 {
				if err != nil {
					t.Fatalf("Validate: %v", err)
				}
				if p := cfg.parts(); p.collect != tt.collect || p.load != tt.load || p.api != tt.api {
					t.Fatalf("parts = %+v, want collect %v load %v api %v", p, tt.collect, tt.load, tt.api)
				}
				return
			}
			if err == nil {
				t.Fatal("Validate accepted it")
			}
			for _, want := range tt.wantErr {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error %q does not say %q", err, want)
				}
			}
		})
	}
}
