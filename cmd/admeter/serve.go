package main

import (
	"context"
	"crypto/ed25519"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"os"
	"path/filepath"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/admeter/admeter"
	"github.com/admeter/admeter/api"
	"github.com/admeter/admeter/collect"
	"github.com/admeter/admeter/collect/fastcollect"
	"github.com/admeter/admeter/collect/viewtag"
	"github.com/admeter/admeter/console"
	"github.com/admeter/admeter/eventlog"
	"github.com/admeter/admeter/ingest"
	"github.com/admeter/admeter/ivt"
	"github.com/admeter/admeter/ivt/behaviour"
	"github.com/admeter/admeter/keystore"
	"github.com/admeter/admeter/meta/postgres"
	"github.com/admeter/admeter/meta/sqlite"
	"github.com/admeter/admeter/notify"
	"github.com/admeter/admeter/optout"
	"github.com/admeter/admeter/optout/optouthttp"
	"github.com/admeter/admeter/pseudo"
	"github.com/admeter/admeter/reach"
	"github.com/admeter/admeter/report"
	"github.com/admeter/admeter/retention"
	"github.com/admeter/admeter/rights"
	"github.com/admeter/admeter/social"
	"github.com/admeter/admeter/store"
	"github.com/admeter/admeter/workday"
)

// ServeConfig is the configuration of "admeter serve".
type ServeConfig struct {
	Addr string
	// PixelAddr is a second listener that serves only the monitoring URLs,
	// on fasthttp (package collect/fastcollect): an address, pixelAuto (the
	// port after Addr's, on the roles that collect) or pixelOff.
	PixelAddr string
	DataDir   string
	PublicURL string
	// PixelPublicURL is the base of the monitoring URLs handed out; empty:
	// PublicURL if set, else the pixel listener on localhost, else Addr's.
	PixelPublicURL  string
	Fsync           string
	FsyncInterval   time.Duration
	GeoIP           string
	MasterKey       string
	MasterKeyFile   string
	TrustedProxies  string
	LogFormat       string
	LogLevel        string
	ShutdownTimeout time.Duration
	MaxBatchEvents  int
	MaxBodyBytes    int64
	StoreMemory     string
	// StoreCluster is how often the embedded store's ended days are
	// rewritten in campaign order (0: never).
	StoreCluster  time.Duration
	MaxReportDays int
	Demo          bool
	Ingest        bool
	Retention     string
	Holidays      string
	HonorGPC      bool
	DataCentres   string
	AllowUA       string
	IVTRules      string
	IVTInterval   time.Duration
	// Role is what this process does: all (the default: everything on one
	// machine), collector, loader or api.
	Role string
	// ClickHouseDSN selects ClickHouse as the analytical store instead of
	// the embedded DuckDB; PostgresDSN selects PostgreSQL as the metadata
	// store instead of the embedded SQLite.
	ClickHouseDSN string
	PostgresDSN   string
	// ClickHouseCluster, if set, names the cluster (in the servers'
	// remote_servers) whose shards hold the events; ClickHouseDSN is then
	// the coordinator, one of its shards.
	ClickHouseCluster string
	// Kafka between collectors and loaders (empty KafkaBrokers: the local
	// event log).
	KafkaBrokers        string
	KafkaTopic          string
	KafkaGroup          string
	KafkaPartitions     int
	KafkaReplication    int
	KafkaSessionTimeout time.Duration
	KafkaRetention      time.Duration
	// Audience is the privacy configuration of audience insight.
	Audience AudienceConfig
	// Notify configures incident notices and announcements.
	Notify NotifyConfig
	// SocialMinAuthors is the aggregation threshold of social insight:
	// no published count describes fewer distinct authors.
	SocialMinAuthors int
	// SocialPreload loads social insight's Chinese dictionary at start and
	// keeps it; otherwise the first upload or report loads it and it is
	// released after 10 minutes unused.
	SocialPreload bool
}

// DefaultServeConfig returns the embedded defaults.
func DefaultServeConfig() ServeConfig {
	return ServeConfig{
		Addr:                ":8080",
		PixelAddr:           pixelAuto,
		Role:                RoleAll,
		DataDir:             "./admeter-data",
		Fsync:               "always",
		FsyncInterval:       5 * time.Millisecond,
		LogFormat:           "text",
		LogLevel:            "info",
		ShutdownTimeout:     15 * time.Second,
		MaxBatchEvents:      1000,
		MaxBodyBytes:        4 << 20,
		StoreMemory:         "1GB",
		StoreCluster:        10 * time.Minute,
		MaxReportDays:       report.DefaultMaxDays,
		Ingest:              true,
		Retention:           "180d",
		HonorGPC:            true,
		IVTInterval:         5 * time.Minute,
		KafkaTopic:          "admeter-events",
		KafkaGroup:          "admeter-loader",
		KafkaPartitions:     48,
		KafkaReplication:    3,
		KafkaSessionTimeout: 10 * time.Second,
		KafkaRetention:      72 * time.Hour,
		Audience:            defaultAudienceConfig(),
		Notify:              defaultNotifyConfig(),
		SocialMinAuthors:    10,
	}
}

