package engine

import "time"

// dayClock tells the clock-dependent masks (retain_age,
// retain_date_component, from_random_date/datetime bounded by now) what
// "today" is: the current UTC day, read when a value is masked. A day is
// the finest grain any mask sees, and UTC is the one calendar every
// process agrees on, so two replicas, or a daemon and a batch run, mask a
// value alike on the same day whenever each was started and whatever its
// time zone; and a long-running daemon follows the calendar without a
// reload.
//
// It is a small value copied into each mask: reading it costs one
// time.Now (no lock, no allocation), and only those masks pay it.
type dayClock struct {
	// fixed means day is the answer (Options.Now).
	fixed bool
	day   int64
	// now is Options.Clock; nil means time.Now.
	now func() time.Time
}

// newDayClock is the clock o asks for: Options.Now fixed, else
// Options.Clock, else the system clock.
func newDayClock(o Options) dayClock {
	switch {
	case !o.Now.IsZero():
		return dayClock{fixed: true, day: unixDay(o.Now)}
	case o.Clock != nil:
		return dayClock{now: o.Clock}
	}
	return dayClock{}
}

// today is the current UTC day: days since 1970-01-01.
func (k dayClock) today() int64 {
	switch {
	case k.fixed:
		return k.day
	case k.now != nil:
		return unixDay(k.now())
	}
	return unixDay(time.Now())
}

// unixDay is the UTC day t falls on, counted from 1970-01-01 (negative
// before it).
func unixDay(t time.Time) int64 {
	s := t.Unix()
	d := s / 86400
	if s%86400 < 0 {
		d--
	}
	return d
}

// dayStart is 00:00 UTC of day d.
func dayStart(d int64) time.Time { return time.Unix(d*86400, 0).UTC() }

// clock is the day clock of the masks this ruleset compiles.
func (p *Params) clock() dayClock { return newDayClock(p.c.opts) }
