package game

import (
	"testing"
)

// counter is a Stepper that records what each tick received.
type counter struct {
	ticks  int64
	inputs map[int64][]Input
}

func (c *counter) Step(in []Input) {
	if len(in) > 0 {
		c.inputs[c.ticks] = append([]Input(nil), in...)
	}
	c.ticks++
}

// jitterClock is a fake show clock: frames ~16.7 ms apart with deterministic jitter of up to ±4 ms.
type jitterClock struct {
	now  int64
	seed Rand
}

func (j *jitterClock) frame() int64 {
	j.now += 16_667 + int64(j.seed.Uint64()%8001) - 4000
	return j.now
}

func TestLoopTenMinutesEndOnExactTick(t *testing.T) {
	const origin = 1_000_000_007
	l := NewLoop(60, DefaultCatchUpTicks, origin)
	c := &counter{inputs: map[int64][]Input{}}
	clk := &jitterClock{now: origin, seed: Rand{State: 1}}
	end := int64(origin + 600_000_000)
	for clk.now < end {
		now := clk.frame()
		if now > end {
			now = end
		}
		l.Advance(now, c)
	}
	l.Advance(end, c)
	if c.ticks != 36000 || l.Next() != 36000 {
		t.Fatalf("10 min at 60 Hz stepped %d ticks, want exactly 36000", c.ticks)
	}
}

func TestLoopCatchesUpAStallWithinTheCap(t *testing.T) {
	const cap = 8
	l := NewLoop(60, cap, 0)
	c := &counter{inputs: map[int64][]Input{}}
	clk := &jitterClock{seed: Rand{State: 2}}
	for i := 0; i < 60; i++ {
		l.Advance(clk.frame(), c)
	}
	if lag := l.Lag(clk.now); lag > 1 {
		t.Fatalf("lag %d before the stall", lag)
	}
	clk.now += 500_000 // the frame goroutine stalls for 500 ms
	owed := l.Lag(clk.now)
	if owed < 29 || owed > 31 {
		t.Fatalf("a 500 ms stall owes %d ticks, want ~30", owed)
	}
	frames := 0
	for l.Lag(clk.now) > 0 {
		n := l.Advance(clk.now, c)
		if n > cap {
			t.Fatalf("one frame stepped %d ticks, cap %d", n, cap)
		}
		frames++
		if frames > 20 {
			t.Fatalf("still %d ticks behind after %d frames", l.Lag(clk.now), frames)
		}
		clk.frame()
	}
	// 30 ticks owed, cap-1 net per frame: caught up in ceil(30/7)+1 frames at most.
	if frames > (30+cap-2)/(cap-1)+1 {
		t.Fatalf("caught up in %d frames, want at most %d", frames, (30+cap-2)/(cap-1)+1)
	}
	if c.ticks != l.TickAt(clk.now) && c.ticks != l.TickAt(clk.now)-1 {
		t.Fatalf("stepped %d ticks, clock says %d: the loop drifted", c.ticks, l.TickAt(clk.now))
	}
}

func TestLoopLateInputLandsInItsTick(t *testing.T) {
	l := NewLoop(60, 100, 0)
	c := &counter{inputs: map[int64][]Input{}}
	// Nothing has been stepped: an input stamped in tick 3 but read at tick 10 goes to tick 3.
	read := l.TimeOf(10) + 5
	l.Push(Input{Kind: KindDown, Contact: 1, TimeUS: l.TimeOf(3) + 100})
	l.Push(Input{Kind: KindDown, Contact: 2, TimeUS: l.TimeOf(2) + 16_000}) // earlier tick, pushed later
	l.Advance(read, c)
	if got := c.inputs[3]; len(got) != 1 || got[0].Contact != 1 {
		t.Fatalf("tick 3 got %+v, want contact 1", got)
	}
	if got := c.inputs[2]; len(got) != 1 || got[0].Contact != 2 {
		t.Fatalf("tick 2 got %+v, want contact 2", got)
	}
	if l.Late() != 0 {
		t.Fatalf("late %d, want 0", l.Late())
	}
	// Tick 5 has been stepped already: an input stamped in it goes to the next tick and counts as late.
	l.Push(Input{Kind: KindDown, Contact: 3, TimeUS: l.TimeOf(5) + 1})
	l.Advance(l.TimeOf(12), c)
	if got := c.inputs[10]; len(got) != 1 || got[0].Contact != 3 || l.Late() != 1 {
		t.Fatalf("late input: tick 10 got %+v, late=%d", got, l.Late())
	}
}

func TestLoopTickBoundaries(t *testing.T) {
	l := NewLoop(60, 1, 500)
	for _, tc := range []struct{ t, tick int64 }{
		{500, 0}, {500 + 16_666, 0}, {500 + 16_667, 1}, {499, -1}, {500 + 1_000_000, 60}, {500 - 16_666, -1}, {500 - 16_667, -2},
	} {
		if got := l.TickAt(tc.t); got != tc.tick {
			t.Errorf("TickAt(%d) = %d, want %d", tc.t, got, tc.tick)
		}
	}
	for k := int64(0); k < 1000; k++ {
		if l.TickAt(l.TimeOf(k)) != k || l.TickAt(l.TimeOf(k)-1) != k-1 {
			t.Fatalf("TimeOf(%d)=%d is not the start of tick %d", k, l.TimeOf(k), k)
		}
	}
}

func TestLoopQueueBounded(t *testing.T) {
	l := NewLoop(60, 1, 0)
	for i := 0; i < DefaultLoopQueue+10; i++ {
		l.Push(Input{Kind: KindMove, Contact: int32(i), TimeUS: 0})
	}
	if l.Queued() != DefaultLoopQueue || l.Dropped() != 10 {
		t.Fatalf("queued %d dropped %d", l.Queued(), l.Dropped())
	}
}
