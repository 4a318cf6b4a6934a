package kafka

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/admeter/admeter/eventlog"
)

// Defaults of Config.
const (
	DefaultTopic          = "admeter-events"
	DefaultGroup          = "admeter-loader"
	DefaultClientID       = "admeter"
	DefaultProduceTimeout = 2 * time.Second
	DefaultRetryBackoff   = 5 * time.Second
)

// Config configures a Producer, a Consumer and EnsureTopic. A zero field
// takes its value from DefaultConfig, except Brokers and SpillDir, which
// have no default.
type Config struct {
	// Brokers are the seed brokers, host:port. Required.
	Brokers []string
	// Topic is the topic events are produced to and consumed from.
	// Default "admeter-events".
	Topic string
	// ClientID is the Kafka client id, seen in broker logs and quotas.
	// Default "admeter".
	ClientID string

	// ProduceTimeout bounds how long Producer.Append waits for the brokers
	// to acknowledge an Append's records before it spills them to the
	// local spill log instead. It is also the bound of one forwarding
	// attempt. Default 2s.
	ProduceTimeout time.Duration
	// SpillDir is the directory of the Producer's spill log (an eventlog
	// directory, plus the forwarder's position file). Required by
	// NewProducer; each Producer needs its own.
	SpillDir string
	// SpillOptions configure the spill log; zero fields take the eventlog
	// defaults (FsyncAlways: a spilled Append returns once its events are
	// on stable storage).
	SpillOptions eventlog.Options
	// RetryBackoff is the longest pause of the forwarder between two
	// attempts to deliver the spill backlog while the brokers are
	// unreachable; pauses start at 100ms and double up to it. Default 5s.
	RetryBackoff time.Duration

	// Group is the consumer group of Consumers. Default "admeter-loader".
	Group string

	// TopicRetention is the retention.ms EnsureTopic gives a topic it
	// creates: long enough to ride out an outage of the loaders, short
	// enough that events of a device whose data an end user had deleted
	// leave Kafka well within the deletion deadline. Default 72h.
	TopicRetention time.Duration

	// ClientOptions are added to the franz-go client options after
	// admeter's own (for TLS, SASL or tuning such as kgo.ProducerLinger),
	// so they override them. Do not use them to weaken acks or disable
	// idempotence: the Producer's guarantee rests on both.
	ClientOptions []kgo.Opt
}

// DefaultConfig returns the defaults: topic "admeter-events", group
// "admeter-loader", client id "admeter", a 2s produce timeout, a 5s longest
// forwarding backoff, a 72h topic retention and the eventlog's default
// spill options. Brokers and SpillDir must still be set.
func DefaultConfig() Config {
	return Config{
		Topic:          DefaultTopic,
		ClientID:       DefaultClientID,
		ProduceTimeout: DefaultProduceTimeout,
		RetryBackoff:   DefaultRetryBackoff,
		Group:          DefaultGroup,
		TopicRetention: 72 * time.Hour,
	}
}

// withDefaults fills the zero fields from DefaultConfig.
func (c Config) withDefaults() Config {
	d := DefaultConfig()
	if c.Topic == "" {
		c.Topic = d.Topic
	}
	if c.ClientID == "" {
		c.ClientID = d.ClientID
	}
	if c.ProduceTimeout == 0 {
		c.ProduceTimeout = d.ProduceTimeout
	}
	if c.RetryBackoff == 0 {
		c.RetryBackoff = d.RetryBackoff
	}
	if c.Group == "" {
		c.Group = d.Group
	}
	if c.TopicRetention == 0 {
		c.TopicRetention = d.TopicRetention
	}
	return c
}

// Validate checks the configuration common to producers and consumers, with
// zero fields taken as their defaults, and reports every problem at once.
// NewProducer also requires SpillDir.
func (c Config) Validate() error {
	c = c.withDefaults()
	var errs []error
	if len(c.Brokers) == 0 {
		errs = append(errs, errors.New("no kafka brokers given: set at least one host:port"))
	}
	for _, b := range c.Brokers {
		if strings.TrimSpace(b) == "" || !strings.Contains(b, ":") {
			errs = append(errs, fmt.Errorf("kafka broker %q is not host:port", b))
		}
	}
	if strings.ContainsAny(c.Topic, " /\\") || len(c.Topic) > 249 {
		errs = append(errs, fmt.Errorf("kafka topic %q is not a valid topic name", c.Topic))
	}
	if c.ProduceTimeout < 0 {
		errs = append(errs, fmt.Errorf("negative produce timeout %v", c.ProduceTimeout))
	}
	if c.RetryBackoff < 0 {
		errs = append(errs, fmt.Errorf("negative retry backoff %v", c.RetryBackoff))
	}
	if c.TopicRetention < time.Hour {
		errs = append(errs, fmt.Errorf("topic retention %v is under an hour: loaders could not catch up after the briefest outage", c.TopicRetention))
	}
	if len(errs) > 0 {
		return fmt.Errorf("validate kafka config: %w", errors.Join(errs...))
	}
	return nil
}

