package postgres

// SetIntn replaces the random source of ids, to force collisions in tests.
func (db *DB) SetIntn(intn func(n int) int) { db.intn = intn }
