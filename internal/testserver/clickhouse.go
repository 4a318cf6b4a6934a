package testserver

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"
	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
)

// ClickHouseEnv names a ClickHouse server to test against instead of a
// private one: a native-protocol DSN whose user may create and drop
// databases.
const ClickHouseEnv = "ADMETER_TEST_CLICKHOUSE_DSN"

// clickhouseBinary returns the command that runs a ClickHouse server:
// Debian's clickhouse-server (in /usr/sbin, which may not be on PATH), or
// the single clickhouse binary of upstream packages with "server".
func clickhouseBinary() ([]string, error) {
	for _, name := range []string{"clickhouse-server", "/usr/sbin/clickhouse-server", "/usr/bin/clickhouse-server"} {
		if p, err := exec.LookPath(name); err == nil {
			return []string{p}, nil
		}
	}
	if p, err := exec.LookPath("clickhouse"); err == nil {
		return []string{p, "server"}, nil
	}
	return nil, fmt.Errorf("no clickhouse-server binary: install Debian's package (apt-get install clickhouse-server, as .ci/run does) or set %s to a server's DSN", ClickHouseEnv)
}

// FreePort returns a TCP port free on loopback just now.
func FreePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

const clickhouseConfig = `<?xml version="1.0"?>
<yandex>
  <logger>
    <level>warning</level>
    <log>{{dir}}/server.log</log>
    <errorlog>{{dir}}/server.err.log</errorlog>
    <size>10M</size>
    <count>1</count>
    <console>0</console>
  </logger>
  <listen_host>127.0.0.1</listen_host>
  <tcp_port>{{tcp}}</tcp_port>
  <http_port>{{http}}</http_port>
  <path>{{dir}}/data/</path>
  <tmp_path>{{dir}}/tmp/</tmp_path>
  <user_files_path>{{dir}}/user_files/</user_files_path>
  <format_schema_path>{{dir}}/format_schemas/</format_schema_path>
  <mark_cache_size>268435456</mark_cache_size>
  <uncompressed_cache_size>268435456</uncompressed_cache_size>
  <max_concurrent_queries>200</max_concurrent_queries>
  <default_profile>default</default_profile>
  <default_database>default</default_database>
  <users_config>{{dir}}/users.xml</users_config>
{{remote}}</yandex>
`

const clickhouseUsers = `<?xml version="1.0"?>
<yandex>
  <profiles><default><max_memory_usage>2000000000</max_memory_usage></default></profiles>
  <users>
    <default>
      <password></password>
      <networks><ip>127.0.0.1</ip></networks>
      <profile>default</profile>
      <quota>default</quota>
    </default>
  </users>
  <quotas><default></default></quotas>
</yandex>
`

// ClickHouse returns the server ClickHouseEnv names, or runs
// clickhouse-server on free loopback ports with its data and logs in a
// temporary directory and waits until it answers.
func ClickHouse() (*Server, error) {
	if dsn := os.Getenv(ClickHouseEnv); dsn != "" {
		return &Server{DSN: dsn}, nil
	}
	tcp, err1 := FreePort()
	http, err2 := FreePort()
	if err := errors.Join(err1, err2); err != nil {
		return nil, fmt.Errorf("choose ports: %w", err)
	}
	return startClickHouse(tcp, http, "")
}

// ClickHouseClusterEnv names a cluster to test against instead of private
// servers: the cluster's name (as the servers' remote_servers config
// names it), then the native-protocol DSN of each shard, separated by
// spaces; the first shard is the coordinator.
const ClickHouseClusterEnv = "ADMETER_TEST_CLICKHOUSE_CLUSTER"

// Cluster is a set of running ClickHouse servers that form one cluster,
// one shard each (no replicas).
type Cluster struct {
	// Name is the cluster's name in every server's remote_servers.
	Name string
	// DSNs connect to the shards' servers, in shard order, each a
	// native-protocol URL without a database.
	DSNs    []string
	servers []*Server
}

