package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/admeter/admeter/eventlog"
	"github.com/admeter/admeter/eventlog/kafka"
	"github.com/admeter/admeter/ingest"
	"github.com/admeter/admeter/store"
)

// kafkaBrokers splits --kafka-brokers ("host:port,host:port").
func kafkaBrokers(s string) []string {
	var out []string
	for _, b := range strings.Split(s, ",") {
		if b = strings.TrimSpace(b); b != "" {
			out = append(out, b)
		}
	}
	return out
}

// kafkaConfig is the Kafka configuration of cfg, with the spill log under
// the data directory and the event log's fsync settings.
func kafkaConfig(cfg ServeConfig, lopts eventlog.Options) kafka.Config {
	k := kafka.DefaultConfig()
	k.Brokers = kafkaBrokers(cfg.KafkaBrokers)
	k.Topic = cfg.KafkaTopic
	k.Group = cfg.KafkaGroup
	k.TopicRetention = cfg.KafkaRetention
	k.SpillDir = filepath.Join(cfg.DataDir, "kafka-spill")
	k.SpillOptions = lopts
	// A loader that dies holds its partitions until the group gives up on
	// it: keep that short (Kafka's default is 45 s).
	k.ClientOptions = append(k.ClientOptions, kgo.SessionTimeout(cfg.KafkaSessionTimeout))
	return k
}

// kafkaPipe is the Kafka side of a server that logs to Kafka: the producer
// its collector appends to, and the consumer its loader reads.
type kafkaPipe struct {
	cfg      kafka.Config
	producer *kafka.Producer
	consumer *kafka.Consumer
	logger   *slog.Logger
}

// openKafka creates the topic if it is missing (a failure is logged: the
// collector spills until the brokers answer) and the producer; the consumer
// only when this server loads.
func openKafka(ctx context.Context, cfg ServeConfig, lopts eventlog.Options, st store.Store, logger *slog.Logger, reg prometheus.Registerer) (*kafkaPipe, error) {
	k := &kafkaPipe{cfg: kafkaConfig(cfg, lopts), logger: logger}
	ectx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := kafka.EnsureTopic(ectx, k.cfg, int32(cfg.KafkaPartitions), int16(cfg.KafkaReplication), logger); err != nil {
		logger.Warn("could not make sure the kafka topic exists; events spill locally until the brokers answer", "topic", k.cfg.Topic, "err", err)
	}
	part := cfg.parts()
	var err error
	if part.collect {
		if k.producer, err = kafka.NewProducer(k.cfg, logger, reg); err != nil {
			return nil, fmt.Errorf("start kafka producer: %w", err)
		}
	}
	if part.load {
		start := func(ctx context.Context, partitions []int32) (map[int32]int64, error) {
			pos, err := st.Positions(ctx)
			if err != nil {
				return nil, err
			}
			out := make(map[int32]int64, len(partitions))
			for _, p := range partitions {
				if o, ok := pos[p]; ok {
					out[p] = o
				}
			}
			return out, nil
		}
		if k.consumer, err = kafka.NewConsumer(k.cfg, start, logger); err != nil {
			if k.producer != nil {
				_ = k.producer.Close()
			}
			return nil, fmt.Errorf("start kafka consumer: %w", err)
		}
	}
	return k, nil
}

// Poll reads records for the loader.
func (k *kafkaPipe) Poll(ctx context.Context, max int) ([]ingest.SourceRecord, error) {
	recs, err := k.consumer.Poll(ctx, max)
	out := make([]ingest.SourceRecord, len(recs))
	for i, r := range recs {
		out[i] = ingest.SourceRecord{Partition: r.Partition, Offset: r.Offset, Value: r.Value}
	}
	return out, err
}

// Commit tells the group how far the loader got.
func (k *kafkaPipe) Commit(ctx context.Context, next map[int32]int64) error {
	return k.consumer.Commit(ctx, next)
}

// drain returns once the store holds every event acknowledged before the
// call: this collector's spill forwarded, then every partition loaded up to
// its end offset as of then (by this process or, in a cluster, by the
// loaders). Events still spilled on other collectors, whose brokers were
// away, are not waited for.
func (k *kafkaPipe) drain(ctx context.Context, st store.Store) error {
	for k.producer != nil && k.producer.Backlog() > 0 {
		if err := sleepCtx(ctx, 20*time.Millisecond); err != nil {
			return err
		}
	}
	end, err := kafka.EndOffsets(ctx, k.cfg, k.logger)
	if err != nil {
		return err
	}
	for {
		pos, err := st.Positions(ctx)
		if err != nil {
			return err
		}
		behind := false
		for p, o := range end {
			if pos[p] < o {
				behind = true
				break
			}
		}
		if !behind {
			return nil
		}
		if err := sleepCtx(ctx, 20*time.Millisecond); err != nil {
			return err
		}
	}
}

// close stops the consumer, then the producer (which forwards what it can
// and keeps the rest of its spill for the next start).
func (k *kafkaPipe) close() error {
	var errs []error
	if k.consumer != nil {
		if err := k.consumer.Close(); err != nil {
			errs = append(errs, fmt.Errorf("close kafka consumer: %w", err))
		}
	}
	if k.producer != nil {
		if err := k.producer.Close(); err != nil {
			errs = append(errs, fmt.Errorf("close kafka producer: %w", err))
		}
	}
	return errors.Join(errs...)
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(d):
		return nil
	}
}
