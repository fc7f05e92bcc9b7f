package netsync

import "sync"

// ClockSamples is how many time-sync samples the estimate keeps at most.
const ClockSamples = 64

// ClockWindowUS is how far back (local microseconds, from the newest sample) the estimate looks:
// at one exchange a second, five samples, enough for a low-delay one to be among them, and short
// enough that after a step of the backend's clock (an NTP correction) the estimate follows within
// a few seconds instead of trusting an old low-delay sample for a minute.
const ClockWindowUS = 5_000_000

// ClockSync estimates the offset between the local clock and the backend's show clock from
// NTP-style exchanges (four timestamps), trusting the exchange with the lowest round-trip delay
// among the recent ones: its one-way delays are the most nearly symmetric, so its offset is the
// most accurate. Safe for concurrent use.
type ClockSync struct {
	mu      sync.Mutex
	samples [ClockSamples]clockSample
	n       int
	next    int
}

type clockSample struct{ offset, delay, at int64 }

// Add records one exchange: t1 local send, t2 backend receipt, t3 backend send, t4 local receipt
// (microseconds). Exchanges with a negative delay (a clock jumped) are ignored.
func (c *ClockSync) Add(t1, t2, t3, t4 int64) {
	delay := (t4 - t1) - (t3 - t2)
	if delay < 0 {
		return
	}
	offset := ((t2 - t1) + (t3 - t4)) / 2
	c.mu.Lock()
	c.samples[c.next] = clockSample{offset, delay, t4}
	c.next = (c.next + 1) % ClockSamples
	c.n = min(c.n+1, ClockSamples)
	c.mu.Unlock()
}

// Offset returns the estimated show clock minus local clock, the round-trip delay of the sample it
// comes from, and whether there is any sample yet. Show time = local time + offset. Only samples
// received within ClockWindowUS of the newest count.
func (c *ClockSync) Offset() (offset, delay int64, ok bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.n == 0 {
		return 0, 0, false
	}
	newest := c.samples[(c.next+ClockSamples-1)%ClockSamples]
	best := newest
	for _, s := range c.samples[:c.n] {
		if s.at >= newest.at-ClockWindowUS && s.at <= newest.at && s.delay < best.delay {
			best = s
		}
	}
	return best.offset, best.delay, true
}

// Samples returns how many samples the estimate holds.
func (c *ClockSync) Samples() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.n
}
