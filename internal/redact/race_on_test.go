//go:build race

package redact

// raceEnabled: the race detector slows memory accesses unevenly, so times
// measured under it are not the redactor's.
const raceEnabled = true
