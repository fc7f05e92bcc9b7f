package game

import (
	"fmt"
	"testing"
)

// laneConfig returns the default config with n equal lanes across the wall.
func laneConfig(t testing.TB, n int, gameName string) Config {
	t.Helper()
	c := DefaultConfig()
	c.Round.Game = gameName
	c.Lanes = nil
	w := c.Wall.WidthMM / int32(n)
	for i := 0; i < n; i++ {
		c.Lanes = append(c.Lanes, LaneConfig{Name: fmt.Sprintf("L%d", i), XMM: int32(i) * w, WidthMM: w, HeightMM: c.Wall.HeightMM})
	}
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	return c
}

// laneTouch is a touch in lane-relative millimetres.
type laneTouch struct {
	tick int64
	kind Kind
	x, y int32
}

// botTouches plays lane 0 of a round of cfg with a bot that, every `every` ticks, taps the oldest
// object it has not caught yet, and returns its taps lane-relative. The taps depend only on the
// round's seeded challenge, so they are a realistic, scoring input for any lane.
func botTouches(t testing.TB, cfg *Config, seed uint64, ticks int64, every int64) []laneTouch {
	t.Helper()
	r, err := NewRound(cfg, RoundParams{Wall: "w", Round: 1, Seed: seed, Running: true})
	if err != nil {
		t.Fatal(err)
	}
	var out []laneTouch
	var in []Input
	l := cfg.Lanes[0]
	for tick := int64(0); tick < ticks; tick++ {
		in = in[:0]
		if tick%every == 1 {
			in = append(in, Input{Kind: KindUp, Contact: 1, XMM: l.XMM + 1, YMM: l.YMM + 1})
			out = append(out, laneTouch{tick, KindUp, 1, 1})
		}
		if tick%every == 0 {
			for _, o := range r.Objects() {
				if o.Taken&1 == 0 {
					x, y := o.Pos(r.RunTick(), r.TickRate())
					if y < 0 || y >= l.HeightMM {
						continue
					}
					in = append(in, Input{Kind: KindDown, Contact: 1, XMM: l.XMM + x, YMM: l.YMM + y})
					out = append(out, laneTouch{tick, KindDown, x, y})
					break
				}
			}
		}
		r.Step(in)
	}
	return out
}

// spread turns lane-relative touches into wall inputs for the given lanes (contact = 10*lane + 1).
func spread(cfg *Config, touches []laneTouch, lanes []int) []TickInput {
	var out []TickInput
	for _, tt := range touches {
		for _, li := range lanes {
			l := cfg.Lanes[li]
			out = append(out, TickInput{Tick: tt.tick, Input: Input{Kind: tt.kind, Contact: int32(10*li + 1),
				XMM: l.XMM + tt.x, YMM: l.YMM + tt.y}})
		}
	}
	return out
}

// simulate runs a running round of cfg for ticks with inputs and returns its summary and recorder.
func simulate(t testing.TB, cfg *Config, seed uint64, ticks int64, inputs []TickInput) Summary {
	t.Helper()
	r, err := NewRound(cfg, RoundParams{Wall: "w", Round: 1, Seed: seed, Running: true})
	if err != nil {
		t.Fatal(err)
	}
	rec, _ := NewRecorder(nil, r, 1, false)
	GroupByTick(inputs, ticks, func(_ int64, in []Input) { rec.Step(in) })
	return rec.Summary()
}