// Stop stops every server of the cluster and removes their directories.
func (c *Cluster) Stop() error {
	var errs []error
	for _, s := range c.servers {
		errs = append(errs, s.Stop())
	}
	return errors.Join(errs...)
}

// ClickHouseCluster returns the cluster ClickHouseClusterEnv names, or
// runs n clickhouse-servers on free loopback ports, each configured with
// a remote_servers section naming all n as the shards of cluster
// "admeter" (one replica each), and waits until all answer.
func ClickHouseCluster(n int) (*Cluster, error) {
	if env := os.Getenv(ClickHouseClusterEnv); env != "" {
		f := strings.Fields(env)
		if len(f) < 2 {
			return nil, fmt.Errorf("%s: want a cluster name and the DSN of each shard, got %q", ClickHouseClusterEnv, env)
		}
		return &Cluster{Name: f[0], DSNs: f[1:]}, nil
	}
	return clickHouseCluster(n, 1)
}

// ClickHouseClusterNoZooKeeper runs shards × replicas clickhouse-servers
// whose remote_servers names them as cluster "admeter", shard by shard,
// without ZooKeeper (which a store must refuse when replicas > 1). DSNs
// lists every server, shard by shard.
func ClickHouseClusterNoZooKeeper(shards, replicas int) (*Cluster, error) {
	return clickHouseCluster(shards, replicas)
}

// clickHouseCluster runs shards × replicas servers forming cluster
// "admeter" without ZooKeeper.
func clickHouseCluster(shards, replicas int) (*Cluster, error) {
	n := shards * replicas
	if n < 1 {
		return nil, fmt.Errorf("a cluster needs at least one server, not %d", n)
	}
	// Every server's config names every other's port, so all ports are
	// chosen before any server starts.
	tcp, http := make([]int, n), make([]int, n)
	var b strings.Builder
	b.WriteString("  <remote_servers>\n    <admeter>\n")
	for s := range shards {
		b.WriteString("      <shard>")
		for r := range replicas {
			i := s*replicas + r
			var err1, err2 error
			tcp[i], err1 = FreePort()
			http[i], err2 = FreePort()
			if err := errors.Join(err1, err2); err != nil {
				return nil, fmt.Errorf("choose ports: %w", err)
			}
			fmt.Fprintf(&b, "<replica><host>127.0.0.1</host><port>%d</port></replica>", tcp[i])
		}
		b.WriteString("</shard>\n")
	}
	b.WriteString("    </admeter>\n  </remote_servers>\n")
	c := &Cluster{Name: "admeter"}
	for i := range n {
		s, err := startClickHouse(tcp[i], http[i], b.String())
		if err != nil {
			_ = c.Stop()
			return nil, fmt.Errorf("start server %d of %d: %w", i+1, n, err)
		}
		c.servers = append(c.servers, s)
		c.DSNs = append(c.DSNs, s.DSN)
	}
	return c, nil
}

// startClickHouse runs clickhouse-server on the given loopback ports with
// extra config (XML elements inside <yandex>), its data and logs in a
// temporary directory, and waits until it answers.
func startClickHouse(tcp, http int, extra string) (*Server, error) {
	dir, err := os.MkdirTemp("", "admeter-clickhouse-")
	if err != nil {
		return nil, err
	}
	conf := strings.NewReplacer("{{dir}}", dir, "{{tcp}}", fmt.Sprint(tcp), "{{http}}", fmt.Sprint(http), "{{remote}}", extra).Replace(clickhouseConfig)
	if err := errors.Join(os.WriteFile(filepath.Join(dir, "config.xml"), []byte(conf), 0o600),
		os.WriteFile(filepath.Join(dir, "users.xml"), []byte(clickhouseUsers), 0o600)); err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	s, _, err := runClickHouse(dir, tcp, true)
	return s, err
}

