package game

import (
	"io"
	"testing"
)

// denseInputs makes one tick's worth of heavy input for every lane of cfg: each lane has ten
// fingers, one going down, one going up and eight moving in every tick.
func denseInputs(cfg *Config, ticks int) [][]Input {
	out := make([][]Input, ticks)
	rng := Rand{State: 99}
	for t := range out {
		for li, l := range cfg.Lanes {
			for f := int32(0); f < 10; f++ {
				id := int32(li)*100 + f
				x := l.XMM + rng.Range(0, l.WidthMM-1)
				y := l.YMM + rng.Range(0, l.HeightMM-1)
				k := KindMove
				switch int32(t%10) - f {
				case 0:
					k = KindDown
				case 1:
					k = KindUp
				}
				out[t] = append(out[t], Input{Kind: k, Contact: id, XMM: x, YMM: y})
			}
		}
	}
	return out
}

// BenchmarkStep is one tick of an 8-lane round with dense input (80 touch inputs a tick), with the
// state hash computed every tick as the sim journal does.
func BenchmarkStep(b *testing.B) {
	for _, g := range Games {
		b.Run(g, func(b *testing.B) {
			cfg := laneConfig(b, 8, g)
			cfg.Round.Seconds = 24 * 3600
			r, _ := NewRound(&cfg, RoundParams{Wall: "w", Round: 1, Seed: 1, Running: true})
			in := denseInputs(&cfg, 600)
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				r.Step(in[i%len(in)])
				_ = r.Hash()
			}
		})
	}
}

// BenchmarkSim3Min8Lanes is a whole 3-minute 8-lane round with 20 touches per second per lane,
// journaled with a hash every tick (to io.Discard), as `tapwall sim --journal` runs it. The
// x_realtime metric is how many times faster than the show it runs.
func BenchmarkSim3Min8Lanes(b *testing.B) {
	for _, g := range Games {
		b.Run(g, func(b *testing.B) {
			cfg := laneConfig(b, 8, g)
			cfg.Round.Seconds = 180
			ticks := int64(180 * cfg.Round.TickRate)
			var inputs []TickInput
			rng := Rand{State: 5}
			for t := int64(0); t < ticks; t += 3 { // 20 downs/s per lane at 60 Hz, each up 1 tick later
				for li, l := range cfg.Lanes {
					x, y := l.XMM+rng.Range(0, l.WidthMM-1), l.YMM+rng.Range(0, l.HeightMM-1)
					inputs = append(inputs, TickInput{Tick: t, Input: Input{Kind: KindDown, Contact: int32(li), XMM: x, YMM: y}})
				}
				for li, l := range cfg.Lanes {
					inputs = append(inputs, TickInput{Tick: t + 1, Input: Input{Kind: KindUp, Contact: int32(li), XMM: l.XMM, YMM: l.YMM}})
				}
			}
			sortByTick(inputs)
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				r, _ := NewRound(&cfg, RoundParams{Wall: "w", Round: 1, Seed: uint64(i), Running: true})
				rec, _ := NewRecorder(io.Discard, r, 1, false)
				GroupByTick(inputs, ticks, func(_ int64, in []Input) { rec.Step(in) })
				rec.Close()
			}
			b.ReportMetric(180e9*float64(b.N)/float64(b.Elapsed().Nanoseconds()), "x_realtime")
		})
	}
}

// BenchmarkLoopPushAdvance is the frame path: 80 inputs pushed and one tick stepped.
func BenchmarkLoopPushAdvance(b *testing.B) {
	cfg := laneConfig(b, 8, "targets")
	cfg.Round.Seconds = 24 * 3600
	r, _ := NewRound(&cfg, RoundParams{Wall: "w", Round: 1, Seed: 1, Running: true})
	l := NewLoop(60, 0)
	in := denseInputs(&cfg, 600)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		now := l.TimeOf(int64(i))
		for _, x := range in[i%len(in)] {
			x.TimeUS = now
			l.Push(x)
		}
		l.Advance(l.TimeOf(int64(i+1)), r, nil)
	}
}

// BenchmarkShowStepAutoplay is a live tick of an 8-lane show with the built-in player in every
// lane: the frame path of an autoplayed round (and of the attract screen). It must not allocate.
func BenchmarkShowStepAutoplay(b *testing.B) {
	for _, g := range Games {
		b.Run(g, func(b *testing.B) {
			cfg := laneConfig(b, 8, g)
			cfg.Round.Seconds = 24 * 3600
			s := NewShow(&cfg, nil)
			s.SetAutoplay(true)
			s.Step([]Input{{Kind: KindStart}})
			for i := 0; i < 600; i++ { // warm up: objects alive, the player busy
				s.Step(nil)
			}
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				s.Step(nil)
			}
		})
	}
}
