// Package metajson holds the JSON forms in which both metadata stores
// (meta/sqlite and meta/postgres) keep values in a column, so that the two
// stores write and read the same documents.
package metajson
