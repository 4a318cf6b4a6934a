// Package testserver starts throwaway PostgreSQL and ClickHouse servers for
// tests: each in a temporary directory, on a unix socket or free loopback
// ports, torn down by the returned Server's Stop. Tests use a real server
// named by an environment variable instead when it is set
// (ADMETER_TEST_POSTGRES_DSN, ADMETER_TEST_CLICKHOUSE_DSN).
//
// ClickHouseReplicated starts a standalone ZooKeeper (StartZooKeeper) and
// a cluster of shards × replicas ClickHouse servers that use it, whose
// replicas can be killed and restarted.
//
// The binaries come from Debian's packages postgresql, clickhouse-server
// and zookeeper (java -cp /usr/share/java/zookeeper.jar
// org.apache.zookeeper.server.ZooKeeperServerMain port dir), which
// .ci/run installs; without zookeeper, ErrNoZooKeeper. PostgreSQL refuses to run as
// root; as root, its programs run as the postgres user through runuser.
package testserver