// clientOptions returns the franz-go options shared by producers, consumers
// and the admin client.
func (c Config) clientOptions(logger *slog.Logger) []kgo.Opt {
	opts := []kgo.Opt{
		kgo.SeedBrokers(c.Brokers...),
		kgo.ClientID(c.ClientID),
		kgo.WithLogger(kgoLogger{logger}),
	}
	return opts
}

// EnsureTopic creates cfg.Topic with the given number of partitions and
// replication factor (-1 for either takes the broker default) unless it
// exists already; an existing topic is left as it is, whatever its
// partition count. It is meant for tests and for the first start of serve;
// production clusters usually create topics through their own tooling.
func EnsureTopic(ctx context.Context, cfg Config, partitions int32, replicationFactor int16, logger *slog.Logger) error {
	if err := cfg.Validate(); err != nil {
		return err
	}
	cfg = cfg.withDefaults()
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	cl, err := kgo.NewClient(append(cfg.clientOptions(logger), cfg.ClientOptions...)...)
	if err != nil {
		return fmt.Errorf("create kafka admin client: %w", err)
	}
	defer cl.Close()
	resp, err := kadm.NewClient(cl).CreateTopic(ctx, partitions, replicationFactor, TopicConfigs(cfg.TopicRetention, replicationFactor), cfg.Topic)
	switch {
	case errors.Is(err, kerr.TopicAlreadyExists):
		return nil
	case err != nil:
		return fmt.Errorf("create kafka topic %s (check that the brokers are reachable and allow topic creation): %w", cfg.Topic, err)
	}
	logger.Info("created kafka topic", slog.String("topic", resp.Topic), slog.Int("partitions", int(resp.NumPartitions)),
		slog.Int("replication_factor", int(resp.ReplicationFactor)))
	return nil
}

// TopicConfigs returns the topic settings EnsureTopic creates a topic
// with: retention.ms, and min.insync.replicas of 2 when there are at least 3
// replicas (so that acks=all means at least two brokers have each event:
// Kafka's default of 1 would let one broker's loss drop acknowledged
// events).
func TopicConfigs(retention time.Duration, replicationFactor int16) map[string]*string {
	ms := strconv.FormatInt(retention.Milliseconds(), 10)
	configs := map[string]*string{"retention.ms": &ms}
	if replicationFactor >= 3 {
		two := "2"
		configs["min.insync.replicas"] = &two
	}
	return configs
}

// kgoLogger passes franz-go's warnings and errors to slog. franz-go logs
// brokers, topics and partitions, never record keys or values.
type kgoLogger struct{ l *slog.Logger }

// Level implements kgo.Logger.
func (k kgoLogger) Level() kgo.LogLevel { return kgo.LogLevelWarn }

// Log implements kgo.Logger.
func (k kgoLogger) Log(level kgo.LogLevel, msg string, keyvals ...any) {
	l := slog.LevelInfo
	switch level {
	case kgo.LogLevelError:
		l = slog.LevelError
	case kgo.LogLevelWarn:
		l = slog.LevelWarn
	case kgo.LogLevelDebug:
		l = slog.LevelDebug
	}
	k.l.Log(context.Background(), l, "kafka client: "+msg, keyvals...)
}

// EndOffsets returns the next offset of every partition of the topic: what
// a loader must have stored for the topic to be drained.
func EndOffsets(ctx context.Context, cfg Config, logger *slog.Logger) (map[int32]int64, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg = cfg.withDefaults()
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	cl, err := kgo.NewClient(append(cfg.clientOptions(logger), cfg.ClientOptions...)...)
	if err != nil {
		return nil, fmt.Errorf("create kafka admin client: %w", err)
	}
	defer cl.Close()
	listed, err := kadm.NewClient(cl).ListEndOffsets(ctx, cfg.Topic)
	if err != nil {
		return nil, fmt.Errorf("list end offsets of kafka topic %s: %w", cfg.Topic, err)
	}
	out := map[int32]int64{}
	var errs []error
	listed.Each(func(o kadm.ListedOffset) {
		if o.Err != nil {
			errs = append(errs, fmt.Errorf("partition %d: %w", o.Partition, o.Err))
			return
		}
		out[o.Partition] = o.Offset
	})
	if len(errs) > 0 {
		return nil, fmt.Errorf("list end offsets of kafka topic %s: %w", cfg.Topic, errors.Join(errs...))
	}
	return out, nil
}
