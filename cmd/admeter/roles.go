package main

import (
	"errors"
	"fmt"
)

// The roles of "admeter serve --role". One machine runs all; a cluster runs
// many collectors, a consumer group of loaders and a few API nodes sharing
// Kafka, ClickHouse and PostgreSQL (docs/deploy.md).
const (
	RoleAll       = "all"
	RoleCollector = "collector"
	RoleLoader    = "loader"
	RoleAPI       = "api"
)

// parts says which parts of the server a configuration runs.
type parts struct {
	// collect: monitoring URLs, the batch event API and the opt-out page.
	collect bool
	// load: the loader, from the event log or Kafka into the store.
	load bool
	// api: the management and report API and the console.
	api bool
	// jobs: end-user requests, retention and behavioural invalid traffic.
	// They need the store and its loading; in a cluster one API node at a
	// time runs them (a PostgreSQL advisory lock elects it).
	jobs bool
}

// parts returns what c's role runs.
func (c *ServeConfig) parts() parts {
	switch c.Role {
	case RoleCollector:
		return parts{collect: true}
	case RoleLoader:
		return parts{load: true}
	case RoleAPI:
		return parts{api: true, jobs: true}
	default:
		return parts{collect: true, load: c.Ingest, api: true, jobs: c.Ingest}
	}
}

// validateRole reports what the role lacks: every role but all shares its
// state through Kafka, ClickHouse and PostgreSQL, never the data directory.
func (c *ServeConfig) validateRole() []error {
	var errs []error
	need := func(what, flag, value string) {
		if value == "" {
			errs = append(errs, fmt.Errorf("--role %s needs %s (%s)", c.Role, flag, what))
		}
	}
	switch c.Role {
	case RoleAll:
		return nil
	case RoleCollector:
		need("where events go", "--kafka-brokers", c.KafkaBrokers)
		need("campaigns, tenants' tokens and opt-outs shared with the other nodes", "--postgres-dsn", c.PostgresDSN)
	case RoleLoader:
		need("where events come from", "--kafka-brokers", c.KafkaBrokers)
		need("where events go", "--clickhouse-dsn", c.ClickHouseDSN)
		need("the campaigns' time zones", "--postgres-dsn", c.PostgresDSN)
	case RoleAPI:
		need("to wait for the loaders before deletions", "--kafka-brokers", c.KafkaBrokers)
		need("the reports' events", "--clickhouse-dsn", c.ClickHouseDSN)
		need("tenants, campaigns, accounts and the audit record", "--postgres-dsn", c.PostgresDSN)
	default:
		return []error{fmt.Errorf("--role must be all, collector, loader or api, not %q", c.Role)}
	}
	if c.Role != RoleAll && !c.Ingest {
		errs = append(errs, errors.New("--ingest=false applies to --role all only: run --role collector for a node that only collects"))
	}
	if c.Demo {
		errs = append(errs, errors.New("--demo needs --role all"))
	}
	return errs
}