// Validate reports every problem with c at once.
func (c *ServeConfig) Validate() error {
	var errs []error
	if c.Addr == "" {
		errs = append(errs, errors.New("--addr is required, e.g. :8080"))
	}
	if c.DataDir == "" {
		errs = append(errs, errors.New("--data is required, e.g. ./admeter-data"))
	}
	if _, err := c.pixelListenAddr(); err != nil {
		errs = append(errs, err)
	}
	if c.Fsync != "always" && c.Fsync != "interval" {
		errs = append(errs, fmt.Errorf("--fsync must be always or interval, not %q", c.Fsync))
	}
	if c.FsyncInterval <= 0 || c.FsyncInterval > time.Second {
		errs = append(errs, fmt.Errorf("--fsync-interval must be between 1ns and 1s, not %s", c.FsyncInterval))
	}
	if c.LogFormat != "text" && c.LogFormat != "json" {
		errs = append(errs, fmt.Errorf("--log-format must be text or json, not %q", c.LogFormat))
	}
	var lvl slog.Level
	if err := lvl.UnmarshalText([]byte(c.LogLevel)); err != nil {
		errs = append(errs, fmt.Errorf("--log-level must be debug, info, warn or error, not %q", c.LogLevel))
	}
	if _, err := parsePrefixes(c.TrustedProxies); err != nil {
		errs = append(errs, fmt.Errorf("--trusted-proxies: %v", err))
	}
	for _, f := range []struct{ name, value string }{{"--public-url", c.PublicURL}, {"--pixel-public-url", c.PixelPublicURL}} {
		if f.value != "" && !isOrigin(f.value) {
			errs = append(errs, fmt.Errorf("%s must be a scheme and host such as https://t.example.com (http:// or https://, no path or query), not %q", f.name, f.value))
		}
	}
	if c.MaxReportDays < 1 {
		errs = append(errs, errors.New("--max-report-days must be at least 1"))
	}
	if c.SocialMinAuthors < minSocialAuthors {
		errs = append(errs, fmt.Errorf("--social-min-authors must be at least %d: fewer authors make a count about a few people", minSocialAuthors))
	}
	if c.StoreMemory == "" {
		errs = append(errs, errors.New("--store-memory is required, e.g. 1GB"))
	}
	if d, err := retention.Parse(c.Retention); err != nil {
		errs = append(errs, fmt.Errorf("--retention: %s", admeter.ErrorMessage(err)))
	} else if err := (retention.Config{Retention: d}).Validate(); err != nil {
		errs = append(errs, fmt.Errorf("--retention: %v", err))
	}
	if _, err := behaviour.LoadRules(c.IVTRules); err != nil {
		errs = append(errs, fmt.Errorf("--ivt-rules: %v", err))
	}
	if c.KafkaBrokers != "" {
		if c.KafkaTopic == "" || c.KafkaGroup == "" {
			errs = append(errs, errors.New("--kafka-topic and --kafka-group must not be empty with --kafka-brokers"))
		}
		if c.KafkaPartitions < 1 || c.KafkaPartitions > 10000 || c.KafkaReplication < 1 || c.KafkaReplication > 32767 {
			errs = append(errs, errors.New("--kafka-partitions must be between 1 and 10000 and --kafka-replication at least 1"))
		}
		if c.KafkaRetention < time.Hour || c.KafkaRetention > 7*24*time.Hour {
			errs = append(errs, errors.New("--kafka-retention must be between 1h and 168h: long enough for the loaders to catch up after an outage, short enough that deleted users' events leave Kafka well within the 15-working-day deadline"))
		}
		if c.KafkaSessionTimeout < 6*time.Second || c.KafkaSessionTimeout > 5*time.Minute {
			errs = append(errs, errors.New("--kafka-session-timeout must be between 6s and 5m (Kafka's group session bounds)"))
		}
		for _, b := range kafkaBrokers(c.KafkaBrokers) {
			if _, _, err := net.SplitHostPort(b); err != nil {
				errs = append(errs, fmt.Errorf("--kafka-brokers: %q is not host:port", b))
			}
		}
	}
	errs = append(errs, c.validateRole()...)
	errs = append(errs, c.Notify.validate()...)
	if _, err := c.Audience.insightConfig(); err != nil {
		errs = append(errs, err)
	}
	if c.ClickHouseCluster != "" && c.ClickHouseDSN == "" {
		errs = append(errs, errors.New("--clickhouse-cluster needs --clickhouse-dsn (the coordinator: one of the cluster's shards)"))
	}
	if c.ClickHouseDSN != "" && !strings.HasPrefix(c.ClickHouseDSN, "clickhouse://") {
		errs = append(errs, errors.New("--clickhouse-dsn must be a native-protocol DSN such as clickhouse://user:password@host:9000/admeter"))
	}
	if c.PostgresDSN != "" && !strings.HasPrefix(c.PostgresDSN, "postgres://") && !strings.HasPrefix(c.PostgresDSN, "postgresql://") && !strings.Contains(c.PostgresDSN, "=") {
		errs = append(errs, errors.New("--postgres-dsn must be a URL such as postgres://admeter:password@host:5432/admeter or key=value settings such as 'host=db dbname=admeter'"))
	}
	if c.StoreCluster < 0 {
		errs = append(errs, errors.New("--store-cluster-interval must not be negative (0 turns clustering off)"))
	}
	if c.IVTInterval < 0 {
		errs = append(errs, errors.New("--ivt-interval must not be negative (0 turns behavioural invalid-traffic detection off)"))
	}
	if c.MaxBatchEvents < 1 || c.MaxBodyBytes < 1024 {
		errs = append(errs, errors.New("--max-batch-events must be at least 1 and --max-body-bytes at least 1024"))
	}
	return errors.Join(errs...)
}

// ServeCommand runs the collector and the API.
type ServeCommand struct{}

// Run parses flags, opens everything and serves until ctx is cancelled.
func (c *ServeCommand) Run(ctx context.Context, args []string) error {
	cfg := DefaultServeConfig()
	fs := newFlagSet("serve", "Run the collector (monitoring URLs, batch API) and the management API on embedded defaults.\n启动采集服务(监测链接、批量接口)和管理 API,默认配置即可运行。")
	registerServeFlags(fs, &cfg)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if err := cfg.Validate(); err != nil {
		return usageError{err.Error()}
	}
	logger := newLogger(cfg.LogFormat, cfg.LogLevel)
	tuneGC()
	m := NewMain(cfg, logger)
	if err := m.Open(ctx); err != nil {
		_ = m.Close()
		return err
	}
	<-ctx.Done()
	logger.Info("shutting down: no new requests; finishing those in flight")
	return m.Close()
}

