package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/twmb/franz-go/pkg/kfake"

	"github.com/admeter/admeter/internal/testserver"
	"github.com/admeter/admeter/keystore"
	"github.com/admeter/admeter/meta/postgres"
	"github.com/admeter/admeter/pseudo"
)

// The PostgreSQL and ClickHouse servers of the tests that need them,
// started on first use and stopped by TestMain.
var (
	serversOnce sync.Once
	pgServer    *testserver.Server
	chServer    *testserver.Server
	serversErr  error

	shardsOnce sync.Once
	chShards   *testserver.Cluster
	shardsErr  error
)

func stopServers() {
	for _, s := range []*testserver.Server{pgServer, chServer} {
		if s != nil {
			_ = s.Stop()
		}
	}
	if chShards != nil {
		_ = chShards.Stop()
	}
}

// shardedClickHouse returns a fresh database on every shard of a
// two-shard ClickHouse cluster (started on first use), dropped when t
// ends: the coordinator's DSN (the first shard) and the cluster's name.
func shardedClickHouse(t *testing.T) (coordinatorDSN, cluster string) {
	t.Helper()
	shardsOnce.Do(func() { chShards, shardsErr = testserver.ClickHouseCluster(2) })
	if shardsErr != nil {
		t.Fatal(shardsErr)
	}
	b := make([]byte, 6)
	rand.Read(b)
	name := "admeter_cmd_" + hex.EncodeToString(b)
	for _, dsn := range chShards.DSNs {
		if err := testserver.ClickHouseExec(dsn, "CREATE DATABASE "+name); err != nil {
			t.Fatalf("create ClickHouse database: %v", err)
		}
		t.Cleanup(func() { _ = testserver.ClickHouseExec(dsn, "DROP DATABASE IF EXISTS "+name) })
	}
	return testserver.WithDatabase(chShards.DSNs[0], name), chShards.Name
}

// clusterBackends returns DSNs of a fresh PostgreSQL schema and a fresh
// ClickHouse database for t, dropped when t ends.
func clusterBackends(t *testing.T) (postgresDSN, clickhouseDSN string) {
	t.Helper()
	serversOnce.Do(func() {
		if pgServer, serversErr = testserver.Postgres(); serversErr != nil {
			return
		}
		chServer, serversErr = testserver.ClickHouse()
	})
	if serversErr != nil {
		t.Fatal(serversErr)
	}
	b := make([]byte, 6)
	rand.Read(b)
	name := "admeter_cmd_" + hex.EncodeToString(b)

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c, err := pgx.Connect(ctx, pgServer.DSN)
	if err != nil {
		t.Fatalf("connect to PostgreSQL: %v", err)
	}
	defer c.Close(ctx)
	if _, err := c.Exec(ctx, `CREATE SCHEMA `+name); err != nil {
		t.Fatalf("create schema: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if c, err := pgx.Connect(ctx, pgServer.DSN); err == nil {
			_, _ = c.Exec(ctx, `DROP SCHEMA `+name+` CASCADE`)
			c.Close(ctx)
		}
	})
	postgresDSN = pgServer.DSN + " search_path=" + name
	if strings.Contains(pgServer.DSN, "://") {
		sep := "?"
		if strings.Contains(pgServer.DSN, "?") {
			sep = "&"
		}
		postgresDSN = pgServer.DSN + sep + "search_path=" + name
	}

	if err := testserver.ClickHouseExec(chServer.DSN, "CREATE DATABASE "+name); err != nil {
		t.Fatalf("create ClickHouse database: %v", err)
	}
	t.Cleanup(func() { _ = testserver.ClickHouseExec(chServer.DSN, "DROP DATABASE IF EXISTS "+name) })
	return postgresDSN, testserver.WithDatabase(chServer.DSN, name)
}

// clusterPseudonymizer opens the key store a cluster keeps in PostgreSQL
// (made with testMasterKey) so tests can compute the pseudonyms it made.
func clusterPseudonymizer(t *testing.T, postgresDSN string) *pseudo.Pseudonymizer {
	t.Helper()
	master, err := keystore.ParseMasterKey([]byte(testMasterKey))
	if err != nil {
		t.Fatal(err)
	}
	db := postgres.NewDB(postgresDSN)
	if err := db.Open(); err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ks, err := keystore.OpenBackend(t.Context(), db.KeystoreBackend(""), master, nil)
	if err != nil {
		t.Fatal(err)
	}
	v, s := ks.Current()
	ps, err := pseudo.New(pseudo.Key{Version: v, Secret: s})
	if err != nil {
		t.Fatal(err)
	}
	return ps
}

// testKafka is the Kafka the test's servers use: the cluster
// ADMETER_TEST_KAFKA_BROKERS names (comma-separated host:port), or else an
// in-process kfake broker stopped when t ends; each test gets a topic and a
// consumer group of its own.
type testKafka struct {
	Brokers, Topic, Group string
	Replication           int
}

func newTestKafka(t *testing.T) testKafka {
	t.Helper()
	b := make([]byte, 4)
	rand.Read(b)
	k := testKafka{Topic: "admeter-test-" + hex.EncodeToString(b), Group: "admeter-test-" + hex.EncodeToString(b), Replication: 1}
	if brokers := os.Getenv("ADMETER_TEST_KAFKA_BROKERS"); brokers != "" {
		k.Brokers = brokers
		if len(strings.Split(brokers, ",")) >= 3 {
			k.Replication = 3
		}
		return k
	}
	cluster, err := kfake.NewCluster(kfake.NumBrokers(1))
	if err != nil {
		t.Fatalf("start kfake: %v", err)
	}
	t.Cleanup(cluster.Close)
	k.Brokers = cluster.ListenAddrs()[0]
	return k
}

// flags returns the serve flags of k, with four partitions and a short
// group session timeout so that a killed loader's partitions move soon.
func (k testKafka) flags() []string {
	return []string{"--kafka-brokers", k.Brokers, "--kafka-topic", k.Topic, "--kafka-group", k.Group,
		"--kafka-partitions", "4", "--kafka-replication", strconv.Itoa(k.Replication), "--kafka-session-timeout", "6s"}
}

// configure sets k in c.
func (k testKafka) configure(c *ServeConfig) {
	c.KafkaBrokers, c.KafkaTopic, c.KafkaGroup = k.Brokers, k.Topic, k.Group
	c.KafkaPartitions, c.KafkaReplication, c.KafkaSessionTimeout = 4, k.Replication, 6*time.Second
}
