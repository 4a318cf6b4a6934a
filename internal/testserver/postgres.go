package testserver

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"slices"
	"strconv"
)

// PostgresEnv names a PostgreSQL database to test against instead of a
// private server; its user must be allowed to create schemas.
const PostgresEnv = "ADMETER_TEST_POSTGRES_DSN"

// Server is a running test server.
type Server struct {
	// DSN connects to the server: for PostgreSQL, key=value settings of
	// its database postgres; for ClickHouse, a native-protocol URL
	// without a database.
	DSN  string
	stop func() error
}

// Stop stops the server at once and removes its directory. It does
// nothing for a server named by the environment.
func (s *Server) Stop() error {
	if s.stop == nil {
		return nil
	}
	return s.stop()
}

// pgBinDir returns the directory of initdb and pg_ctl: the newest
// /usr/lib/postgresql/*/bin (Debian's layout), or the PATH's.
func pgBinDir() (string, error) {
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
		"or set " + PostgresEnv + " to a database the tests may create schemas in")
}

// Postgres returns the server PostgresEnv names, or initialises a cluster
// in a new temporary directory and starts it, fsync off, listening on a
// unix socket in that directory only.
func Postgres() (*Server, error) {
	if dsn := os.Getenv(PostgresEnv); dsn != "" {
		return &Server{DSN: dsn}, nil
	}
	bin, err := pgBinDir()
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "admeter-pg-")
	if err != nil {
		return nil, err
	}
	var owner *user.User
	if os.Geteuid() == 0 {
		if owner, err = user.Lookup("postgres"); err != nil {
			os.RemoveAll(dir)
			return nil, fmt.Errorf("running as root, and PostgreSQL refuses to: need the postgres user (the Debian package postgresql creates it): %w", err)
		}
		uid, _ := strconv.Atoi(owner.Uid)
		gid, _ := strconv.Atoi(owner.Gid)
		if err := os.Chown(dir, uid, gid); err != nil {
			os.RemoveAll(dir)
			return nil, err
		}
	}
	run := func(name string, args ...string) error {
		path := filepath.Join(bin, name)
		var cmd *exec.Cmd
		if owner != nil {
			cmd = exec.Command("runuser", append([]string{"-u", owner.Username, "--", path}, args...)...)
		} else {
			cmd = exec.Command(path, args...)
		}
		cmd.Dir = dir
		if out, err := cmd.CombinedOutput(); err != nil {
			return fmt.Errorf("%s: %w\n%s", name, err, out)
		}
		return nil
	}
	data := filepath.Join(dir, "data")
	if err := run("initdb", "-D", data, "-U", "postgres", "--auth=trust", "-E", "UTF8", "--locale=C", "--no-sync"); err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	opts := fmt.Sprintf("-c fsync=off -c synchronous_commit=off -c full_page_writes=off -c listen_addresses='' -k %s -p 5432", dir)
	if err := run("pg_ctl", "-D", data, "-l", filepath.Join(dir, "server.log"), "-w", "-t", "60", "-o", opts, "start"); err != nil {
		log, _ := os.ReadFile(filepath.Join(dir, "server.log"))
		os.RemoveAll(dir)
		return nil, fmt.Errorf("%w\nserver log:\n%s", err, log)
	}
	return &Server{
		DSN: fmt.Sprintf("host=%s port=5432 user=postgres dbname=postgres sslmode=disable", dir),
		stop: func() error {
			err := run("pg_ctl", "-D", data, "-m", "immediate", "-w", "stop")
			return errors.Join(err, os.RemoveAll(dir))
		},
	}, nil
}