func registerServeFlags(fs *flag.FlagSet, cfg *ServeConfig) {
	fs.StringVar(&cfg.Addr, "addr", cfg.Addr, "address to listen on / 监听地址")
	fs.StringVar(&cfg.PixelAddr, "pixel-addr", cfg.PixelAddr, "second address that serves only the monitoring URLs (/x, /r), the viewability tag (/v.js) and /healthz, on a lighter HTTP/1.1 stack (fasthttp) that takes about a quarter less CPU a request; the monitoring URLs handed out point at it. auto: the port after --addr's (:8081) on roles all and collector; off: none (--addr serves the monitoring URLs too, always) / 监测链接专用监听地址")
	fs.StringVar(&cfg.DataDir, "data", cfg.DataDir, "data directory, created if missing / 数据目录")
	fs.StringVar(&cfg.PublicURL, "public-url", cfg.PublicURL, "scheme and host clients reach this server at, e.g. https://t.example.com: the base of the console's links and, unless --pixel-public-url is given, of monitoring URLs (default http://localhost<addr>) / 对外地址")
	fs.StringVar(&cfg.PixelPublicURL, "pixel-public-url", cfg.PixelPublicURL, "scheme and host media reach the monitoring URLs at, the base of the impression and click URLs handed out (default: --public-url if given, else http://localhost<pixel-addr>, else as --public-url) / 监测链接对外地址")
	fs.StringVar(&cfg.Fsync, "fsync", cfg.Fsync, "always: answer only after the event is fsynced (survives power loss); interval: answer once the OS has it and fsync every --fsync-interval (survives a process crash, not a power cut)")
	fs.DurationVar(&cfg.FsyncInterval, "fsync-interval", cfg.FsyncInterval, "how often --fsync=interval fsyncs the log: the most a power cut can take (a longer period costs less CPU)")
	fs.StringVar(&cfg.GeoIP, "geoip", cfg.GeoIP, "IP geolocation database (.mmdb MaxMind format or .ipdb); default: the embedded free IPv4 city database")
	fs.StringVar(&cfg.MasterKey, "master-key", cfg.MasterKey, "master key that encrypts the key store: 32 bytes as base64 or 64 hex characters")
	fs.StringVar(&cfg.MasterKeyFile, "master-key-file", cfg.MasterKeyFile, "file holding the master key (mode 0600)")
	fs.StringVar(&cfg.TrustedProxies, "trusted-proxies", cfg.TrustedProxies, "comma-separated CIDRs whose X-Forwarded-For is believed, e.g. 10.0.0.0/8")
	fs.StringVar(&cfg.LogFormat, "log-format", cfg.LogFormat, "text or json")
	fs.StringVar(&cfg.LogLevel, "log-level", cfg.LogLevel, "debug, info, warn or error")
	fs.DurationVar(&cfg.ShutdownTimeout, "shutdown-timeout", cfg.ShutdownTimeout, "how long to wait for in-flight requests on shutdown")
	fs.IntVar(&cfg.MaxBatchEvents, "max-batch-events", cfg.MaxBatchEvents, "most events in one batch API request")
	fs.Int64Var(&cfg.MaxBodyBytes, "max-body-bytes", cfg.MaxBodyBytes, "largest batch API request body")
	fs.StringVar(&cfg.StoreMemory, "store-memory", cfg.StoreMemory, "memory limit of the embedded analytical store (DuckDB notation, e.g. 512MB, 2GB); larger queries spill to disk")
	fs.DurationVar(&cfg.StoreCluster, "store-cluster-interval", cfg.StoreCluster, "how often the embedded store rewrites the days that ended over an hour ago in campaign order (so that a campaign's queries skip other campaigns' events) and builds their reach index (for cross-media reach); 0 turns it off, and reach queries then build the index themselves / 按活动重排已结束日期并建立跨媒体触达索引的间隔")
	fs.IntVar(&cfg.MaxReportDays, "max-report-days", cfg.MaxReportDays, "longest date range one report request may cover")
	fs.BoolVar(&cfg.Ingest, "ingest", cfg.Ingest, "load logged events into the analytical store; --ingest=false runs a collector only (events stay in the log until a loader runs)")
	fs.StringVar(&cfg.Retention, "retention", cfg.Retention, "how long raw events are kept, at least 180d (e.g. 180d, 26w, 4320h); older ones are deleted by whole days, daily rollups stay / 原始事件保存期限,不少于 180 天")
	fs.StringVar(&cfg.Holidays, "holidays", cfg.Holidays, "comma-separated holiday files or directories (the format of workday/data/cn-2026.json), replacing or adding years of China's working-day calendar used for request deadlines")
	fs.StringVar(&cfg.DataCentres, "datacentres", cfg.DataCentres, "file of data-centre and hosting ranges (one CIDR or address per line, # comments) whose traffic is flagged invalid; reread when it changes / 机房 IP 段文件")
	fs.StringVar(&cfg.AllowUA, "allow-ua", cfg.AllowUA, "comma-separated user-agent parts never flagged as crawlers (e.g. your own monitoring)")
	fs.StringVar(&cfg.IVTRules, "ivt-rules", cfg.IVTRules, "JSON file of behavioural invalid-traffic thresholds over the defaults (see docs/invalid-traffic.md) / 复杂无效流量阈值文件")
	fs.StringVar(&cfg.Role, "role", cfg.Role, "what this process does: all (everything on one machine), or in a cluster collector (monitoring URLs to Kafka), loader (Kafka to ClickHouse) or api (API, console and background jobs); see docs/deploy.md / 节点角色")
	fs.StringVar(&cfg.ClickHouseDSN, "clickhouse-dsn", cfg.ClickHouseDSN, "ClickHouse native-protocol DSN (clickhouse://user:password@host:9000/db): the analytical store instead of the embedded DuckDB")
	fs.StringVar(&cfg.ClickHouseCluster, "clickhouse-cluster", cfg.ClickHouseCluster, "ClickHouse cluster (a remote_servers entry) whose shards hold the events, sharded by user; --clickhouse-dsn is then one of its shards, which coordinates loading")
	fs.StringVar(&cfg.PostgresDSN, "postgres-dsn", cfg.PostgresDSN, "PostgreSQL DSN (postgres://user:password@host:5432/db): the metadata store, shared by every node, instead of the embedded SQLite")
	fs.StringVar(&cfg.KafkaBrokers, "kafka-brokers", cfg.KafkaBrokers, "comma-separated Kafka brokers (host:port): events go to Kafka instead of the local event log, and this server's loader reads them from there / Kafka 地址")
	fs.StringVar(&cfg.KafkaTopic, "kafka-topic", cfg.KafkaTopic, "Kafka topic of the events")
	fs.StringVar(&cfg.KafkaGroup, "kafka-group", cfg.KafkaGroup, "Kafka consumer group of the loaders")
	fs.IntVar(&cfg.KafkaPartitions, "kafka-partitions", cfg.KafkaPartitions, "partitions of the topic when admeter creates it")
	fs.IntVar(&cfg.KafkaReplication, "kafka-replication", cfg.KafkaReplication, "replication factor of the topic when admeter creates it")
	fs.DurationVar(&cfg.KafkaRetention, "kafka-retention", cfg.KafkaRetention, "retention of the topic when admeter creates it (at most 168h, so that end users' deleted events leave Kafka in time)")
	fs.DurationVar(&cfg.KafkaSessionTimeout, "kafka-session-timeout", cfg.KafkaSessionTimeout, "how long the loaders' group waits for a loader that stopped answering before giving its partitions to the others")
	fs.DurationVar(&cfg.IVTInterval, "ivt-interval", cfg.IVTInterval, "how often recent days are judged for behavioural invalid traffic; 0 turns it off / 复杂无效流量判定间隔")
	fs.BoolVar(&cfg.HonorGPC, "honor-gpc", cfg.HonorGPC, "treat Global Privacy Control (Sec-GPC: 1) as an opt-out: answer, but log and count nothing")
	registerAudienceFlags(fs, &cfg.Audience)
	fs.IntVar(&cfg.SocialMinAuthors, "social-min-authors", cfg.SocialMinAuthors, fmt.Sprintf("social insight threshold: no published count describes fewer distinct authors; at least %d / 社会化洞察最少作者数", minSocialAuthors))
	fs.BoolVar(&cfg.SocialPreload, "social-preload", cfg.SocialPreload, "load social insight's Chinese dictionary (≈190 MiB) at start and keep it; by default the first upload or report loads it and it is released after 10 minutes unused / 启动时加载社会化洞察词典")
	registerNotifyFlags(fs, &cfg.Notify)
	fs.BoolVar(&cfg.Demo, "demo", cfg.Demo, "create a demo tenant and campaign on first start and send it simulated traffic / 演示模式")
}

