package showrun

import (
	"math/rand/v2"
	"slices"
	"testing"

	"tapwall/game"
)

// TestLatencyIsUnderItsFramesPeriodPlusATick drives scripted touches through frames of irregular
// periods (mostly 4–20 ms, some stalls of 30–90 ms) and checks the lane's latency figures against
// an oracle worked out from the frame times alone: each input stamped at its tick's start is shown
// by the first frame at or after its tick's end. So every latency is under the period of the frame
// that showed it plus one tick, and the status's p50, p99, max and frame_p99_ms are those of the
// oracle.
func TestLatencyIsUnderItsFramesPeriodPlusATick(t *testing.T) {
	const every, first, last = 4, 30, 900 // 435 inputs: all within the lane's 512 latest
	var script []game.TickInput
	script = append(script, game.TickInput{Tick: 0, Input: game.Input{Kind: game.KindStart}})
	for tick := int64(first); tick < last; tick += every {
		script = append(script,
			game.TickInput{Tick: tick, Input: game.Input{Kind: game.KindDown, Contact: 7, XMM: 900, YMM: int32(600 + tick)}},
			game.TickInput{Tick: tick + 1, Input: game.Input{Kind: game.KindUp, Contact: 7, XMM: 900, YMM: int32(600 + tick)}})
	}
	h := newHarness(t, "[round]\ncountdown_seconds = 0\nseconds = 30\n[show]\nattract = false\n",
		func(o *Options) { o.JournalDir, o.Script = "", script })
	rng := rand.New(rand.NewPCG(11, 12))
	frames := []int64{h.clock.now()}
	h.frame(nil)
	for h.r.Loop().Next() < last+2 {
		d := 4_000 + rng.Int64N(16_000)
		if rng.IntN(20) == 0 {
			d = 30_000 + rng.Int64N(60_000)
		}
		h.clock.us.Add(d)
		frames = append(frames, h.clock.now())
		h.frame(nil)
	}
	// The oracle: every scripted input (down and up) of lane 0 and the frame that shows it.
	var lat, gaps []int64
	for _, ti := range script[1:] {
		start, end := h.r.Loop().TimeOf(ti.Tick), h.r.Loop().TimeOf(ti.Tick+1)
		i, _ := slices.BinarySearch(frames, end) // the first frame at or after the tick's end
		lat = append(lat, frames[i]-start)
		gaps = append(gaps, frames[i]-frames[i-1])
		if tick := end - start; lat[len(lat)-1] >= gaps[len(gaps)-1]+tick {
			t.Fatalf("oracle: tick %d shown %d µs after its start, its frame's period %d µs", ti.Tick, lat[len(lat)-1], gaps[len(gaps)-1])
		}
	}
	q := func(v []int64, p int) float64 {
		s := slices.Sorted(slices.Values(v))
		return float64(s[min(len(s)-1, (len(s)*p+99)/100-1)]) / 1000
	}
	got := h.r.Status().Lanes[0].Latency
	want := struct{ P50, P99, Max, FrameP99 float64 }{q(lat, 50), q(lat, 99), q(lat, 100), q(gaps, 99)}
	if got.Count != int64(len(lat)) || got.P50 != want.P50 || got.P99 != want.P99 || got.Max != want.Max || got.FrameP99 != want.FrameP99 {
		t.Fatalf("lane 0 latency %+v, want %+v over %d inputs", got, want, len(lat))
	}
	if tick := 1000 / 60.0; got.P99 >= got.FrameP99+tick || got.P99 <= 1000/60.0 {
		t.Fatalf("lane 0: p99 %.3f ms, frame p99 %.3f ms: the stalls must show in the p99, and stay under a frame and a tick", got.P99, got.FrameP99)
	}
	h.close()
}
