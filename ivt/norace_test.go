//go:build !race

package ivt

// raceEnabled slows the exhaustive tests down to a sample.
const raceEnabled = false