func newLogger(format, level string) *slog.Logger {
	var lvl slog.Level
	_ = lvl.UnmarshalText([]byte(level))
	opts := &slog.HandlerOptions{Level: lvl}
	if format == "json" {
		return slog.New(slog.NewJSONHandler(os.Stderr, opts))
	}
	return slog.New(slog.NewTextHandler(os.Stderr, opts))
}

func parsePrefixes(s string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, part := range strings.Split(s, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		if !strings.Contains(part, "/") {
			a, err := netip.ParseAddr(part)
			if err != nil {
				return nil, fmt.Errorf("%q is not a CIDR or an address", part)
			}
			out = append(out, netip.PrefixFrom(a, a.BitLen()))
			continue
		}
		p, err := netip.ParsePrefix(part)
		if err != nil {
			return nil, fmt.Errorf("%q is not a CIDR such as 10.0.0.0/8", part)
		}
		out = append(out, p.Masked())
	}
	return out, nil
}

// Main is a running admeter server. It exists apart from ServeCommand so that
// tests can run the real wiring in-process.
type Main struct {
	Config ServeConfig
	Logger *slog.Logger
	// Now is the clock of retention and request deadlines (collection
	// always uses real time); tests move it forward. Default time.Now.
	Now func() time.Time
	// KeyPoll is how often the key store file is reread, so that a key
	// rotated by "admeter keys" is used within that time. Default 5 s.
	KeyPoll time.Duration
	// StoreClusterMinRows is the rows a day of the embedded store needs
	// before --store-cluster-interval's job rewrites it; 0 for the store's
	// default (two row groups). Tests lower it.
	StoreClusterMinRows int64

	meta     metadata
	log      *eventlog.Log
	store    store.Store
	loader   *ingest.Loader
	stopLoad context.CancelFunc
	loadDone chan error
	geo      interface{ Close() error }
	catalog  *collect.Catalog
	http     *http.Server
	ln       net.Listener
	pixel    *fastcollect.Server
	pixelLn  net.Listener
	// collectorURL is the base of the monitoring URLs handed out.
	collectorURL string
	ready        atomic.Bool

	stopDemo context.CancelFunc
	demoDone chan struct{}

	closeOnce sync.Once
	closeErr  error
	stopPoll  context.CancelFunc
	pollDone  chan struct{}

	keys     *keyring
	registry *optout.Registry
	// optouts is the registry, or with PostgreSQL the registry kept in
	// step with every other node's (optout.Shared).
	optouts interface {
		Add(ctx context.Context, ps ...admeter.Pseudonym) (int, error)
		Contains(p admeter.Pseudonym) bool
	}
	sharedOptOuts *optout.Shared
	audit         auditLog
	rights        *rights.Service
	retention     *retention.Job
	notify        *notify.Service
	behaviour     *behaviour.Job
	clustering    *clusterJob
	detector      *ivt.Detector
	kafka         *kafkaPipe
	stopBG        context.CancelFunc
	bg            sync.WaitGroup
}

// NewMain returns a Main for cfg.
func NewMain(cfg ServeConfig, logger *slog.Logger) *Main {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &Main{Config: cfg, Logger: logger, Now: time.Now}
}

// Addr returns the address the server listens on (useful with :0).
func (m *Main) Addr() string {
	if m.ln == nil {
		return ""
	}
	return m.ln.Addr().String()
}

// PixelAddr returns the address the monitoring-URL listener listens on, ""
// without one (--pixel-addr off).
func (m *Main) PixelAddr() string {
	if m.pixelLn == nil {
		return ""
	}
	return m.pixelLn.Addr().String()
}

// CollectorURL returns the base of the monitoring URLs handed out.
func (m *Main) CollectorURL() string { return m.collectorURL }

// pixelBase returns the URL this process reaches its own monitoring URLs
// at: the pixel listener, or --addr without one.
func (m *Main) pixelBase() string {
	if m.pixelLn != nil {
		return "http://" + m.pixelLn.Addr().String()
	}
	return "http://" + m.ln.Addr().String()
}

