package kafka

import (
	"errors"

	"github.com/twmb/franz-go/pkg/kgo"
)

// endPlan is how a batch's transaction is to end.
type endPlan struct {
	try kgo.TransactionEndTry
	end batchEnd // the outcome unless End commits
	err error    // returned with the outcome: a lane's failure or ctx's
}

// planEnd decides how a batch's transaction ends, from why waitAcked
// returned (waitErr), whether every polled partition was handed to a lane
// (dispatched), and whether every record handed over was acked once the
// lanes finished (acked). It commits only a batch fully produced: a commit
// also commits the consumed offsets of every polled record, so committing
// any other batch loses the records not produced. It does no I/O so that
// each of its rows is tested (TestPlanEnd): a partition revoked between
// the poll and its handover, or a broker refusing a batch, cannot be
// brought about on cue against a cluster.
func planEnd(waitErr error, dispatched, acked bool) endPlan {
	switch {
	case errors.Is(waitErr, errBatchRefused), errors.Is(waitErr, errBatchTimeUp):
		// Aborted on purpose and read again: neither a failure that counts
		// towards maxConsecutiveAborts nor a reason for Run to end.
		return endPlan{try: kgo.TryAbort, end: batchRedo}
	case !dispatched:
		// Its undispatched records would be committed unproduced.
		return endPlan{try: kgo.TryAbort, end: batchAborted, err: waitErr}
	case !acked:
		// A lane failed or ctx ended before the batch made it.
		return endPlan{try: kgo.TryAbort, end: batchAborted, err: waitErr}
	}
	// Fully produced; also when Run is ending (waitErr is a lane's or
	// ctx's), as the lanes finished the batch before they stopped. End
	// may still abort (a rebalance took a partition): then the outcome
	// is batchAborted.
	return endPlan{try: kgo.TryCommit, end: batchAborted, err: waitErr}
}

// stopsDespiteEndErr reports whether End failing still lets Run stop as
// asked (ctxErr is Run's ctx's): only an abort while Run is ending. The
// abort cannot reach a broker that does not answer, and nothing of the
// batch is committed. A failed commit never does: its outcome is unknown.
// Nor does a failed abort while running: the route cannot go on past a
// transaction it could not end.
func (p endPlan) stopsDespiteEndErr(ctxErr error) bool {
	return p.try == kgo.TryAbort && (p.err != nil || ctxErr != nil)
}
