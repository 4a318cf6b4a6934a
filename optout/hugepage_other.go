//go:build !linux

package optout

// adviseHugePages does nothing where transparent huge pages are not known.
func adviseHugePages([]uint64) {}
