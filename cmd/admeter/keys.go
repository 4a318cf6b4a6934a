package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/admeter/admeter/keystore"
	"github.com/admeter/admeter/meta/postgres"
)

// KeysCommand manages the pseudonymisation keys in a data directory's key
// store, or in a cluster's PostgreSQL with --postgres-dsn. It works on the
// store directly; running servers pick up a rotation within seconds.
type KeysCommand struct {
	// Out receives the command's report; nil means standard output.
	Out io.Writer
}

const keysUsage = `Usage: admeter keys <list|rotate|rotate-master> [flags]

Manage the pseudonymisation keys (管理假名化密钥):
  list           show every key version, which is current, and which are destroyed
  rotate         start a new key version for new events; a running server switches within seconds.
                 An old version is destroyed by the retention job once no raw event under it remains.
  rotate-master  re-encrypt the key store under a new master key (--new-master-key-file);
                 stop the server first and start it again with the new key.
`

// Run executes the command.
func (c *KeysCommand) Run(ctx context.Context, args []string) error {
	out := c.Out
	if out == nil {
		out = os.Stdout
	}
	if len(args) == 0 || strings.HasPrefix(args[0], "-") {
		if len(args) > 0 && (args[0] == "-h" || args[0] == "--help" || args[0] == "-help") {
			fmt.Fprint(out, keysUsage)
			return nil
		}
		return usageError{"keys needs a subcommand: list, rotate or rotate-master (run admeter keys --help)"}
	}
	sub, args := args[0], args[1:]
	var (
		data       = "./admeter-data"
		masterKey  string
		masterFile string
		newFile    string
		pgDSN      string
	)
	fs := newFlagSet("keys "+sub, strings.TrimPrefix(keysUsage, "Usage: admeter keys <list|rotate|rotate-master> [flags]\n\n"))
	fs.StringVar(&data, "data", data, "data directory of the server")
	fs.StringVar(&masterKey, "master-key", masterKey, "master key that encrypts the key store: 32 bytes as base64 or 64 hex characters")
	fs.StringVar(&masterFile, "master-key-file", masterFile, "file holding the master key (default: <data>/master.key if the server generated one)")
	fs.StringVar(&pgDSN, "postgres-dsn", pgDSN, "the cluster's PostgreSQL (as given to serve), which holds the key store every node shares, instead of <data>/keys.json")
	if sub == "rotate-master" {
		fs.StringVar(&newFile, "new-master-key-file", newFile, "file holding the new master key (mode 0600), e.g. made with: head -c32 /dev/urandom | base64 > new.key")
	}
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	path := filepath.Join(data, "keys.json")
	var backend keystore.Backend = keystore.NewFileBackend(path)
	if pgDSN != "" {
		db := postgres.NewDB(pgDSN)
		if err := db.Open(); err != nil {
			return fmt.Errorf("open metadata store in PostgreSQL: %w (check --postgres-dsn)", err)
		}
		defer db.Close()
		backend = db.KeystoreBackend("")
	}
	// Never create a key store here: it would hold keys no server uses.
	if doc, _, err := backend.Load(ctx); err != nil {
		return fmt.Errorf("read key store %s: %w", backend, err)
	} else if doc == nil {
		return fmt.Errorf("no key store in %s (set --data to the server's data directory, or --postgres-dsn to the cluster's database)", backend)
	}
	dataKey := filepath.Join(data, "master.key")
	if masterKey == "" && masterFile == "" {
		// Never let LoadMasterKey generate a key here: it would not open
		// the existing key store.
		if _, err := os.Stat(dataKey); err != nil {
			return usageError{fmt.Sprintf("no master key: give --master-key or --master-key-file (the one the server runs with); %s does not exist", dataKey)}
		}
	}
	master, source, err := keystore.LoadMasterKey(keystore.MasterKeyConfig{Value: masterKey, File: masterFile, DataDir: data}, nil)
	if err != nil {
		return fmt.Errorf("load master key: %w", err)
	}
	switch sub {
	case "list", "rotate":
		ks, err := keystore.OpenBackend(ctx, backend, master, nil)
		if err != nil {
			return err
		}
		if sub == "rotate" {
			v, err := ks.Rotate(ctx)
			if err != nil {
				return err
			}
			fmt.Fprintf(out, "key version %d is now current; every running server switches to it within seconds (its key poll).\n密钥版本 %d 已成为当前版本。\n", v, v)
		}
		return printVersions(out, ks.Versions())
	case "rotate-master":
		if newFile == "" {
			return usageError{"--new-master-key-file is required"}
		}
		newKey, _, err := keystore.LoadMasterKey(keystore.MasterKeyConfig{File: newFile}, nil)
		if err != nil {
			return fmt.Errorf("load new master key: %w", err)
		}
		if err := keystore.RotateMasterBackend(ctx, backend, master, newKey, nil); err != nil {
			return err
		}
		if pgDSN != "" {
			fmt.Fprintf(out, "the shared key store is now encrypted under the new master key; restart every node with --master-key-file=%s (until then their key reloads fail).\n主密钥已轮换,请使用新主密钥重启所有节点。\n", newFile)
			return nil
		}
		if strings.HasPrefix(source, keystore.SourceDataDir) {
			// The server reads <data>/master.key by default: replace it.
			text, err := os.ReadFile(newFile)
			if err != nil {
				return fmt.Errorf("the key store is under the new key, but reading %s to replace %s failed: %w; copy it there yourself", newFile, dataKey, err)
			}
			tmp := dataKey + ".new"
			if err := os.WriteFile(tmp, text, 0o600); err != nil {
				return fmt.Errorf("the key store is under the new key, but writing %s failed: %w; copy %s there yourself", dataKey, err, newFile)
			}
			if err := os.Rename(tmp, dataKey); err != nil {
				return fmt.Errorf("the key store is under the new key, but replacing %s failed: %w; copy %s there yourself", dataKey, err, newFile)
			}
			fmt.Fprintf(out, "the key store %s is now encrypted under the new master key, and %s holds it; restart the server.\n主密钥已轮换,请重启服务。\n", path, dataKey)
			return nil
		}
		fmt.Fprintf(out, "the key store %s is now encrypted under the new master key; restart the server with --master-key-file=%s.\n主密钥已轮换,请使用新主密钥重启服务。\n", path, newFile)
		return nil
	default:
		return usageError{fmt.Sprintf("unknown keys subcommand %q: use list, rotate or rotate-master", sub)}
	}
}

func printVersions(w io.Writer, vs []keystore.VersionInfo) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "version\tcreated\tstate")
	for _, v := range vs {
		state := "live"
		switch {
		case v.Current:
			state = "current"
		case !v.Destroyed.IsZero():
			state = "destroyed " + v.Destroyed.UTC().Format(time.RFC3339)
		}
		fmt.Fprintf(tw, "%d\t%s\t%s\n", v.Version, v.Created.UTC().Format(time.RFC3339), state)
	}
	return tw.Flush()
}
