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
	l := NewLoop(60, origin)
	c := &counter{inputs: map[int64][]Input{}}
	clk := &jitterClock{now: origin, seed: Rand{State: 1}}
	end := int64(origin + 600_000_000)
	for clk.now < end {
		now := clk.frame()
		if now > end {
			now = end
		}
		l.Advance(now, c, nil)
	}
	l.Advance(end, c, nil)
	if c.ticks != 36000 || l.Next() != 36000 {
		t.Fatalf("10 min at 60 Hz stepped %d ticks, want exactly 36000", c.ticks)
	}
}

// TestLoopNeverDriftsAtAnyFrameRate steps a loop from frames at 2, 7, 30, 60 and 144 FPS, with
// jitter and stalls: after every frame the loop owes nothing, and 600 ticks take 10 s of show time
// whatever the frame rate (the old per-frame cap of 8 ticks fell behind for ever below 7.5 FPS).
func TestLoopNeverDriftsAtAnyFrameRate(t *testing.T) {
	for _, fps := range []int64{2, 7, 30, 60, 144} {
		l := NewLoop(60, 0)
		l.SetStop(600)
		c := &counter{inputs: map[int64][]Input{}}
		rng := Rand{State: uint64(fps)}
		now := int64(0)
		for frame := 0; l.Next() < 600; frame++ {
			now += 1_000_000/fps + int64(rng.Uint64()%2001) - 1000
			if frame == 3 {
				now += 700_000 // a 700 ms stall
			}
			l.Advance(now, c, nil)
			if lag := l.Lag(now); lag != 0 {
				t.Fatalf("%d FPS: %d ticks owed after frame %d", fps, lag, frame)
			}
			if frame > 100_000 {
				t.Fatalf("%d FPS: no end", fps)
			}
		}
		if c.ticks != 600 || now < 10_000_000 || now > 10_000_000+1_000_000/fps+1000 {
			t.Fatalf("%d FPS: %d ticks took %d µs of show time, want 600 in 10 s", fps, c.ticks, now)
		}
	}
}

// TestLoopBoundsAFrameByItsBudget: after a long stall a frame stops stepping when its time budget
// says so (checked every CheckEvery ticks) and the next frames step the rest, never losing a tick.
func TestLoopBoundsAFrameByItsBudget(t *testing.T) {
	l := NewLoop(60, 0)
	c := &counter{inputs: map[int64][]Input{}}
	now := l.TimeOf(1000) // 1000 ticks owed at once
	calls := 0
	budget := func() bool { calls++; return calls%2 == 1 } // every other check says the frame is over
	var per []int
	for l.Lag(now) > 0 {
		per = append(per, l.Advance(now, c, budget))
		if len(per) > 100 {
			t.Fatal("never caught up")
		}
	}
	for i, n := range per[:len(per)-1] {
		if n != 2*CheckEvery {
			t.Fatalf("frame %d stepped %d ticks, want %d (two budget checks)", i, n, 2*CheckEvery)
		}
	}
	if c.ticks != 1000 {
		t.Fatalf("stepped %d ticks, want 1000", c.ticks)
	}
}

// TestLoopShedsMovesBeforeDownsAndUps fills the queue with a mix and checks what a full queue
// drops: moves first (newest first), then downs for an up; never an up or an action.
func TestLoopShedsMovesBeforeDownsAndUps(t *testing.T) {
	l := NewLoop(60, 0)
	for i := 0; i < DefaultLoopQueue-2; i++ {
		k := KindMove
		if i%3 == 0 {
			k = KindUp
		}
		l.PushAt(1, Input{Kind: k, Contact: int32(i)})
	}
	l.PushAt(1, Input{Kind: KindDown, Contact: -1})
	l.PushAt(1, Input{Kind: KindPause})
	if l.Queued() != DefaultLoopQueue || l.Dropped() != 0 {
		t.Fatalf("queued %d dropped %d before it was full", l.Queued(), l.Dropped())
	}
	moves := 0
	for i := 0; i < DefaultLoopQueue; i++ {
		if l.at(i).in.Kind == KindMove {
			moves++
		}
	}
	// Every up and action pushed now takes the place of a move; a move pushed now is dropped.
	for i := 0; i < moves; i++ {
		l.PushAt(2, Input{Kind: KindUp, Contact: int32(100000 + i)})
	}
	l.PushAt(2, Input{Kind: KindMove, Contact: 7})
	if l.DroppedOf(KindMove) != int64(moves)+1 || l.DroppedOf(KindUp) != 0 || l.Queued() != DefaultLoopQueue {
		t.Fatalf("dropped moves %d ups %d (queued %d), want %d moves and no up", l.DroppedOf(KindMove), l.DroppedOf(KindUp), l.Queued(), moves+1)
	}
	// No move left: an up takes the place of the down; then a down is itself the one dropped.
	l.PushAt(3, Input{Kind: KindUp, Contact: 5})
	l.PushAt(3, Input{Kind: KindDown, Contact: 6})
	if l.DroppedOf(KindDown) != 2 || l.DroppedOf(KindUp) != 0 {
		t.Fatalf("dropped downs %d ups %d, want 2 and 0", l.DroppedOf(KindDown), l.DroppedOf(KindUp))
	}
	// What stays is in tick order, the pause included, and every up pushed is there.
	c := &counter{inputs: map[int64][]Input{}}
	l.Advance(l.TimeOf(4), c, nil)
	ups, pauses := 0, 0
	for tick := int64(0); tick < 4; tick++ {
		for _, in := range c.inputs[tick] {
			switch in.Kind {
			case KindUp:
				ups++
			case KindPause:
				pauses++
				if tick != 1 {
					t.Fatalf("the pause went to tick %d", tick)
				}
			}
		}
	}
	wantUps := (DefaultLoopQueue-2+2)/3 + moves + 1
	if ups != wantUps || pauses != 1 {
		t.Fatalf("%d ups and %d pauses stepped, want %d and 1", ups, pauses, wantUps)
	}
}

func TestLoopLateInputLandsInItsTick(t *testing.T) {
	l := NewLoop(60, 0)
	c := &counter{inputs: map[int64][]Input{}}
	// Nothing has been stepped: an input stamped in tick 3 but read at tick 10 goes to tick 3.
	read := l.TimeOf(10) + 5
	l.Push(Input{Kind: KindDown, Contact: 1, TimeUS: l.TimeOf(3) + 100})
	l.Push(Input{Kind: KindDown, Contact: 2, TimeUS: l.TimeOf(2) + 16_000}) // earlier tick, pushed later
	l.Advance(read, c, nil)
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
	l.Advance(l.TimeOf(12), c, nil)
	if got := c.inputs[10]; len(got) != 1 || got[0].Contact != 3 || l.Late() != 1 {
		t.Fatalf("late input: tick 10 got %+v, late=%d", got, l.Late())
	}
}

func TestLoopTickBoundaries(t *testing.T) {
	l := NewLoop(60, 500)
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
	l := NewLoop(60, 0)
	for i := 0; i < DefaultLoopQueue+10; i++ {
		l.Push(Input{Kind: KindMove, Contact: int32(i), TimeUS: 0})
	}
	if l.Queued() != DefaultLoopQueue || l.Dropped() != 10 {
		t.Fatalf("queued %d dropped %d", l.Queued(), l.Dropped())
	}
}
