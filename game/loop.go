package game

// Stepper is what the Loop advances one tick at a time: a Round, a Recorder or a Show.
type Stepper interface {
	Step(in []Input)
}

// DefaultLoopQueue is how many inputs can wait for their tick in the Loop. A wall of 16 lanes with
// ten fingers each moving at 200 Hz makes 32000 inputs a second, 533 a tick at 60 Hz; 8192 is
// fifteen ticks of that. Past it the loop sheds moves first (the next move of the same finger
// carries the position again), then downs; an up or an action is never the one shed while a move
// or a down waits, so a full queue does not leave a stuck contact. Every shed input is counted.
const DefaultLoopQueue = 8192

// CheckEvery is how many ticks Advance steps between two calls of its keepGoing function: a tick
// costs about 2 µs, so the budget is checked every ~128 µs of stepping.
const CheckEvery = 64

type queued struct {
	tick int64
	in   Input
}

// Loop drives a Stepper from the show clock: each call to Advance steps every tick that has fully
// elapsed by now, so the game never drifts from the show clock whatever the frame rate, and every
// input is applied in the tick its timestamp falls in. An input that arrives after its tick was
// stepped is applied in the next tick and counted as late.
//
// Times are show-clock microseconds; tick k covers [origin + k/rate, origin + (k+1)/rate). The Loop
// does not read any clock itself and is not safe for concurrent use: the frame goroutine owns it.
type Loop struct {
	rate    int64
	origin  int64
	next    int64 // next tick to step
	stop    int64 // never step tick >= stop (0: no limit)
	ring    []queued
	head    int // index of the oldest queued input
	n       int // queued inputs
	buf     []Input
	late    int64
	dropped int64
	shed    [NumKinds]int64 // dropped inputs by kind
	stepped int64
}

// NewLoop returns a loop at rate ticks per second whose tick 0 starts at show time originUS.
func NewLoop(rate int, originUS int64) *Loop {
	if rate < 1 {
		panic("game: NewLoop needs a rate of at least 1")
	}
	return &Loop{rate: int64(rate), origin: originUS,
		ring: make([]queued, DefaultLoopQueue), buf: make([]Input, 0, DefaultLoopQueue)}
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

// Origin returns the show time of tick 0.
func (l *Loop) Origin() int64 { return l.origin }

// SetStop makes the loop never step tick stop or later (0 lifts the limit): for scripted runs that
// end at a known tick.
func (l *Loop) SetStop(stop int64) { l.stop = stop }

// SetNext makes tick the next one to step (a standby joining a show at the primary's tick). Queued
// inputs for earlier ticks apply in it.
func (l *Loop) SetNext(tick int64) { l.next = tick }

// Push queues an input for the tick its TimeUS falls in. It never blocks and never allocates.
func (l *Loop) Push(in Input) {
	t := l.TickAt(in.TimeUS)
	if t < l.next {
		t = l.next
		l.late++
	}
	l.PushAt(t, in)
}

// at returns the i-th queued input, oldest first.
func (l *Loop) at(i int) *queued { return &l.ring[(l.head+i)%len(l.ring)] }

// PushAt queues an input for a given tick (scripted inputs); a tick already stepped means the next.
// With the queue full it sheds one input, by the rule of DefaultLoopQueue.
func (l *Loop) PushAt(tick int64, in Input) {
	if tick < l.next {
		tick = l.next
	}
	if l.n == len(l.ring) && !l.shedFor(in.Kind) {
		l.count(in.Kind)
		return
	}
	// Keep the queue sorted by tick, stable for equal ticks: inputs usually arrive in order, so
	// this walks back over nothing.
	i := l.n
	l.n++
	for i > 0 && l.at(i-1).tick > tick {
		*l.at(i) = *l.at(i - 1)
		i--
	}
	*l.at(i) = queued{tick: tick, in: in}
}

// shedFor makes room for an input of kind k in a full queue: it drops the newest queued move, or
// else (for anything but a move or a down) the newest queued down. It reports whether it made room;
// if not, the new input is the one to drop.
func (l *Loop) shedFor(k Kind) bool {
	if k == KindMove {
		return false
	}
	victim := -1
	for i := l.n - 1; i >= 0 && victim < 0; i-- {
		if l.at(i).in.Kind == KindMove {
			victim = i
		}
	}
	if victim < 0 && k != KindDown {
		for i := l.n - 1; i >= 0 && victim < 0; i-- {
			if l.at(i).in.Kind == KindDown {
				victim = i
			}
		}
	}
	if victim < 0 {
		return false
	}
	l.count(l.at(victim).in.Kind)
	for i := victim; i < l.n-1; i++ {
		*l.at(i) = *l.at(i + 1)
	}
	l.n--
	return true
}

func (l *Loop) count(k Kind) {
	l.dropped++
	if int(k) < len(l.shed) {
		l.shed[k]++
	}
}

// Advance steps s through every tick that has fully elapsed at show time nowUS and returns how
// many it stepped. keepGoing, if not nil, is asked every CheckEvery ticks whether to go on: a
// frame bounds its stepping by time, not by a count of ticks, and steps the rest in the next frame.
func (l *Loop) Advance(nowUS int64, s Stepper, keepGoing func() bool) int {
	due := l.TickAt(nowUS) // ticks before this one have ended
	if l.stop > 0 && due > l.stop {
		due = l.stop
	}
	n := 0
	for l.next < due {
		if keepGoing != nil && n > 0 && n%CheckEvery == 0 && !keepGoing() {
			break
		}
		l.buf = l.buf[:0]
		for l.n > 0 && l.ring[l.head].tick <= l.next {
			l.buf = append(l.buf, l.ring[l.head].in)
			l.ring[l.head] = queued{}
			l.head = (l.head + 1) % len(l.ring)
			l.n--
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
	if l.stop > 0 {
		d = min(d, l.stop-l.next)
	}
	if d < 0 {
		return 0
	}
	return d
}

// Late returns how many inputs arrived after their tick had been stepped.
func (l *Loop) Late() int64 { return l.late }

// Dropped returns how many inputs were dropped because the queue was full.
func (l *Loop) Dropped() int64 { return l.dropped }

// DroppedOf returns how many inputs of kind k were dropped because the queue was full.
func (l *Loop) DroppedOf(k Kind) int64 {
	if int(k) < len(l.shed) {
		return l.shed[k]
	}
	return 0
}

// Queued returns how many inputs wait for their tick.
func (l *Loop) Queued() int { return l.n }

// CountdownTo returns the countdown, in ticks, that makes a round scheduled now (it begins in the
// next tick stepped) run its tick 0 in the tick that show time tUS falls in: what a start command
// for show time T needs. It is 0 or less when T has passed.
func (l *Loop) CountdownTo(tUS int64) int64 { return l.TickAt(tUS) - l.next }