// runClickHouse runs clickhouse-server with the config of dir on tcp and
// waits until it answers. Its Stop removes dir if remove is set; kill
// kills the server at once (SIGKILL) and keeps dir.
func runClickHouse(dir string, tcp int, remove bool) (s *Server, kill func(), err error) {
	bin, err := clickhouseBinary()
	if err != nil {
		return nil, nil, err
	}
	clean := func() {
		if remove {
			os.RemoveAll(dir)
		}
	}
	out, err := os.OpenFile(filepath.Join(dir, "stdout.log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		clean()
		return nil, nil, err
	}
	cmd := exec.Command(bin[0], append(bin[1:], "--config-file="+filepath.Join(dir, "config.xml"))...)
	cmd.Dir, cmd.Stdout, cmd.Stderr = dir, out, out
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		out.Close()
		clean()
		return nil, nil, fmt.Errorf("start %s: %w", bin[0], err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	var once sync.Once
	halt := func(sig syscall.Signal) {
		once.Do(func() {
			_ = syscall.Kill(-cmd.Process.Pid, sig)
			select {
			case <-exited:
			case <-time.After(15 * time.Second):
				_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
				<-exited
			}
			out.Close()
		})
	}
	stop := func() error {
		halt(syscall.SIGTERM)
		if remove {
			return os.RemoveAll(dir)
		}
		return nil
	}
	kill = func() { halt(syscall.SIGKILL) }
	dsn := fmt.Sprintf("clickhouse://127.0.0.1:%d", tcp)
	deadline := time.Now().Add(60 * time.Second)
	for {
		err := PingClickHouse(dsn)
		if err == nil {
			return &Server{DSN: dsn, stop: stop}, kill, nil
		}
		select {
		case werr := <-exited:
			exited <- werr
			logs, _ := os.ReadFile(filepath.Join(dir, "server.err.log"))
			stdout, _ := os.ReadFile(filepath.Join(dir, "stdout.log"))
			_ = stop()
			return nil, nil, fmt.Errorf("clickhouse-server exited (%v):\n%s\n%s", werr, stdout, logs)
		default:
		}
		if time.Now().After(deadline) {
			_ = stop()
			return nil, nil, fmt.Errorf("clickhouse-server does not answer on port %d after 60s: %w", tcp, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// PingClickHouse connects to the server of dsn and pings it.
func PingClickHouse(dsn string) error {
	return withClickHouse(dsn, func(c driver.Conn) error { return c.Ping(context.Background()) })
}

// ClickHouseExec runs one statement on the server of dsn.
func ClickHouseExec(dsn, query string) error {
	return withClickHouse(dsn, func(c driver.Conn) error { return c.Exec(context.Background(), query) })
}

// ClickHouseCount runs query, which must return one unsigned integer (such
// as SELECT count() …), on the server of dsn.
func ClickHouseCount(dsn, query string) (n uint64, err error) {
	err = withClickHouse(dsn, func(c driver.Conn) error { return c.QueryRow(context.Background(), query).Scan(&n) })
	return n, err
}

// withClickHouse runs fn on a new connection to the server of dsn.
func withClickHouse(dsn string, fn func(driver.Conn) error) error {
	o, err := clickhouse.ParseDSN(dsn)
	if err != nil {
		return err
	}
	o.DialTimeout = 5 * time.Second
	conn, err := clickhouse.Open(o)
	if err != nil {
		return err
	}
	defer conn.Close()
	return fn(conn)
}

// WithDatabase returns the ClickHouse DSN dsn naming database db instead of
// the one it names, if any.
func WithDatabase(dsn, db string) string {
	base, query, _ := strings.Cut(dsn, "?")
	if i := strings.Index(base, "://"); i >= 0 {
		if j := strings.Index(base[i+3:], "/"); j >= 0 {
			base = base[:i+3+j]
		}
	}
	out := base + "/" + db
	if query != "" {
		out += "?" + query
	}
	return out
}
