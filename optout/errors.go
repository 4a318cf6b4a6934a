package optout

import "errors"

var (
	// ErrClosed is returned by Add and Close on a closed Registry.
	ErrClosed = errors.New("optout: registry closed")

	// ErrLocked is returned by Open and Repair when another Registry, in this
	// process or another, holds the file open. Opt-outs must go through the
	// process that owns the registry (the serving process's API).
	ErrLocked = errors.New("optout: registry file locked by another registry")

	// ErrCorrupt is wrapped by the error Open returns when a record that is
	// not at the end of the file fails its checksum: damage to data already
	// acknowledged, which Open refuses to guess about. The message says
	// where and what to do (restore a backup, or [Repair]).
	ErrCorrupt = errors.New("optout: registry file damaged")
)