// Open opens the data directory, the stores and the log, and starts serving.
func (m *Main) Open(ctx context.Context) error {
	cfg, logger := m.Config, m.Logger
	if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
		return fmt.Errorf("create data directory %s: %w (choose another with --data)", cfg.DataDir, err)
	}
	opHash, err := operatorToken(cfg.DataDir, logger)
	if err != nil {
		return err
	}

	master, source, err := keystore.LoadMasterKey(keystore.MasterKeyConfig{Value: cfg.MasterKey, File: cfg.MasterKeyFile, DataDir: cfg.DataDir}, logger)
	if err != nil {
		return fmt.Errorf("load master key: %w", err)
	}
	if m.Now == nil {
		m.Now = time.Now
	}
	if err := m.openMeta(ctx); err != nil {
		return err
	}
	keys, err := m.openKeys(ctx, master)
	if err != nil {
		return err
	}
	if m.keys, err = newKeyring(keys, logger.With("component", "keys")); err != nil {
		return fmt.Errorf("open key store: %w", err)
	}
	optSecret := keys.OptOutSecret()
	optoutPS, err := pseudo.New(pseudo.Key{Version: 1, Secret: optSecret})
	clear(optSecret)
	if err != nil {
		return fmt.Errorf("create opt-out pseudonymizer: %w", err)
	}
	logger.Info("key store open", "master_key_source", source, "key_version", m.keys.Current().Version())

	if m.registry, err = optout.Open(filepath.Join(cfg.DataDir, "optout.reg"), logger.With("component", "optout")); err != nil {
		return fmt.Errorf("open opt-out registry: %w", err)
	}
	m.optouts = m.registry
	var holidayFiles []string
	for _, p := range strings.Split(cfg.Holidays, ",") {
		if p = strings.TrimSpace(p); p != "" {
			holidayFiles = append(holidayFiles, p)
		}
	}
	cal, err := workday.Load(holidayFiles...)
	if err != nil {
		return fmt.Errorf("load holiday calendar: %w", err)
	}
	if y := m.Now().In(workday.Location()).Year(); !cal.Covers(y) || !cal.Covers(y+1) {
		logger.Warn("the working-day calendar lacks China's public holidays for this or next year; request deadlines in those years count Monday to Friday only. Add the State Council's schedule with --holidays",
			"years_covered", cal.Years(), "needed", []int{y, y + 1})
	}

	sealer, err := newSecretSealer(derivedKey(master, "totp-secrets/v1"))
	if err != nil {
		return err
	}
	auditKey := auditSigningKey(master)
	switch db := m.meta.(type) {
	case *postgres.DB:
		m.audit = postgresAudit{postgres.NewAuditLog(db, auditKey)}
	case *sqlite.DB:
		m.audit = sqliteAudit{sqlite.NewAuditLog(db, auditKey)}
	}
	if err := writeAuditPublicKey(cfg.DataDir, auditKey.Public().(ed25519.PublicKey)); err != nil {
		return err
	}

	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	if err := m.shareOptOuts(ctx, reg); err != nil {
		return err
	}

	lopts := eventlog.DefaultOptions()
	if cfg.Fsync == "interval" {
		lopts.Fsync = eventlog.FsyncInterval
		lopts.FsyncInterval = cfg.FsyncInterval
		logger.Warn("fsync=interval: events are acknowledged before they are on disk; a process crash loses nothing, a power cut can lose the events of the last --fsync-interval",
			"fsync_interval", cfg.FsyncInterval)
	}
	m.log, err = eventlog.Open(filepath.Join(cfg.DataDir, "events"), lopts, logger.With("component", "eventlog"), reg)
	if err != nil {
		return fmt.Errorf("open event log: %w", err)
	}

	part := cfg.parts()
	if part.load || part.api {
		if err := m.openStore(ctx); err != nil {
			return err
		}
	}

	reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{Namespace: "admeter", Subsystem: "optout", Name: "registry_entries",
		Help: "Devices in the opt-out registry."}, func() float64 { return float64(m.registry.Len()) }))

	m.catalog = &collect.Catalog{}
	if err := m.reloadCatalog(ctx); err != nil {
		return err
	}
	var appender collect.Appender = logAppender{m.log}
	if cfg.KafkaBrokers != "" {
		if m.kafka, err = openKafka(ctx, cfg, lopts, m.store, logger.With("component", "kafka"), reg); err != nil {
			return err
		}
		if part.collect {
			appender = m.kafka.producer
		}
	}
	if part.load {
		if err := m.startLoader(logger, reg); err != nil {
			return err
		}
	} else if cfg.Role == RoleAll {
		logger.Warn("--ingest=false: events are logged but not loaded into the analytical store; reports will not show them until admeter runs with --ingest")
	}

	var col *collect.Collector
	if part.collect {
		if col, err = m.newCollector(appender, optoutPS, logger, reg); err != nil {
			return err
		}
	}

	// The jobs and the API need the store's loading to be under way
	// somewhere: here, or, in a cluster, on the loaders.
	pipe := pipeline{log: m.log, store: m.store, catalog: m.catalog, loading: part.load || cfg.Role == RoleAPI, kafka: m.kafka}
	retentionPeriod, _ := retention.Parse(cfg.Retention)
	if part.api {
		rcfg := rights.DefaultConfig(filepath.Join(cfg.DataDir, "exports"))
		rcfg.Now = func() time.Time { return m.Now() }
		rcfg.Location = workday.Location()
		if m.rights, err = rights.New(rcfg, m.meta, m.store, m.optouts, optoutPS, m.keys, pipe, cal, m.audit, logger.With("component", "rights")); err != nil {
			return err
		}
		if m.retention, err = retention.New(retention.Config{Retention: retentionPeriod, Now: func() time.Time { return m.Now() }},
			m.store, m.log, pipe, m.keys, m.meta, m.audit, logger.With("component", "retention")); err != nil {
			return err
		}
		rules, err := behaviour.LoadRules(cfg.IVTRules)
		if err != nil {
			return err
		}
		if m.behaviour, err = behaviour.New(behaviour.Config{Rules: rules, Now: func() time.Time { return m.Now() }},
			m.store, pipe, logger.With("component", "ivt-behaviour"), reg); err != nil {
			return err
		}
		m.clustering = newClusterJob(func() time.Time { return m.Now() }, logger.With("component", "store-cluster"), reg)
	}

	m.ln, err = net.Listen("tcp", cfg.Addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w (is another admeter running? Its pixel listener also takes the port after its --addr. Choose another with --addr)", cfg.Addr, err)
	}
	pixelAddr, err := cfg.pixelListenAddr()
	if err != nil {
		_ = m.ln.Close()
		return err
	}
	if pixelAddr != "" {
		if m.pixelLn, err = net.Listen("tcp", pixelAddr); err != nil {
			_ = m.ln.Close()
			return fmt.Errorf("listen on %s for monitoring URLs: %w (choose another with --pixel-addr, or --pixel-addr off)", pixelAddr, err)
		}
	}
	public := cfg.PublicURL
	if public == "" {
		public = defaultPublicURL(m.ln.Addr())
	}
	// Monitoring URLs point at the pixel listener unless the operator said
	// where media reach this server: a balancer in front routes /x and /r
	// (docs/deploy.md).
	m.collectorURL = cfg.PixelPublicURL
	switch {
	case m.collectorURL != "":
	case cfg.PublicURL != "" || m.pixelLn == nil:
		m.collectorURL = public
	default:
		m.collectorURL = defaultPublicURL(m.pixelLn.Addr())
	}
	m.collectorURL = strings.TrimSuffix(m.collectorURL, "/")
	mux := http.NewServeMux()
	var handleCollect http.HandlerFunc
	if part.collect {
		optCfg := optouthttp.DefaultConfig()
		collectCfg := collect.DefaultConfig()
		optCfg.IDCookieName, optCfg.CookieName = collectCfg.CookieName, collectCfg.OptOutCookieName
		optCfg.HonorGPC = cfg.HonorGPC
		optCfg.ClientIP = col.ClientAddr
		optCfg.PublicURL = public
		optPage, err := optouthttp.New(optCfg, m.optouts, optoutPS, logger.With("component", "optout"), reg)
		if err != nil {
			return err
		}
		optPage.Register(mux)
		mux.Handle("GET "+viewtag.Path, viewtag.Handler())
		handleCollect = col.ServeMonitoring
		if m.pixelLn != nil {
			pixelCfg := fastcollect.DefaultConfig()
			// The viewability tag loads from the host its pings go to.
			pixelCfg.Assets = map[string]fastcollect.Asset{viewtag.Path: {Body: viewtag.Script(), ETag: viewtag.ETag(), Header: viewtag.Headers()}}
			if m.pixel, err = fastcollect.New(pixelCfg, col, m.ready.Load, logger.With("component", "pixel"), reg); err != nil {
				return err
			}
		}
	}
	if part.collect || part.api {
		// Collectors need the API's token check for the batch event API.
		var reports api.ReportService
		var svc *report.Service
		if part.api {
			svc = report.New(m.meta, m.store)
			svc.MaxDays = cfg.MaxReportDays
			svc.RawFrom = m.retention.RawFrom
			reports = svc
		}
		apiCfg := api.Config{
			PublicURL:         public,
			CollectorURL:      m.collectorURL,
			OperatorTokenHash: opHash,
			CampaignsChanged: func(ctx context.Context) {
				if err := m.reloadCatalog(ctx); err != nil {
					logger.Error("reload campaign catalog", "err", err)
				}
			},
			Accounts:       accountStore{m.meta},
			Grants:         m.meta,
			Media:          m.meta,
			RetentionFloor: retentionPeriod,
			Audit:          auditStore{m.audit},
			CSRFKey:        derivedKey(master, "csrf/v1"),
			SealSecret:     sealer.Seal,
			OpenSecret:     sealer.Open,
		}
		if part.api {
			apiCfg.Rights, apiCfg.Retention = m.rights, m.retention
		}
		if part.api {
			bench, industries, err := m.benchmarkServices(m.retention.RawFrom, logger.With("component", "benchmark"))
			if err != nil {
				return err
			}
			apiCfg.Benchmarks, apiCfg.Industries = bench, industries
		}
		if part.api {
			aud, err := m.newAudience()
			if err != nil {
				return err
			}
			apiCfg.Audience = aud
			rs := reach.NewService(m.meta, m.store)
			rs.MinUsers = m.Config.Audience.MinUsers
			apiCfg.Reach = rs
			soc, err := social.New(social.Config{MinAuthors: cfg.SocialMinAuthors, MaxAge: retentionPeriod, MaxDays: cfg.MaxReportDays, Now: func() time.Time { return m.Now() }},
				m.store, m.meta, m.meta, m.keys, m.optouts, optoutPS, logger.With("component", "social"), reg)
			if err != nil {
				return err
			}
			apiCfg.Social = soc
			if cfg.SocialPreload || cfg.Demo {
				go soc.Preload()
			}
		}
		if part.api {
			if m.notify, err = m.openNotify(master, public, logger.With("component", "notify")); err != nil {
				return err
			}
			apiCfg.Incidents = m.notify
		}
		apiSrv := api.New(apiCfg, m.meta, m.meta, reports, logger.With("component", "api"))
		if part.collect {
			mux.Handle("/v1/events", apiSrv.CollectAuth(http.HandlerFunc(col.ServeBatch), collect.WithTenant))
			mux.Handle("/api/v1/conversions", apiSrv.CollectAuth(col.Conversions(conversionRecorder(m.audit, logger.With("component", "conversions"))), collect.WithTenant))
		} else {
			mux.HandleFunc("/api/v1/conversions", conversionsOnCollectors)
		}
		if part.api {
			con, err := console.New(console.Config{PublicURL: public, CollectorURL: m.collectorURL, Secure: strings.HasPrefix(public, "https://"),
				CampaignsChanged: apiCfg.CampaignsChanged}, apiSrv, m.meta, svc, accountStore{m.meta}, m.rights, auditStore{m.audit}, logger.With("component", "console"))
			if err != nil {
				return err
			}
			con.SetRecent(m.store)
			con.SetEditor(m.meta)
			con.SetReach(apiCfg.Reach)
			con.SetSocial(apiCfg.Social)
			apiSrv.Register(mux)
			con.Register(mux)
			if err := con.RegisterNotices(mux, m.notify, apiSrv.IsOperator); err != nil {
				return err
			}
		}
	}
	mux.Handle("GET /metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{Registry: reg}))
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		if !m.ready.Load() {
			http.Error(w, "starting", http.StatusServiceUnavailable)
			return
		}
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		fmt.Fprintln(w, "ok")
	})
	root := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		withBodyDeadline(w, r, bodyReadTimeout)
		if handleCollect != nil && collect.IsMonitoringPath(r.URL.Path) {
			handleCollect(w, r)
			return
		}
		mux.ServeHTTP(w, r)
	})
	m.http = &http.Server{
		Handler:           root,
		ReadHeaderTimeout: 10 * time.Second, // and no ReadTimeout: see withBodyDeadline
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          httpErrorLog(logger),
	}

	pollCtx, cancel := context.WithCancel(context.Background())
	m.stopPoll, m.pollDone = cancel, make(chan struct{})
	go m.pollCatalog(pollCtx)

	bgCtx, stopBG := context.WithCancel(context.Background())
	m.stopBG = stopBG
	if m.KeyPoll <= 0 {
		m.KeyPoll = 5 * time.Second
	}
	m.bg.Go(func() { m.keys.poll(bgCtx, m.KeyPoll) })
	if m.sharedOptOuts != nil {
		m.bg.Go(func() { _ = m.sharedOptOuts.Follow(bgCtx, optout.DefaultFollowInterval) })
	}
	if part.collect && cfg.DataCentres != "" {
		m.bg.Go(func() { watchFile(bgCtx, cfg.DataCentres, 30*time.Second, m.detector.Reload, logger) })
	}
	if part.api {
		m.bg.Go(func() { m.runJobs(bgCtx, part.jobs) })
	}

	go func() {
		if err := m.http.Serve(m.ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			logger.Error("http server stopped", "err", err)
		}
	}()
	if m.pixel != nil {
		go func() {
			if err := m.pixel.Serve(m.pixelLn); err != nil {
				logger.Error("monitoring-URL listener stopped", "err", err)
			}
		}()
	}
	if cfg.Demo {
		st, c, err := m.ensureDemo(ctx)
		if err != nil {
			return err
		}
		if err := m.reloadCatalog(ctx); err != nil {
			return err
		}
		demoCtx, stopDemo := context.WithCancel(context.Background())
		m.stopDemo, m.demoDone = stopDemo, make(chan struct{})
		go func() {
			defer close(m.demoDone)
			m.runDemo(demoCtx, "http://"+m.ln.Addr().String(), m.pixelBase(), m.collectorURL, st.Token, c, logger.With("component", "demo"))
		}()
		printDemoBanner(os.Stderr, public, m.collectorURL, cfg.DataDir, st)
	}
	m.ready.Store(true)
	logger.Info("admeter is ready", "addr", m.ln.Addr().String(), "pixel_addr", m.PixelAddr(), "public_url", public,
		"monitoring_urls", m.collectorURL, "data", cfg.DataDir,
		"fsync", cfg.Fsync, "placements", m.catalog.Len())
	return nil
}

