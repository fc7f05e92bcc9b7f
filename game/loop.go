package game

// Stepper is what the Loop advances one tick at a time: a Round, a Recorder or a Show.
type Stepper interface {
	Step(in []Input)
}

// DefaultLoopQueue is how many inputs can wait for their tick in the Loop. A wall of 16 lanes with
// ten fingers each moving at 200 Hz makes 32000 inputs a second, 533 a tick at 60 Hz; 8192 is
// fifteen ticks of that. Past it the oldest waiting input is dropped and counted, never blocking.
const DefaultLoopQueue = 8192

type queued struct {
	tick int64
	in   Input
}

// Loop drives a Stepper from the show clock: each call to Advance steps every tick that has fully
// elapsed by now (at most catchUp of them per call, so a stall is caught up over a few frames and
// never drifts), and every input is applied in the tick its timestamp falls in. An input that
// arrives after its tick was stepped is applied in the next tick and counted as late.
//
// Times are show-clock microseconds; tick k covers [origin + k/rate, origin + (k+1)/rate). The Loop
// does not read any clock itself and is not safe for concurrent use: the frame goroutine owns it.
type Loop struct {
	rate    int64
	origin  int64
	catchUp int
	next    int64 // next tick to step
	stop    int64 // never step tick >= stop (0: no limit)
	queue   []queued
	buf     []Input
	late    int64
	dropped int64
	stepped int64
}

// NewLoop returns a loop at rate ticks per second whose tick 0 starts at show time originUS.
func NewLoop(rate, catchUp int, originUS int64) *Loop {
	if rate < 1 || catchUp < 1 {
		panic("game: NewLoop needs rate and catchUp of at least 1")
	}
	return &Loop{rate: int64(rate), origin: originUS, catchUp: catchUp,
		queue: make([]queued, 0, DefaultLoopQueue), buf: make([]Input, 0, DefaultLoopQueue)}
}

// TickAt returns the tick that show time tUS falls in (negative before the origin).
func (l *Loop) TickAt(tUS int64) int64 {
	d := (tUS - l.origin) * l.rate
	if d < 0 {
		return -((-d + 999_999) / 1_000_000)
	}
	return d / 1_000_000
}

// TimeOf returns the show time at which tick starts.
func (l *Loop) TimeOf(tick int64) int64 {
	return l.origin + (tick*1_000_000+l.rate-1)/l.rate
}

// SetStop makes the loop never step tick stop or later (0 lifts the limit): for scripted runs that
// end at a known tick.
func (l *Loop) SetStop(stop int64) { l.stop = stop }

// Push queues an input for the tick its TimeUS falls in. It never blocks and never allocates.
func (l *Loop) Push(in Input) {
	t := l.TickAt(in.TimeUS)
	if t < l.next {
		t = l.next
		l.late++
	}
	l.PushAt(t, in)
}

// PushAt queues an input for a given tick (scripted inputs); a tick already stepped means the next.
func (l *Loop) PushAt(tick int64, in Input) {
	if tick < l.next {
		tick = l.next
	}
	if len(l.queue) == cap(l.queue) {
		copy(l.queue, l.queue[1:])
		l.queue = l.queue[:len(l.queue)-1]
		l.dropped++
	}
	// Keep the queue sorted by tick, stable for equal ticks: inputs usually arrive in order, so
	// this walks back over nothing.
	i := len(l.queue)
	l.queue = l.queue[:i+1]
	for i > 0 && l.queue[i-1].tick > tick {
		l.queue[i] = l.queue[i-1]
		i--
	}
	l.queue[i] = queued{tick: tick, in: in}
}

// Advance steps s through every tick that has fully elapsed at show time nowUS, up to catchUp ticks,
// and returns how many it stepped.
func (l *Loop) Advance(nowUS int64, s Stepper) int {
	due := l.TickAt(nowUS) // ticks before this one have ended
	if l.stop > 0 && due > l.stop {
		due = l.stop
	}
	n := 0
	for l.next < due && n < l.catchUp {
		l.buf = l.buf[:0]
		k := 0
		for k < len(l.queue) && l.queue[k].tick <= l.next {
			l.buf = append(l.buf, l.queue[k].in)
			k++
		}
		if k > 0 {
			m := copy(l.queue, l.queue[k:])
			l.queue = l.queue[:m]
		}
		s.Step(l.buf)
		l.next++
		n++
	}
	l.stepped += int64(n)
	return n
}

// Next returns the next tick to be stepped.
func (l *Loop) Next() int64 { return l.next }

// Lag returns how many elapsed ticks are still owed at show time nowUS (0 when caught up).
func (l *Loop) Lag(nowUS int64) int64 {
	d := l.TickAt(nowUS) - l.next
	if d < 0 {
		return 0
	}
	return d
}

// Late returns how many inputs arrived after their tick had been stepped.
func (l *Loop) Late() int64 { return l.late }

// Dropped returns how many inputs were dropped because the queue was full.
func (l *Loop) Dropped() int64 { return l.dropped }

// Queued returns how many inputs wait for their tick.
func (l *Loop) Queued() int { return len(l.queue) }

// CountdownTo returns the countdown, in ticks, that makes a round scheduled now (it begins in the
// next tick stepped) run its tick 0 in the tick that show time tUS falls in: what a start command
// for show time T needs. It is 0 or less when T has passed.
func (l *Loop) CountdownTo(tUS int64) int64 { return l.TickAt(tUS) - l.next }
