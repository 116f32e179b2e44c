//go:build race

package engine

// raceEnabled cuts the long property runs: the race detector slows them
// tenfold and adds nothing there (they are single-goroutine).
const raceEnabled = true