// Close stops accepting requests, finishes those in flight, and flushes and
// closes the log and the stores.
// Close may be called more than once; only the first call does anything.
func (m *Main) Close() error {
	m.closeOnce.Do(func() { m.closeErr = m.close() })
	return m.closeErr
}

func (m *Main) close() error {
	var errs []error
	m.ready.Store(false)
	if m.stopDemo != nil {
		m.stopDemo()
		<-m.demoDone
	}
	if m.http != nil {
		// Both listeners stop accepting at once and share the timeout: the
		// log closes only after every request in flight has been answered.
		ctx, cancel := context.WithTimeout(context.Background(), m.Config.ShutdownTimeout)
		pixelDone := make(chan error, 1)
		go func() {
			if m.pixel == nil {
				pixelDone <- nil
				return
			}
			pixelDone <- m.pixel.Shutdown(ctx)
		}()
		if err := m.http.Shutdown(ctx); err != nil {
			errs = append(errs, fmt.Errorf("shut down http server: %w", err))
		}
		if err := <-pixelDone; err != nil {
			errs = append(errs, err)
		}
		cancel()
	}
	if m.pixelLn != nil {
		// Already closed unless Open failed before the listener served.
		_ = m.pixelLn.Close()
	}
	if m.stopPoll != nil {
		m.stopPoll()
		<-m.pollDone
	}
	if m.stopBG != nil {
		m.stopBG()
		m.bg.Wait()
	}
	if m.stopLoad != nil {
		// The loader commits its batch in progress and refreshes rollups.
		m.stopLoad()
		if err := <-m.loadDone; err != nil {
			errs = append(errs, fmt.Errorf("stop loader: %w", err))
		}
	}
	if m.kafka != nil {
		if err := m.kafka.close(); err != nil {
			errs = append(errs, err)
		}
	}
	if m.store != nil {
		if err := m.store.Close(); err != nil {
			errs = append(errs, fmt.Errorf("close analytical store: %w", err))
		}
	}
	if m.log != nil {
		if err := m.log.Close(); err != nil {
			errs = append(errs, fmt.Errorf("close event log: %w", err))
		}
	}
	if m.geo != nil {
		if err := m.geo.Close(); err != nil {
			errs = append(errs, fmt.Errorf("close geoip: %w", err))
		}
	}
	if m.audit != nil {
		if err := m.audit.Checkpoint(context.Background()); err != nil {
			errs = append(errs, fmt.Errorf("checkpoint audit record: %w", err))
		}
	}
	if m.meta != nil {
		if err := m.meta.Close(); err != nil {
			errs = append(errs, fmt.Errorf("close metadata store: %w", err))
		}
	}
	if m.registry != nil {
		if err := m.registry.Close(); err != nil {
			errs = append(errs, fmt.Errorf("close opt-out registry: %w", err))
		}
	}

	if len(errs) == 0 {
		m.Logger.Info("admeter stopped cleanly")
	}
	return errors.Join(errs...)
}

