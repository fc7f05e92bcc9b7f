package render

import (
	"math"
	"testing"

	"tapwall/game"
	"tapwall/render/scene"
)

// TestEffectsFollowShowTimeAtAnyFrameRate plays the frames of 50, 60, 120 and 144 Hz displays
// over the second after a hit, each frame drawing the round stepped to its show time with the
// matching Frac (the show ticks at 60 Hz): a burst's ring grows and "+N" rises smoothly with show
// time at every rate, and two rates showing the same instant show the same effect.
func TestEffectsFollowShowTimeAtAnyFrameRate(t *testing.T) {
	cfg := parseCfg(t, "[round]\ncountdown_seconds = 0\n")
	const hitTick = 10
	type sample struct{ ring, rise float64 }
	at := map[int]map[float64]sample{} // rate -> show time -> effect
	for _, hz := range []int{50, 60, 120, 144} {
		r, _ := game.NewRound(cfg, game.RoundParams{Wall: "w", Round: 1, Seed: 11, Running: true})
		step(r, hitTick, nil)
		o := r.Objects()[0]
		l := cfg.Lanes[0]
		r.Step([]game.Input{{Kind: game.KindDown, Contact: 1, XMM: l.XMM + o.X, YMM: l.YMM + o.Y}})
		var hit game.Hit
		r.Hits(func(h *game.Hit) bool { hit = *h; return false })
		if hit.Miss || hit.Points == 0 {
			t.Fatal("the touch missed the target")
		}
		at[hz] = map[float64]sample{}
		prev := sample{-1, -1}
		// Frame k is shown at show time hitTick/60 + 1/60 + k/hz (the first frame after the hit's tick).
		for k := 0; float64(k)/float64(hz) < 0.5; k++ {
			showT := float64(hitTick+1)/60 + float64(k)/float64(hz)
			tick := int64(math.Floor(showT*60 + 1e-9))
			for r.Tick() < tick {
				r.Step(nil)
			}
			sc := scene.Scene{Config: cfg, Round: r, Frac: showT*60 - float64(tick)}
			tm := newTiming(&sc)
			fx := hitEffect(tm.since(hit.Tick), hit.Golden)
			s := sample{fx.RingR, fx.RiseY}
			if s.ring <= prev.ring || s.rise <= prev.rise {
				t.Fatalf("%d Hz frame %d (show time %.4f s): ring %.4f rise %.4f after %.4f %.4f: not smoothly growing", hz, k, showT, s.ring, s.rise, prev.ring, prev.rise)
			}
			prev = s
			at[hz][math.Round(float64(k)/float64(hz)*1e6)/1e6] = s
		}
	}
	// The same instants, drawn by different rates: 0.1, 0.2 ... 0.4 s after the first frame.
	for _, ts := range []float64{0.1, 0.2, 0.3, 0.4} {
		ref, ok := at[50][ts]
		if !ok {
			t.Fatalf("50 Hz has no frame at %.1f s", ts)
		}
		for _, hz := range []int{60, 120} {
			if s, ok := at[hz][ts]; !ok || math.Abs(s.ring-ref.ring) > 1e-9 || math.Abs(s.rise-ref.rise) > 1e-9 {
				t.Errorf("%d Hz at %.1f s shows ring %.6f rise %.6f, 50 Hz %.6f %.6f", hz, ts, s.ring, s.rise, ref.ring, ref.rise)
			}
		}
	}
}

// TestPictureIsAFunctionOfTheScene draws one scene, then other scenes for a while, then the first
// again: the same pixels. Nothing on the wall counts frames.
func TestPictureIsAFunctionOfTheScene(t *testing.T) {
	cfg := parseCfg(t, "[round]\ncountdown_seconds = 0\n")
	r, _ := game.NewRound(cfg, game.RoundParams{Wall: "w", Round: 1, Seed: 4, Running: true})
	bot := game.NewBot(cfg, 4)
	var in []game.Input
	for i := 0; i < 300; i++ {
		in = bot.Inputs(r, in[:0])
		r.Step(in)
	}
	a, _ := newTestApp(t, cfg)
	sc := scene.Scene{Config: cfg, Round: r, Frac: 0.4, Touches: []scene.Touch{{ID: 1, XMM: 3000, YMM: 2000, Lane: 1}}}
	first := render(a, &sc, 960, 480)
	for i := 0; i < 7; i++ {
		render(a, &scene.Scene{Config: cfg, Round: r, Frac: float64(i) / 7}, 960, 480)
	}
	if n := countDiff(first, render(a, &sc, 960, 480), first.Bounds(), nil); n != 0 {
		t.Fatalf("the same scene drawn again, 7 frames later, differs in %d pixels", n)
	}
}

// TestHitEffectIsMonotonic: over a burst's life its ring grows, its light fades, and "+N" rises and
// fades, for red and golden hits alike.
func TestHitEffectIsMonotonic(t *testing.T) {
	for _, golden := range []bool{false, true} {
		prev := hitEffect(0, golden)
		for age := 0.001; age < effectSec; age += 0.001 {
			fx := hitEffect(age, golden)
			if fx.RingA > 0 && (fx.RingR < prev.RingR || fx.RingA > prev.RingA) {
				t.Fatalf("golden %v at %.3f s: ring %v after %v", golden, age, fx, prev)
			}
			if fx.RiseA > 0 && (fx.RiseY < prev.RiseY || fx.RiseA > prev.RiseA) {
				t.Fatalf("golden %v at %.3f s: +N %v after %v", golden, age, fx, prev)
			}
			prev = fx
		}
		if fx := hitEffect(effectSec+0.01, golden); fx != (hitFX{}) {
			t.Fatalf("golden %v: the effect outlives effectSec: %+v", golden, fx)
		}
	}
	if g, r := hitEffect(0.3, true), hitEffect(0.3, false); g.RingR <= r.RingR {
		t.Fatalf("a golden burst (%.2f) is not bigger than a red one (%.2f)", g.RingR, r.RingR)
	}
}
