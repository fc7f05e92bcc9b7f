package netsync

import "testing"

// exchange feeds c one time-sync exchange made at local time t4 (µs) with the given round-trip
// delay, split unevenly by jitter, against a backend whose clock is local + offset.
func exchange(c *ClockSync, t4, offset, delay, jitter int64) {
	t1 := t4 - delay
	t2 := t1 + offset + delay/2 + jitter
	t3 := t2 + 50 // the backend's turnaround
	c.Add(t1, t2, t3, t4+50)
}

// TestClockFollowsAStepOfTheBackendClock: after the backend's clock steps (an NTP correction),
// the estimate follows within a few seconds, even though an older sample had a lower delay.
func TestClockFollowsAStepOfTheBackendClock(t *testing.T) {
	var c ClockSync
	const before, after = 1_000_000, 1_750_000 // the backend's clock steps 750 ms ahead
	now := int64(10_000_000)
	for i := 0; i < 60; i++ { // a minute of samples, one with a very low delay
		delay := int64(900 + (i*37)%400)
		if i == 50 {
			delay = 120
		}
		exchange(&c, now, before, delay, int64(i%5)*10-20)
		now += 1_000_000
	}
	if off, _, _ := c.Offset(); abs(off-before) > 1_000 {
		t.Fatalf("offset %d before the step, want %d ± 1 ms", off, before)
	}
	var followed int64 = -1
	for i := 0; i < 30; i++ {
		exchange(&c, now, after, int64(900+(i*53)%400), int64(i%3)*15)
		now += 1_000_000
		if off, _, _ := c.Offset(); abs(off-after) <= 1_000 && followed < 0 {
			followed = int64(i + 1)
		}
	}
	if followed < 0 || followed*1_000_000 > ClockWindowUS+1_000_000 {
		t.Fatalf("the estimate followed the step after %d s (-1: never in 30 s); want within %d s", followed, ClockWindowUS/1_000_000+1)
	}
	if off, _, _ := c.Offset(); abs(off-after) > 1_000 {
		t.Fatalf("offset %d after the step, want %d ± 1 ms", off, after)
	}
}

// TestClockTrustsTheLowestDelayRecentSample: within the window the lowest-delay sample wins.
func TestClockTrustsTheLowestDelayRecentSample(t *testing.T) {
	var c ClockSync
	if _, _, ok := c.Offset(); ok {
		t.Fatal("an estimate with no sample")
	}
	c.Add(0, 5_400, 5_450, 1_000)     // delay 950, offset (5400+4450)/2 = 4925
	c.Add(2_000, 7_020, 7_030, 2_050) // delay 40, offset (5020+4980)/2 = 5000: the best
	c.Add(3_000, 8_600, 8_610, 4_000) // delay 990, offset (5600+4610)/2 = 5105
	off, delay, ok := c.Offset()
	if !ok || delay != 40 || off != 5_000 {
		t.Fatalf("offset %d delay %d: want 5000 from the 40 µs sample", off, delay)
	}
}

func abs(x int64) int64 {
	if x < 0 {
		return -x
	}
	return x
}
