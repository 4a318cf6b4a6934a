package main

import (
	"context"
	"crypto/ed25519"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/admeter/admeter"
	"github.com/admeter/admeter/keystore"
	"github.com/admeter/admeter/meta/postgres"
	"github.com/admeter/admeter/meta/sqlite"
)

// auditSigningKey derives the Ed25519 key that signs the audit record's
// checkpoints from the master key, so that whoever holds only the data
// directory cannot re-sign a rewritten history.
func auditSigningKey(master []byte) ed25519.PrivateKey {
	mac := hmac.New(sha256.New, master)
	mac.Write([]byte("admeter/audit-checkpoint-signing/v1"))
	return ed25519.NewKeyFromSeed(mac.Sum(nil))
}

// auditPubName is where the server writes the checkpoint public key, for
// reference: keep a copy outside the data directory to verify against.
const auditPubName = "audit.pub"

func writeAuditPublicKey(dir string, pub ed25519.PublicKey) error {
	path := filepath.Join(dir, auditPubName)
	want := hex.EncodeToString(pub) + "\n"
	if b, err := os.ReadFile(path); err == nil && string(b) == want {
		return nil
	}
	if err := os.WriteFile(path, []byte(want), 0o644); err != nil {
		return fmt.Errorf("write audit public key: %w", err)
	}
	return nil
}

// AuditCommand checks the audit record.
type AuditCommand struct {
	// Out receives the command's report; nil means standard output.
	Out io.Writer
}

// Run executes the command.
func (c *AuditCommand) Run(ctx context.Context, args []string) error {
	out := c.Out
	if out == nil {
		out = os.Stdout
	}
	if len(args) == 0 || args[0] != "verify" {
		if len(args) > 0 && (args[0] == "-h" || args[0] == "--help" || args[0] == "-help") {
			args = []string{"verify", "--help"}
		} else {
			return usageError{"usage: admeter audit verify --data DIR (run admeter audit verify --help)"}
		}
	}
	var data, pubHex, masterKey, masterFile, pgDSN = "./admeter-data", "", "", "", ""
	fs := newFlagSet("audit verify", "Check the audit record's hash chain and signed checkpoints: any edited, removed or reordered record is named. Works while the server runs.\n校验审计日志的哈希链与签名检查点。")
	fs.StringVar(&data, "data", data, "data directory of the server")
	fs.StringVar(&pubHex, "public-key", pubHex, "checkpoint public key (hex), kept outside the data directory; default: derived from the master key")
	fs.StringVar(&masterKey, "master-key", masterKey, "master key (to derive the checkpoint key when --public-key is not given)")
	fs.StringVar(&masterFile, "master-key-file", masterFile, "file holding the master key")
	fs.StringVar(&pgDSN, "postgres-dsn", pgDSN, "the cluster's PostgreSQL metadata store (as given to serve) instead of the data directory's SQLite")
	if err := parseFlags(fs, args[1:]); err != nil {
		return err
	}
	var pub ed25519.PublicKey
	if pubHex != "" {
		b, err := hex.DecodeString(strings.TrimSpace(pubHex))
		if err != nil || len(b) != ed25519.PublicKeySize {
			return usageError{"--public-key must be 64 hex characters (the content of audit.pub)"}
		}
		pub = b
	} else {
		if masterKey == "" && masterFile == "" {
			if _, err := os.Stat(filepath.Join(data, "master.key")); err != nil {
				return usageError{"give --public-key (best: a copy kept outside the data directory) or the master key"}
			}
		}
		master, _, err := keystore.LoadMasterKey(keystore.MasterKeyConfig{Value: masterKey, File: masterFile, DataDir: data}, nil)
		if err != nil {
			return fmt.Errorf("load master key: %w", err)
		}
		pub = auditSigningKey(master).Public().(ed25519.PublicKey)
	}
	var verify func(context.Context, ed25519.PublicKey) (admeter.AuditVerification, error)
	if pgDSN != "" {
		db := postgres.NewDB(pgDSN)
		if err := db.Open(); err != nil {
			return fmt.Errorf("open metadata store in PostgreSQL: %w (check --postgres-dsn)", err)
		}
		defer db.Close()
		verify = db.VerifyAudit
	} else {
		path := filepath.Join(data, "meta.db")
		if _, err := os.Stat(path); err != nil {
			return fmt.Errorf("no metadata store at %s: %w (set --data, or --postgres-dsn for a cluster)", path, err)
		}
		db := sqlite.NewDB(path)
		if err := db.Open(); err != nil {
			return err
		}
		defer db.Close()
		verify = db.VerifyAudit
	}
	v, err := verify(ctx, pub)
	if err != nil {
		var ae *admeter.AuditError
		if errors.As(err, &ae) {
			return fmt.Errorf("the audit record is NOT intact: record %d %s: %s (审计日志已被篡改)", ae.Seq, ae.Fault, ae.Detail)
		}
		return err
	}
	fmt.Fprintf(out, "the audit record is intact: %d records, %d signed checkpoints (审计日志完整)\n", v.Records, v.Checkpoints)
	for _, w := range v.Warnings {
		fmt.Fprintln(out, "warning:", w)
	}
	return nil
}
