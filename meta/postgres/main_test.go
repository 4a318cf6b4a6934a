package postgres_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// testDSN is the database the tests use: ADMETER_TEST_POSTGRES_DSN, or the
// private server TestMain starts.
var testDSN string

func TestMain(m *testing.M) {
	os.Exit(runTests(m))
}

// runTests runs the tests against ADMETER_TEST_POSTGRES_DSN if it is set,
// and otherwise against a throwaway server it starts and stops.
func runTests(m *testing.M) int {
	if dsn := os.Getenv("ADMETER_TEST_POSTGRES_DSN"); dsn != "" {
		testDSN = dsn
		return m.Run()
	}
	srv, err := startServer()
	if err != nil {
		fmt.Fprintf(os.Stderr, "meta/postgres tests: %v\n", err)
		return 1
	}
	defer func() {
		if err := srv.stop(); err != nil {
			fmt.Fprintf(os.Stderr, "meta/postgres tests: %v\n", err)
		}
	}()
	testDSN = srv.dsn
	return m.Run()
}

// server is a throwaway PostgreSQL server in a temporary directory,
// listening only on a unix socket there.
type server struct {
	dir, bin, dsn string
	owner         *user.User // the user the server runs as when we are root
}

// findBinDir returns the directory of initdb and pg_ctl: the newest
// /usr/lib/postgresql/*/bin (Debian's layout), or the PATH's.
func findBinDir() (string, error) {
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	slices.SortFunc(dirs, func(a, b string) int { // newest major version last
		va, _ := strconv.Atoi(filepath.Base(filepath.Dir(a)))
		vb, _ := strconv.Atoi(filepath.Base(filepath.Dir(b)))
		return va - vb
	})
	for i := len(dirs) - 1; i >= 0; i-- {
		if _, err := os.Stat(filepath.Join(dirs[i], "pg_ctl")); err == nil {
			return dirs[i], nil
		}
	}
	if p, err := exec.LookPath("pg_ctl"); err == nil {
		return filepath.Dir(p), nil
	}
	return "", errors.New("PostgreSQL server binaries (initdb, pg_ctl) not found in /usr/lib/postgresql/*/bin or on PATH: " +
		"install the Debian package postgresql (apt-get install postgresql), " +
		"or set ADMETER_TEST_POSTGRES_DSN to a database the tests may create schemas in")
}

// startServer initialises a cluster in a new temporary directory and starts
// it, fsync off, listening on a unix socket in that directory only.
// PostgreSQL refuses to run as root: as root, it runs the binaries as the
// postgres user, through runuser.
func startServer() (*server, error) {
	bin, err := findBinDir()
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "admeter-pg-")
	if err != nil {
		return nil, err
	}
	s := &server{dir: dir, bin: bin}
	if os.Geteuid() == 0 {
		if s.owner, err = user.Lookup("postgres"); err != nil {
			os.RemoveAll(dir)
			return nil, fmt.Errorf("running as root, and PostgreSQL refuses to: need the postgres user (the Debian package postgresql creates it): %w", err)
		}
		uid, _ := strconv.Atoi(s.owner.Uid)
		gid, _ := strconv.Atoi(s.owner.Gid)
		if err := os.Chown(dir, uid, gid); err != nil {
			os.RemoveAll(dir)
			return nil, err
		}
	}
	data := filepath.Join(dir, "data")
	if err := s.run("initdb", "-D", data, "-U", "postgres", "--auth=trust", "-E", "UTF8", "--locale=C", "--no-sync"); err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	opts := fmt.Sprintf("-c fsync=off -c synchronous_commit=off -c full_page_writes=off -c listen_addresses='' -k %s -p 5432", dir)
	if err := s.run("pg_ctl", "-D", data, "-l", filepath.Join(dir, "server.log"), "-w", "-t", "60", "-o", opts, "start"); err != nil {
		log, _ := os.ReadFile(filepath.Join(dir, "server.log"))
		os.RemoveAll(dir)
		return nil, fmt.Errorf("%w\nserver log:\n%s", err, log)
	}
	s.dsn = fmt.Sprintf("host=%s port=5432 user=postgres dbname=postgres sslmode=disable", dir)
	return s, nil
}

// run runs the PostgreSQL program name with args, as the server's owner.
func (s *server) run(name string, args ...string) error {
	path := filepath.Join(s.bin, name)
	var cmd *exec.Cmd
	if s.owner != nil {
		cmd = exec.Command("runuser", append([]string{"-u", s.owner.Username, "--", path}, args...)...)
	} else {
		cmd = exec.Command(path, args...)
	}
	cmd.Dir = s.dir
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("%s: %w\n%s", name, err, out)
	}
	return nil
}

// stop stops the server at once and removes its directory.
func (s *server) stop() error {
	err := s.run("pg_ctl", "-D", filepath.Join(s.dir, "data"), "-m", "immediate", "-w", "stop")
	return errors.Join(err, os.RemoveAll(s.dir))
}

// newSchema returns a fresh schema name and drops the schema when tb ends.
func newSchema(tb testing.TB) string {
	tb.Helper()
	b := make([]byte, 8)
	rand.Read(b)
	schema := "admeter_test_" + hex.EncodeToString(b)
	tb.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		c, err := pgx.Connect(ctx, testDSN)
		if err != nil {
			tb.Error(err)
			return
		}
		defer c.Close(ctx)
		if _, err := c.Exec(ctx, `DROP SCHEMA IF EXISTS `+pgx.Identifier{schema}.Sanitize()+` CASCADE`); err != nil {
			tb.Error(err)
		}
	})
	return schema
}
