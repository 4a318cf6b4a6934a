package kafka

import (
	"context"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

func TestConfigValidate(t *testing.T) {
	ok := Config{Brokers: []string{"127.0.0.1:9092"}}
	tests := []struct {
		name string
		edit func(*Config)
		want []string // substrings of the error; none for a valid config
	}{
		{"defaults with brokers", func(*Config) {}, nil},
		{"no brokers", func(c *Config) { c.Brokers = nil }, []string{"no kafka brokers"}},
		{"bad broker", func(c *Config) { c.Brokers = []string{"localhost"} }, []string{`"localhost" is not host:port`}},
		{"bad topic", func(c *Config) { c.Topic = "a b" }, []string{"not a valid topic"}},
		{"negative timeout", func(c *Config) { c.ProduceTimeout = -time.Second }, []string{"negative produce timeout"}},
		{"every problem at once", func(c *Config) { c.Brokers = nil; c.RetryBackoff = -1 }, []string{"no kafka brokers", "negative retry backoff"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := ok
			tt.edit(&c)
			err := c.Validate()
			if len(tt.want) == 0 {
				if err != nil {
					t.Fatalf("Validate = %v, want nil", err)
				}
				return
			}
			if err == nil {
				t.Fatal("Validate = nil, want an error")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("Validate = %q, want it to mention %q", err, w)
				}
			}
		})
	}

	d := ok.withDefaults()
	if d.Topic != DefaultTopic || d.Group != DefaultGroup || d.ProduceTimeout != DefaultProduceTimeout || d.RetryBackoff != DefaultRetryBackoff {
		t.Errorf("withDefaults = %+v", d)
	}
	if _, err := NewProducer(ok, nil, nil); err == nil || !strings.Contains(err.Error(), "spill directory") {
		t.Errorf("NewProducer without SpillDir = %v, want a spill directory error", err)
	}
}

func TestEnsureTopic(t *testing.T) {
	_, addr := newCluster(t, 1, 0)
	cfg := testConfig(t, addr)
	cfg.Topic = "created-topic"
	for range 2 { // the second call finds it and succeeds too
		if err := EnsureTopic(context.Background(), cfg, 6, 1, nil); err != nil {
			t.Fatalf("EnsureTopic: %v", err)
		}
	}
	// Created with the retention the config asks for.
	cl, err := kgo.NewClient(kgo.SeedBrokers(addr))
	if err != nil {
		t.Fatal(err)
	}
	rcs, err := kadm.NewClient(cl).DescribeTopicConfigs(context.Background(), cfg.Topic)
	cl.Close()
	if err != nil {
		t.Fatalf("describe topic configs: %v", err)
	}
	rc, err := rcs.On(cfg.Topic, nil)
	if err != nil {
		t.Fatal(err)
	}
	var retention string
	for _, c := range rc.Configs {
		if c.Key == "retention.ms" && c.Value != nil {
			retention = *c.Value
		}
	}
	if retention != "259200000" {
		t.Errorf("topic retention.ms = %q, want 259200000 (72h)", retention)
	}

	p := newProducer(t, cfg, nil)
	appendStream(t, p, 0, 50, 10)
	recs := consumeAll(t, cfg, 50)
	parts := map[int32]bool{}
	for _, r := range recs {
		parts[r.Partition] = true
	}
	if len(parts) < 2 {
		t.Errorf("events landed in %d partitions of 6", len(parts))
	}
	// The end offsets add up to what was produced, over all 6 partitions.
	end, err := EndOffsets(context.Background(), cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	var total int64
	for _, o := range end {
		total += o
	}
	if len(end) != 6 || total != 50 {
		t.Errorf("EndOffsets = %v: %d partitions, %d records; want 6 and 50", end, len(end), total)
	}
}

// TestRealKafka runs the round trip against the cluster named by
// ADMETER_TEST_KAFKA_BROKERS (comma-separated host:port), on a new topic.
func TestRealKafka(t *testing.T) {
	brokers := os.Getenv("ADMETER_TEST_KAFKA_BROKERS")
	if brokers == "" {
		t.Skip("ADMETER_TEST_KAFKA_BROKERS is not set: no real Kafka cluster to test against")
	}
	cfg := DefaultConfig()
	cfg.Brokers = strings.Split(brokers, ",")
	cfg.Topic = fmt.Sprintf("admeter-test-%d", time.Now().UnixNano())
	cfg.SpillDir = t.TempDir()
	cfg.ProduceTimeout = 10 * time.Second
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := EnsureTopic(ctx, cfg, 3, -1, nil); err != nil {
		t.Fatal(err)
	}
	p := newProducer(t, cfg, nil)
	const n, users = 200, 7
	appendStream(t, p, 0, n, users)
	if b := p.Backlog(); b != 0 {
		t.Errorf("%d events spilled against a healthy cluster", b)
	}
	checkStream(t, consumeAll(t, cfg, n), n, users, false)
}

func TestTopicConfigs(t *testing.T) {
	tests := []struct {
		rf      int16
		wantISR string // "" for none
	}{{1, ""}, {2, ""}, {3, "2"}, {5, "2"}}
	for _, tt := range tests {
		c := TopicConfigs(48*time.Hour, tt.rf)
		if got := *c["retention.ms"]; got != "172800000" {
			t.Errorf("rf %d: retention.ms = %s", tt.rf, got)
		}
		isr := ""
		if v := c["min.insync.replicas"]; v != nil {
			isr = *v
		}
		if isr != tt.wantISR {
			t.Errorf("rf %d: min.insync.replicas = %q, want %q", tt.rf, isr, tt.wantISR)
		}
	}
}
