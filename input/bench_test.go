package input

import (
	"sort"
	"testing"
	"time"

	"tapwall/game"
)

// BenchmarkPipeline is the whole per-event path of a touch frame on one core: kernel bytes ->
// DecodeRaw -> protocol-B decoder -> wall mapping, seam/merge, filters and lane routing, fed a real
// 5-finger recording (07, Dell Canvas) over and over. One op is one raw event.
func BenchmarkPipeline(b *testing.B) {
	r := load(b, "07_dell-canvas-cooltouch_protoB.evemu")
	raw := rawBytes(b, r.Events)
	cfg := game.DefaultConfig()
	w, _ := NewWall(&cfg)
	d, _ := NewDecoder(&r.Info, DecoderConfig{})
	x, y := d.Axes()
	w.Attach(0, &r.Info, x, y, 0, nil)
	span := r.Events[len(r.Events)-1].TimeUS - r.Events[0].TimeUS + 1_000_000
	ce := make([]ContactEvent, 0, 2*MaxSlots)
	we := make([]WallEvent, 0, 4*MaxSlots)
	n := len(r.Events)
	wall := 0
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		k := i % n
		ev := DecodeRaw(raw[k*RawEventSize:])
		ev.TimeUS += int64(i/n) * span // each replay later than the last
		ce = d.Feed(ev, ce[:0])
		we = we[:0]
		for _, c := range ce {
			we = w.Process(0, c, we)
		}
		wall += len(we)
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
	if b.N > n && wall == 0 {
		b.Fatal("no wall events: the benchmark measures nothing")
	}
}

// BenchmarkReadToQueue measures the live path's latency: from a frame's bytes written to the
// device (a real pipe) to its contact event queued on the channel for the loop, read by a real
// Reader goroutine. It reports the p50 and p99 in microseconds over b.N frames.
func BenchmarkReadToQueue(b *testing.B) {
	cfg := game.DefaultConfig()
	w, _ := NewWall(&cfg)
	op := newFakeOpener()
	op.plug("/dev/input/event1", device("x", 4000, 4000))
	r, _ := runReader(b, &cfg, w, op, 1)
	next(b, r.Events(), "the frame attached", func(fe FrameEvent) bool { return fe.Attach != nil })
	op.mu.Lock()
	pw := op.writers["/dev/input/event1"]
	op.mu.Unlock()
	frame := func(i int, id int32, x int32) []byte {
		evs := []RawEvent{{int64(i), EvAbs, AbsMTPositionX, x}, {int64(i), EvSyn, SynReport, 0}}
		if id != 0 {
			evs = append([]RawEvent{{int64(i), EvAbs, AbsMTTrackingID, id}, {int64(i), EvAbs, AbsMTPositionY, 100}}, evs...)
		}
		buf := make([]byte, len(evs)*RawEventSize)
		for k, e := range evs {
			EncodeRaw(buf[k*RawEventSize:], e)
		}
		return buf
	}
	write := func(p []byte) {
		if _, err := pw.Write(p); err != nil {
			b.Fatal(err)
		}
	}
	write(frame(0, 1, 10))
	<-r.Events()
	frames := make([][]byte, 1024)
	for i := range frames {
		frames[i] = frame(i+1, 0, int32(20+i%2000))
	}
	lat := make([]time.Duration, 0, b.N)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		p := frames[i%len(frames)]
		if i > 0 && i%len(frames) == 0 { // the same x twice in a row is no move: shift the pattern
			for k := range frames {
				frames[k] = frame(k+1, 0, int32(20+(k+i/len(frames))%2000))
			}
			p = frames[0]
		}
		t0 := time.Now()
		write(p)
		<-r.Events()
		lat = append(lat, time.Since(t0))
	}
	b.StopTimer()
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	b.ReportMetric(float64(lat[len(lat)/2].Nanoseconds())/1e3, "p50_us")
	b.ReportMetric(float64(lat[len(lat)*99/100].Nanoseconds())/1e3, "p99_us")
}

// TestResyncAllocatesNothing: reading a live device's slots back after a SYN_DROPPED and
// resynchronising the decoder run in fixed storage (the ioctls themselves are the device's).
func TestResyncAllocatesNothing(t *testing.T) {
	info := device("x", 4000, 4000)
	k := newMTKernel(SlotCount(&info))
	for _, ev := range []RawEvent{{0, EvAbs, AbsMTSlot, 0}, {0, EvAbs, AbsMTTrackingID, 1}, {0, EvAbs, AbsMTPositionX, 10},
		{0, EvAbs, AbsMTSlot, 3}, {0, EvAbs, AbsMTTrackingID, 2}, {0, EvAbs, AbsMTPositionX, 30}} {
		k.handle(ev)
	}
	dev := &fakeDevice{info: info, kernel: k}
	d, _ := NewDecoder(&info, DecoderConfig{})
	sr := &slotReadback{n: SlotCount(&info)}
	out := make([]ContactEvent, 0, 4*MaxSlots)
	var n int
	allocs := testing.AllocsPerRun(100, func() {
		out = d.Feed(RawEvent{1, EvSyn, SynDropped, 0}, out[:0])
		slots, cur, err := sr.read(dev, AbsMTPositionX, AbsMTPositionY)
		if err != nil {
			t.Fatal(err)
		}
		out = d.Resync(slots, cur, 2, out)
		n += len(out)
	})
	if allocs != 0 || n == 0 {
		t.Fatalf("%v allocations per resync (%d events)", allocs, n)
	}
}
