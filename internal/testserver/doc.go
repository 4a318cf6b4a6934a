// Package testserver starts throwaway PostgreSQL and ClickHouse servers for
// tests: each in a temporary directory, on a unix socket or free loopback
// ports, torn down by the returned Server's Stop. Tests use a real server
// named by an environment variable instead when it is set
// (ADMETER_TEST_POSTGRES_DSN, ADMETER_TEST_CLICKHOUSE_DSN).
//
// The binaries come from Debian's packages postgresql and
// clickhouse-server, which .ci/run installs. PostgreSQL refuses to run as
// root; as root, its programs run as the postgres user through runuser.
package testserver