func (m *Main) reloadCatalog(ctx context.Context) error {
	cs, err := m.meta.AllCampaigns(ctx)
	if err != nil {
		return fmt.Errorf("load campaigns: %w", err)
	}
	m.catalog.Replace(cs)
	return nil
}

// pollCatalog reloads the catalog when the metadata store changes behind this
// process's back (another admeter process, a restore).
func (m *Main) pollCatalog(ctx context.Context) {
	defer close(m.pollDone)
	last, _ := m.meta.Version(ctx)
	t := time.NewTicker(5 * time.Second)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		v, err := m.meta.Version(ctx)
		if err != nil || v == last {
			continue
		}
		if err := m.reloadCatalog(ctx); err != nil {
			m.Logger.Error("reload campaign catalog", "err", err)
			continue
		}
		last = v
	}
}

// isOrigin reports whether s is an http or https URL with a host and
// nothing after it but an optional "/".
func isOrigin(s string) bool {
	u, err := url.Parse(s)
	return err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != "" && u.User == nil &&
		(u.Path == "" || u.Path == "/") && u.RawQuery == "" && !u.ForceQuery && u.Fragment == ""
}

// Values of --pixel-addr besides an address.
const (
	pixelAuto = "auto"
	pixelOff  = "off"
)

// pixelListenAddr returns the address the pixel listener opens on, "" for
// none. auto is the port after --addr's on the same host (any free port
// when --addr's is 0), and no listener on a role that does not collect; an
// address given on such a role is a mistake.
func (c *ServeConfig) pixelListenAddr() (string, error) {
	switch c.PixelAddr {
	case "", pixelOff:
		return "", nil
	case pixelAuto:
		if !c.parts().collect {
			return "", nil
		}
		host, port, err := net.SplitHostPort(c.Addr)
		if err != nil {
			return "", fmt.Errorf("--pixel-addr auto takes the port after --addr's, but --addr %q is not host:port: give --pixel-addr an address such as :8081, or off", c.Addr)
		}
		n, err := net.LookupPort("tcp", port)
		if err != nil || n >= 65535 {
			return "", fmt.Errorf("--pixel-addr auto takes the port after --addr's, and --addr %q has none: give --pixel-addr an address such as :8081, or off", c.Addr)
		}
		if n == 0 {
			return net.JoinHostPort(host, "0"), nil
		}
		return net.JoinHostPort(host, strconv.Itoa(n+1)), nil
	}
	if !c.parts().collect {
		return "", fmt.Errorf("--pixel-addr serves monitoring URLs: only --role all or collector take them, not %s (leave it auto or off)", c.Role)
	}
	if _, port, err := net.SplitHostPort(c.PixelAddr); c.PixelAddr == c.Addr && (err != nil || port != "0") {
		// Two listeners on port 0 get two free ports.
		return "", fmt.Errorf("--pixel-addr must differ from --addr (both are %q)", c.Addr)
	}
	return c.PixelAddr, nil
}

