package render

import (
	"testing"

	"github.com/hajimehoshi/ebiten/v2"

	"tapwall/game"
	"tapwall/render/scene"
)

// fakeDriver is a show that always returns the same scene.
type fakeDriver struct {
	sc    scene.Scene
	shot  string
	scale float64
	drawn int
	err   error // the last Drawn's
}

func (d *fakeDriver) Frame(int64, *scene.Input) bool { return true }
func (d *fakeDriver) Scene(int64) *scene.Scene       { return &d.sc }
func (d *fakeDriver) Shot() (string, bool)           { return d.shot, d.shot != "" }
func (d *fakeDriver) Drawn(_ int64, scale float64, err error) {
	d.scale, d.err = scale, err
	d.drawn++
}

// denseConfig is the dense frame of issue 11: 8 lanes, targets that live long enough for 30 to be
// alive at once.
func denseConfig(t testing.TB) *game.Config {
	t.Helper()
	body := "[wall]\nwidth_mm = 8000\nheight_mm = 4000\n"
	for i := 0; i < 8; i++ {
		body += "[[lanes]]\nname = \"lane " + string(rune('1'+i)) + "\"\n" +
			"x_mm = " + itoa(i*1000) + "\ny_mm = 0\nwidth_mm = 1000\nheight_mm = 4000\n"
	}
	body += "[round]\ncountdown_seconds = 0\nseconds = 60\n[targets]\nspawn_every_ms = 100\nlifetime_ms = 3000\nradius_mm = 110\n" +
		"[autoplay]\nreaction_ms = 60\nmiss_percent = 30\n"
	cfg, err := game.ParseConfig([]byte(body), "dense")
	if err != nil {
		t.Fatal(err)
	}
	return &cfg
}

func itoa(i int) string {
	if i == 0 {
		return "0"
	}
	s := ""
	for ; i > 0; i /= 10 {
		s = string(rune('0'+i%10)) + s
	}
	return s
}

// denseRound plays an autoplayed round for ticks and returns it: many hits and misses in every
// lane, 30 objects alive.
func denseRound(t testing.TB, cfg *game.Config, ticks int) *game.Round {
	t.Helper()
	r, err := game.NewRound(cfg, game.RoundParams{Wall: "w", Round: 1, Seed: 7, Running: true})
	if err != nil {
		t.Fatal(err)
	}
	bot := game.NewBot(cfg, 7)
	var in []game.Input
	for i := 0; i < ticks; i++ {
		in = bot.Inputs(r, in[:0])
		if i%4 == 0 { // a stray tap in every lane: ripples
			for l := range cfg.Lanes {
				in = append(in, game.Input{Kind: game.KindDown, Contact: int32(100 + l), XMM: cfg.Lanes[l].XMM + 500, YMM: int32(300 + (i*37)%3400)},
					game.Input{Kind: game.KindUp, Contact: int32(100 + l)})
			}
		}
		r.Step(in)
	}
	return r
}

// denseScene is the dense frame with 80 touches.
func denseScene(t testing.TB) scene.Scene {
	cfg := denseConfig(t)
	r := denseRound(t, cfg, 600)
	if n := len(r.Objects()); n < 28 {
		t.Fatalf("dense round has %d objects alive", n)
	}
	sc := scene.Scene{Config: cfg, Round: r, NextGame: "targets", Frac: 0.5}
	for i := 0; i < 80; i++ {
		l := i % 8
		sc.Touches = append(sc.Touches, scene.Touch{ID: int32(i), XMM: int32(l*1000 + 100 + (i*97)%800), YMM: int32(200 + (i*331)%3600), Lane: int8(l)})
	}
	return sc
}

func newDenseApp(t testing.TB) (*App, *fakeDriver) {
	sc := denseScene(t)
	d := &fakeDriver{sc: sc}
	var now int64
	a, err := NewApp(Options{Config: sc.Config, Clock: func() int64 { now += 16_667; return now }, Driver: d})
	if err != nil {
		t.Fatal(err)
	}
	return a, d
}

func benchmarkDrawDense(b *testing.B, w, h int) {
	a, _ := newDenseApp(b)
	var img *ebiten.Image
	onFrame(func(*ebiten.Image) { img = ebiten.NewImage(w, h) })
	for i := 0; i < 3; i++ {
		onFrame(func(*ebiten.Image) { a.Draw(img) })
	}
	b.ReportAllocs()
	b.ResetTimer()
	b.StopTimer()
	f := func(*ebiten.Image) {
		b.StartTimer()
		a.Draw(img)
		b.StopTimer()
	}
	for i := 0; i < b.N; i++ {
		onFrame(f)
	}
}

// BenchmarkDrawDense measures the time spent inside Draw for the dense frame (8 lanes, 30 objects
// each, 80 touches, effects of many hits), one Draw per real frame: Ebiten's GPU work (rasterising)
// happens when the frame ends, outside the timer.
func BenchmarkDrawDense(b *testing.B) {
	for _, s := range []struct {
		name string
		w, h int
	}{{"1920x960", 1920, 960}, {"3840x1920", 3840, 1920}} {
		b.Run(s.name, func(b *testing.B) { benchmarkDrawDense(b, s.w, s.h) })
	}
}
