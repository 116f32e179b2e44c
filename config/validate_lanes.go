package config

// minLaneMaxBytes is the smallest lanes.max_bytes that holds one record of
// maxRecordBytes as read and as masked. Below it the largest records could
// only travel one at a time per lane (the processor lets a lane holding
// nothing take one record over its budget), which is a stall, not a bound.
func minLaneMaxBytes(maxRecordBytes int) int { return 2 * maxRecordBytes }

// validateLanes checks a route's lanes block against the config's limits.
// (lanes.max_bytes above 2 GiB is already refused by the decoder.)
func (c *Config) validateLanes(r *Route, what string, pos posFunc) {
	if m, low := r.Lanes.MaxBytes, minLaneMaxBytes(c.Limits.MaxRecordBytes); m > 0 && m < low {
		pos(r.Pos, "%s lanes.max_bytes is %d, under twice limits.max_record_bytes (%d): a record is held as read and as masked, so the largest records could only pass one at a time; set it to at least %d, or leave it out for the default", what, m, c.Limits.MaxRecordBytes, low)
	}
}