func defaultPublicURL(a net.Addr) string {
	port := "8080"
	if ta, ok := a.(*net.TCPAddr); ok {
		port = fmt.Sprint(ta.Port)
	}
	return "http://localhost:" + port
}

// operatorToken returns the hash of the operator token kept in
// <data>/operator.token, creating the file (mode 0600) on first start. The
// token itself is never logged.
func operatorToken(dir string, logger *slog.Logger) ([32]byte, error) {
	path := filepath.Join(dir, "operator.token")
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		tok := api.NewToken(api.OperatorTokenPrefix)
		f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
		if err != nil {
			return [32]byte{}, fmt.Errorf("create operator token %s: %w", path, err)
		}
		_, werr := f.WriteString(tok + "\n")
		serr := f.Sync()
		if err := errors.Join(werr, serr, f.Close()); err != nil {
			return [32]byte{}, fmt.Errorf("write operator token %s: %w", path, err)
		}
		logger.Info("created the operator token; use it as 'Authorization: Bearer <token>' to create tenants", "path", path)
		return api.HashToken(tok), nil
	} else if err != nil {
		return [32]byte{}, fmt.Errorf("read operator token %s: %w", path, err)
	}
	if fi, err := os.Stat(path); err == nil && fi.Mode().Perm()&0o077 != 0 {
		return [32]byte{}, fmt.Errorf("operator token %s is readable by others (mode %v); run: chmod 600 %s", path, fi.Mode().Perm(), path)
	}
	tok := strings.TrimSpace(string(b))
	if !strings.HasPrefix(tok, api.OperatorTokenPrefix) {
		return [32]byte{}, fmt.Errorf("operator token %s is malformed; delete it and restart to make a new one", path)
	}
	logger.Info("operator token", "path", path)
	return api.HashToken(tok), nil
}

// logAppender adapts the byte-oriented event log to collect.Appender.
type logAppender struct{ l *eventlog.Log }

// Append encodes events into one buffer and appends them as one batch. The
// log copies the records before its Append returns, so the buffer goes back
// to a pool: the pixel path's single event costs no allocation.
func (a logAppender) Append(ctx context.Context, events []admeter.Event) error {
	var one [1][]byte // the record list of a single event stays on the stack
	recs := one[:0]
	if len(events) > 1 {
		recs = make([][]byte, 0, len(events))
	}
	bp := encodeBufs.Get().(*[]byte)
	buf := (*bp)[:0]
	defer func() {
		if cap(buf) <= maxPooledEncodeBuf {
			*bp = buf[:0]
			encodeBufs.Put(bp)
		}
	}()
	for i := range events {
		start := len(buf)
		var err error
		if buf, err = events[i].AppendBinary(buf); err != nil {
			return fmt.Errorf("encode event: %w", err)
		}
		recs = append(recs, buf[start:len(buf):len(buf)])
	}
	_, err := a.l.Append(ctx, recs...)
	return err
}

// encodeBufs holds logAppender's encoding buffers, sized for a few events
// (about 200 bytes each); one grown by a large batch is kept only up to
// maxPooledEncodeBuf.
var encodeBufs = sync.Pool{New: func() any { b := make([]byte, 0, 1024); return &b }}

const maxPooledEncodeBuf = 64 << 10

// Soft limits on the Go runtime's memory (runtime/debug.SetMemoryLimit).
// A collector under full load keeps about 36 MB of live heap (mostly the
// user-agent parser's tree); goMemLimit, with the binary's mapped pages
// (about 80 MB), keeps its RSS under the 256 MB budget
// (docs/benchmarks.md). Social insight's dictionary alone is about
// 190 MiB of live heap and a report of a million records about 1.5 GB:
// under goMemLimit the collector would run without pause, so the limit is
// raised by textLoadedLimit while the dictionary is loaded and by
// textBusyLimit while social uploads or reports run.
const (
	goMemLimit      = 128 << 20
	textLoadedLimit = 384 << 20
	textBusyLimit   = 2 << 30
)

// tuneGC sets the collector's garbage-collector defaults unless GOGC or
// GOMEMLIMIT are given. The user-agent parser keeps a large, long-lived tree
// of small objects that every collection re-marks; at the default GOGC=100
// that costs about a quarter of the CPU under full load. GOGC=400 with a soft
// limit on the Go heap keeps memory bounded while collecting a quarter as
// often.
func tuneGC() {
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(400)
	}
	if os.Getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(goMemLimit)
		social.SetTextMemoryHook(func(st social.TextMemory) {
			switch st {
			case social.TextBusy:
				debug.SetMemoryLimit(goMemLimit + textBusyLimit)
			case social.TextLoaded:
				debug.SetMemoryLimit(goMemLimit + textLoadedLimit)
			default:
				debug.SetMemoryLimit(goMemLimit)
			}
		})
	}
}

// watchFile calls reload whenever the file at path changes (size or
// modification time), checking every interval, until ctx is done. A reload
// that fails keeps what was loaded and is logged.
func watchFile(ctx context.Context, path string, interval time.Duration, reload func(string) (int, error), logger *slog.Logger) {
	stamp := func() (time.Time, int64) {
		fi, err := os.Stat(path)
		if err != nil {
			return time.Time{}, -1
		}
		return fi.ModTime(), fi.Size()
	}
	mt, size := stamp()
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		nmt, nsize := stamp()
		if nmt.Equal(mt) && nsize == size {
			continue
		}
		mt, size = nmt, nsize
		if n, err := reload(path); err != nil {
			logger.Error("reload file; keeping the previous contents", "file", path, "err", err)
		} else {
			logger.Info("file reloaded", "file", path, "entries", n)
		}
	}
}

// minSocialAuthors is the lowest --social-min-authors allowed.
const minSocialAuthors = 5
