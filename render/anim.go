package render

import (
	"math"
	"strconv"

	"tapwall/game"
	"tapwall/render/scene"
)

// Everything that moves on the wall is a function of the scene's state and its show time: how
// long ago, in seconds, a hit, a spawn or a vanishing happened, computed from the round's ticks and
// Scene.Frac. Nothing counts frames, so a frame at tick N looks the same whether it is the 50th or
// the 144th frame of that second, and every lane's effects run on the same clock.

// Durations of the wall's animations, in seconds of show time.
const (
	appearSec    = 0.24                                                    // an object growing in
	vanishSec    = 0.34                                                    // an object that expired shrinking away
	popSec       = 0.22                                                    // a caught object bursting
	burstSec     = 0.62                                                    // the ring and sparks of a hit
	goldBurstSec = 0.95                                                    // ... of a golden packet
	riseSec      = 0.9                                                     // "+N" rising and fading
	rippleSec    = 0.48                                                    // a touch that caught nothing
	countUpSec   = 0.45                                                    // a lane's score counting up to a new total
	goSec        = 0.95                                                    // GO! after the countdown
	lastSeconds  = 10                                                      // the timer turns red and pulses for the last seconds
	effectSec    = max(riseSec, goldBurstSec, burstSec, rippleSec, popSec) // how long a hit shows at all
)

// timing is a scene's show time as the picture reads it.
type timing struct {
	rate    float64 // ticks per second
	tick    int64   // the round's ticks stepped (Round.Tick)
	runTick int64   // its running ticks (Round.RunTick)
	frac    float64 // Scene.Frac: show time into the next tick
	runFrac float64 // frac while the round runs; 0 when its running clock stands (paused, over)
}

func newTiming(sc *scene.Scene) timing {
	t := timing{rate: float64(sc.Config.Round.TickRate), frac: sc.Frac}
	if r := sc.Round; r != nil {
		t.rate = float64(r.TickRate())
		t.tick, t.runTick = r.Tick(), r.RunTick()
		if r.Phase() == game.PhaseRunning {
			t.runFrac = sc.Frac
		}
	}
	return t
}

// since is how long ago, in seconds, round tick tick was: an event of the last tick stepped is one
// tick old when Frac is 0 (Scene's rule: Round.Tick() - tick + Frac ticks).
func (t timing) since(tick int64) float64 { return (float64(t.tick-tick) + t.frac) / t.rate }

// age is how long object o has been on the wall, in seconds of running time.
func (t timing) age(o *game.Object) float64 {
	return (float64(t.runTick-o.Spawn+1) + t.runFrac) / t.rate
}

// runSec is the running time of the round, in seconds.
func (t timing) runSec() float64 { return (float64(t.runTick) + t.runFrac) / t.rate }

// pos is object o's lane-relative position now, in mm, moving smoothly between ticks.
func (t timing) pos(o *game.Object) (x, y float64) {
	return float64(o.X), float64(o.Y) + float64(o.VY)*(float64(t.runTick-o.Spawn)+t.runFrac)/t.rate
}

func clamp01(x float64) float64 { return math.Min(1, math.Max(0, x)) }

func easeOut(x float64) float64 { x = 1 - clamp01(x); return 1 - x*x*x }

// easeOutBack overshoots a little before settling at 1: things pop in.
func easeOutBack(x float64) float64 {
	x = clamp01(x)
	const c1 = 1.9
	const c3 = c1 + 1
	return 1 + c3*math.Pow(x-1, 3) + c1*math.Pow(x-1, 2)
}

// hitFX is the state of a hit's effects at one instant, in units of the object's radius.
type hitFX struct {
	RingR, RingThick, RingA float64 // the shock ring
	FlashR, FlashA          float64 // the white flash
	Spark                   float64 // how far the sparks have flown, 0..1 of their reach
	SparkA                  float64
	RiseY, RiseA, RiseK     float64 // "+N": height above the hit point, alpha, scale
}

// hitEffect is the effect of a hit age seconds old. It depends on nothing else: the same age gives
// the same picture at any frame rate, and it grows monotonically with age.
func hitEffect(age float64, golden bool) hitFX {
	var fx hitFX
	if age < 0 {
		return fx
	}
	dur, reach := burstSec, 2.3
	if golden {
		dur, reach = goldBurstSec, 3.6
	}
	p := age / dur
	if p < 1 {
		e := easeOut(p)
		fx.RingR = 0.55 + (reach-0.55)*e
		fx.RingThick = 0.34*(1-p) + 0.04
		fx.RingA = (1 - p) * (1 - p)
		fx.Spark = e
		fx.SparkA = 1 - p*p
	}
	if f := age / (dur * 0.35); f < 1 {
		fx.FlashR = 1.2 + 1.4*f
		if golden {
			fx.FlashR *= 1.5
		}
		fx.FlashA = (1 - f) * 0.9
	}
	if r := age / riseSec; r < 1 {
		fx.RiseY = 1.0 + 1.8*easeOut(r)
		fx.RiseA = 1
		if r > 0.5 {
			fx.RiseA = 1 - (r-0.5)/0.5
		}
		fx.RiseK = 0.55 + 0.45*easeOutBack(age/0.16)
	}
	return fx
}

// rippleEffect is a missed touch's ripple: radius (object radii) and alpha at age seconds.
func rippleEffect(age float64) (r, a float64) {
	p := age / rippleSec
	if p < 0 || p >= 1 {
		return 0, 0
	}
	return 0.25 + 1.05*easeOut(p), 0.75 * (1 - p)
}

// countUp is what a lane's score shows: the total less what recent hits have not yet counted up.
func countUp(score int64, pending float64) int64 { return score - int64(math.Round(pending)) }

// pendingPoints is how much of a hit of points, age seconds old, the score has yet to count up.
func pendingPoints(points int64, age float64) float64 {
	if age >= countUpSec || points <= 0 {
		return 0
	}
	return float64(points) * (1 - easeOut(age/countUpSec))
}

// hash01 is a deterministic number in [0, 1) from two seeds: particles and confetti scatter the
// same way every time the same hit is drawn.
func hash01(a, b uint64) float64 {
	x := a*0x9e3779b97f4a7c15 ^ (b+0x632be59bd9b4e019)*0xbf58476d1ce4e5b9
	x ^= x >> 31
	x *= 0xd6e8feb86659fd93
	x ^= x >> 32
	return float64(x>>11) / (1 << 53)
}

// ordinals are the ranks as the results show them.
var ordinals = [...]string{"", "1ST", "2ND", "3RD", "4TH", "5TH", "6TH", "7TH", "8TH", "9TH", "10TH",
	"11TH", "12TH", "13TH", "14TH", "15TH", "16TH"}

// ordinal returns rank 1..16 as "1ST".."16TH".
func ordinal(rank int) string {
	if rank >= 1 && rank < len(ordinals) {
		return ordinals[rank]
	}
	return ""
}

// appendClock appends seconds as m:ss.
func appendClock(b []byte, secs int64) []byte {
	if secs < 0 {
		secs = 0
	}
	b = strconv.AppendInt(b, secs/60, 10)
	b = append(b, ':', byte('0'+secs%60/10), byte('0'+secs%10))
	return b
}
