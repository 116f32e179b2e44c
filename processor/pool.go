package processor

import "sync"

// pool is a route's mask workers. Lanes offer chunks without waiting; a
// chunk the pool has no room for is masked by its lane's writer instead,
// so the pool can never stall a lane.
type pool struct {
	r    *Route
	jobs chan *chunk
	wg   sync.WaitGroup

	mu     sync.RWMutex
	closed bool
}

func newPool(workers int, r *Route) *pool {
	p := &pool{r: r, jobs: make(chan *chunk, workers*4)}
	for range workers {
		p.wg.Go(p.work)
	}
	return p
}

func (p *pool) work() {
	for c := range p.jobs {
		if c.claim.CompareAndSwap(false, true) {
			p.r.maskChunk(c)
			close(c.done)
		}
	}
}

// offer hands c to a worker if one can take it soon.
func (p *pool) offer(c *chunk) {
	p.mu.RLock()
	defer p.mu.RUnlock()
	if p.closed {
		return
	}
	select {
	case p.jobs <- c:
	default:
	}
}

// close stops the workers once they have finished the chunks they hold.
func (p *pool) close() {
	p.mu.Lock()
	if !p.closed {
		p.closed = true
		close(p.jobs)
	}
	p.mu.Unlock()
	p.wg.Wait()
}
