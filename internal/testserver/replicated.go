package testserver

import (
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"
)

// zookeeperJar is where Debian's zookeeper package puts ZooKeeper's jar
// (its manifest names the jars it needs); ZooKeeper's standalone main
// class runs from it.
const (
	zookeeperJar  = "/usr/share/java/zookeeper.jar"
	zookeeperMain = "org.apache.zookeeper.server.ZooKeeperServerMain"
)

// ErrNoZooKeeper is returned when Debian's zookeeper package (or java)
// is not installed: tests that need ZooKeeper skip.
var ErrNoZooKeeper = errors.New("no ZooKeeper: install Debian's package (apt-get install -y zookeeper, as .ci/run does)")

// ZooKeeper is a running standalone ZooKeeper server.
type ZooKeeper struct {
	// Addr is the client address, 127.0.0.1:port.
	Addr string
	stop func() error
}

// Stop stops the server and removes its directory.
func (z *ZooKeeper) Stop() error { return z.stop() }

// StartZooKeeper runs a standalone ZooKeeper server from Debian's
// zookeeper package (java -cp /usr/share/java/zookeeper.jar
// ZooKeeperServerMain port dir) on a free loopback port with its data in
// a temporary directory, and waits until it serves. It returns
// ErrNoZooKeeper if the package or java is missing.
func StartZooKeeper() (*ZooKeeper, error) {
	java, err := exec.LookPath("java")
	if err != nil {
		return nil, ErrNoZooKeeper
	}
	if _, err := os.Stat(zookeeperJar); err != nil {
		return nil, ErrNoZooKeeper
	}
	port, err := FreePort()
	if err != nil {
		return nil, fmt.Errorf("choose a port: %w", err)
	}
	dir, err := os.MkdirTemp("", "admeter-zookeeper-")
	if err != nil {
		return nil, err
	}
	out, err := os.Create(filepath.Join(dir, "zookeeper.log"))
	if err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	cmd := exec.Command(java, "-Xmx256m", "-cp", zookeeperJar,
		"-Dzookeeper.admin.enableServer=false", "-Dzookeeper.4lw.commands.whitelist=srvr,ruok",
		zookeeperMain, fmt.Sprint(port), filepath.Join(dir, "data"))
	cmd.Dir, cmd.Stdout, cmd.Stderr = dir, out, out
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		out.Close()
		os.RemoveAll(dir)
		return nil, fmt.Errorf("start ZooKeeper: %w", err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	var once sync.Once
	stop := func() error {
		once.Do(func() {
			_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGTERM)
			select {
			case <-exited:
			case <-time.After(10 * time.Second):
				_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
				<-exited
			}
			out.Close()
		})
		return os.RemoveAll(dir)
	}
	addr := net.JoinHostPort("127.0.0.1", fmt.Sprint(port))
	deadline := time.Now().Add(60 * time.Second)
	for {
		if zookeeperServes(addr) {
			return &ZooKeeper{Addr: addr, stop: stop}, nil
		}
		select {
		case werr := <-exited:
			exited <- werr
			logs, _ := os.ReadFile(filepath.Join(dir, "zookeeper.log"))
			_ = stop()
			return nil, fmt.Errorf("ZooKeeper exited (%v):\n%s", werr, logs)
		default:
		}
		if time.Now().After(deadline) {
			_ = stop()
			return nil, fmt.Errorf("ZooKeeper does not serve on %s after 60s", addr)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// zookeeperServes reports whether the ZooKeeper at addr answers the srvr
// command with its mode.
func zookeeperServes(addr string) bool {
	c, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		return false
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(2 * time.Second))
	if _, err := c.Write([]byte("srvr")); err != nil {
		return false
	}
	b, _ := io.ReadAll(c)
	return strings.Contains(string(b), "Mode:")
}

// ReplicatedCluster is a cluster of ClickHouse servers, shards ×
// replicas, sharing one ZooKeeper: each server's config holds
// <zookeeper>, <macros> (shard: the shard's number, replica: "r" and the
// replica's number) and remote_servers naming every server, with
// internal_replication set.
type ReplicatedCluster struct {
	// Name is the cluster's name in every server's remote_servers.
	Name string
	// DSNs connect to the servers: DSNs[shard][replica], from 0, each a
	// native-protocol URL without a database. DSNs[0][0] is the first
	// server of remote_servers.
	DSNs [][]string
	zk   *ZooKeeper
	mu   sync.Mutex
	dirs [][]string
	tcp  [][]int
	srv  [][]*Server
	kill [][]func()
}

// ClickHouseReplicated starts a ZooKeeper and shards × replicas
// clickhouse-servers forming cluster "admeter", and waits until all
// answer. It returns ErrNoZooKeeper if ZooKeeper is not installed.
func ClickHouseReplicated(shards, replicas int) (*ReplicatedCluster, error) {
	if shards < 1 || replicas < 1 {
		return nil, fmt.Errorf("a cluster needs at least one shard and replica, not %d × %d", shards, replicas)
	}
	zk, err := StartZooKeeper()
	if err != nil {
		return nil, err
	}
	c := &ReplicatedCluster{Name: "admeter", zk: zk}
	host, port, _ := net.SplitHostPort(zk.Addr)
	var remote strings.Builder
	remote.WriteString("  <remote_servers>\n    <admeter>\n")
	type ports struct{ tcp, http, inter int }
	all := make([][]ports, shards)
	// FreePort may hand out a port again once it is closed: every port
	// of the cluster must differ, or a server cannot listen on one.
	used := map[int]bool{}
	freePort := func() (int, error) {
		for {
			p, err := FreePort()
			if err != nil || !used[p] {
				used[p] = true
				return p, err
			}
		}
	}
	for s := range shards {
		remote.WriteString("      <shard><internal_replication>true</internal_replication>\n")
		for range replicas {
			var p ports
			var e1, e2, e3 error
			p.tcp, e1 = freePort()
			p.http, e2 = freePort()
			p.inter, e3 = freePort()
			if err := errors.Join(e1, e2, e3); err != nil {
				_ = c.Stop()
				return nil, fmt.Errorf("choose ports: %w", err)
			}
			all[s] = append(all[s], p)
			fmt.Fprintf(&remote, "        <replica><host>127.0.0.1</host><port>%d</port></replica>\n", p.tcp)
		}
		remote.WriteString("      </shard>\n")
	}
	remote.WriteString("    </admeter>\n  </remote_servers>\n")
	remote.WriteString(fmt.Sprintf("  <zookeeper><node><host>%s</host><port>%s</port></node><session_timeout_ms>10000</session_timeout_ms></zookeeper>\n", host, port))
	remote.WriteString("  <interserver_http_host>127.0.0.1</interserver_http_host>\n")
	c.DSNs = make([][]string, shards)
	c.dirs = make([][]string, shards)
	c.tcp = make([][]int, shards)
	c.srv = make([][]*Server, shards)
	c.kill = make([][]func(), shards)
	for s := range shards {
		for r := range replicas {
			p := all[s][r]
			extra := remote.String() + fmt.Sprintf("  <interserver_http_port>%d</interserver_http_port>\n  <macros><shard>%d</shard><replica>r%d</replica></macros>\n", p.inter, s+1, r+1)
			dir, err := os.MkdirTemp("", "admeter-clickhouse-")
			if err != nil {
				_ = c.Stop()
				return nil, err
			}
			c.dirs[s] = append(c.dirs[s], dir)
			c.tcp[s] = append(c.tcp[s], p.tcp)
			c.srv[s] = append(c.srv[s], nil)
			c.kill[s] = append(c.kill[s], nil)
			conf := strings.NewReplacer("{{dir}}", dir, "{{tcp}}", fmt.Sprint(p.tcp), "{{http}}", fmt.Sprint(p.http), "{{remote}}", extra).Replace(clickhouseConfig)
			if err := errors.Join(os.WriteFile(filepath.Join(dir, "config.xml"), []byte(conf), 0o600),
				os.WriteFile(filepath.Join(dir, "users.xml"), []byte(clickhouseUsers), 0o600)); err != nil {
				_ = c.Stop()
				return nil, err
			}
			srv, kill, err := runClickHouse(dir, p.tcp, false)
			if err != nil {
				_ = c.Stop()
				return nil, fmt.Errorf("start replica %d of shard %d: %w", r+1, s+1, err)
			}
			c.srv[s][r], c.kill[s][r] = srv, kill
			c.DSNs[s] = append(c.DSNs[s], srv.DSN)
		}
	}
	return c, nil
}

// All returns the DSNs of every server, shard by shard.
func (c *ReplicatedCluster) All() []string {
	var out []string
	for _, s := range c.DSNs {
		out = append(out, s...)
	}
	return out
}

// Kill kills replica r of shard s (from 0) at once, with SIGKILL,
// keeping its data for Restart.
func (c *ReplicatedCluster) Kill(s, r int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.kill[s][r] != nil {
		c.kill[s][r]()
		c.kill[s][r], c.srv[s][r] = nil, nil
	}
}

// Restart starts replica r of shard s again, on its data and port, after
// Kill, and waits until it answers.
func (c *ReplicatedCluster) Restart(s, r int) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.srv[s][r] != nil {
		return fmt.Errorf("replica %d of shard %d is running", r+1, s+1)
	}
	srv, kill, err := runClickHouse(c.dirs[s][r], c.tcp[s][r], false)
	if err != nil {
		return fmt.Errorf("restart replica %d of shard %d: %w", r+1, s+1, err)
	}
	c.srv[s][r], c.kill[s][r] = srv, kill
	return nil
}

// Stop stops every server and ZooKeeper, and removes their directories.
func (c *ReplicatedCluster) Stop() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	var errs []error
	for s := range c.srv {
		for r, srv := range c.srv[s] {
			if srv != nil {
				errs = append(errs, srv.Stop())
			}
			errs = append(errs, os.RemoveAll(c.dirs[s][r]))
		}
	}
	if c.zk != nil {
		errs = append(errs, c.zk.Stop())
	}
	return errors.Join(errs...)
}
