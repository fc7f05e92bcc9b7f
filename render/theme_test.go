package render

import (
	"image"
	"image/color"
	"math"
	"strings"
	"testing"

	"tapwall/assets"
	"tapwall/game"
	"tapwall/render/scene"
)

// solid is a w x h image of one colour.
func solid(w, h int, c color.RGBA) *image.RGBA {
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for i := 0; i < len(img.Pix); i += 4 {
		img.Pix[i], img.Pix[i+1], img.Pix[i+2], img.Pix[i+3] = c.R, c.G, c.B, c.A
	}
	return img
}

// TestThemeChangesTheLook draws a round with a theme whose target sprite is solid blue and whose
// lane colours are red and green: the targets are blue where they are, the lanes' accent stripes
// are the theme's colours.
func TestThemeChangesTheLook(t *testing.T) {
	cfg := parseCfg(t, "[round]\ncountdown_seconds = 0\n")
	th, err := assets.LoadTheme(cfg)
	if err != nil {
		t.Fatal(err)
	}
	blue := color.RGBA{0, 0, 255, 255}
	th.Target = solid(64, 64, blue)
	th.LaneColors = []color.RGBA{{255, 0, 0, 255}, {0, 255, 0, 255}, {255, 0, 0, 255}, {0, 255, 0, 255}}
	d := &fakeDriver{}
	a, err := NewApp(Options{Config: cfg, Clock: func() int64 { return 0 }, Driver: d, Theme: th})
	if err != nil {
		t.Fatal(err)
	}
	r, _ := game.NewRound(cfg, game.RoundParams{Wall: "w", Round: 1, Seed: 2, Running: true})
	step(r, 40, nil)
	img := render(a, &scene.Scene{Config: cfg, Round: r}, 960, 480)
	v := a.lay.View
	probed := 0
	for _, o := range r.Objects() {
		for _, l := range cfg.Lanes {
			px, py := v.Px(l.XMM+o.X, l.YMM+o.Y)
			c := img.RGBAAt(int(px), int(py))
			if c.B < 200 || c.R > 60 || c.G > 60 {
				t.Errorf("target at (%.0f,%.0f) is %v, want the theme's blue", px, py, c)
			}
			probed++
		}
	}
	if probed == 0 {
		t.Fatal("no target to probe")
	}
	for i, ll := range a.lay.Lanes {
		c := img.RGBAAt(int((ll.Lane.X0+ll.Lane.X1)/2), int(ll.Lane.Y0+1))
		want := th.LaneColors[i]
		if math.Abs(float64(c.R)-float64(want.R)) > 60 || math.Abs(float64(c.G)-float64(want.G)) > 60 || c.B > 60 {
			t.Errorf("lane %d's accent stripe is %v, want about %v", i+1, c, want)
		}
	}
}

// TestBadThemeStopsTheWindow: NewApp refuses a theme file it cannot use, naming the key.
func TestBadThemeStopsTheWindow(t *testing.T) {
	cfg := parseCfg(t, "[theme]\nlogo = \"no-such-logo.png\"\n")
	_, err := NewApp(Options{Config: cfg, Clock: func() int64 { return 0 }, Driver: &fakeDriver{}})
	if err == nil || !strings.Contains(err.Error(), "theme.logo") {
		t.Fatalf("NewApp with a missing logo: %v, want an error naming theme.logo", err)
	}
}

// TestAtlasHoldsAnEightKWall draws a countdown of 4 lanes at 7680x3840 (the GPU bench), the largest
// text a wall draws: every glyph and sprite finds room in the atlas, and the labels fit without
// starting their part again.
func TestAtlasHoldsAnEightKWall(t *testing.T) {
	for _, n := range []int{4} {
		cfg := lanesConfig(t, n, "")
		a, _ := newTestApp(t, cfg)
		r, _ := game.NewRound(cfg, game.RoundParams{Wall: "w", Round: 1, Seed: 2, Countdown: 120})
		render(a, &scene.Scene{Config: cfg, Round: r}, 7680, 3840)
		for _, d := range []*digits{a.digScore, a.digFinal, a.digPlus, a.digTimer} {
			for i, c := range d.cells {
				if c.body.Empty() || c.shadow.Empty() {
					t.Errorf("%d lanes: digit %q of size %.0f has no room in the atlas", n, digitChars[i], d.size)
				}
			}
		}
		ar := a.art
		for name, s := range map[string]sprite{"target": ar.target, "envelope": ar.envelope, "gold": ar.gold[goldPhases-1], "star": ar.star, "ring": ar.ring} {
			if !s.ok {
				t.Errorf("%d lanes: no room for the %s sprite", n, name)
			}
		}
		if a.labels.resets != 0 {
			t.Errorf("%d lanes: the labels' part of the atlas filled up %d times in one frame", n, a.labels.resets)
		}
	}
}

// gradient is a w x h opaque image whose colour changes across it, so that a resampling shows.
func gradient(w, h int) *image.RGBA {
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			img.SetRGBA(x, y, color.RGBA{uint8(255 * x / w), uint8(255 * y / h), uint8((x ^ y) & 0xff), 255})
		}
	}
	return img
}

// TestThemeImagesAreResampledOncePerGrowth: a new image size (a render-scale step, a resized window)
// makes a new layout, but the theme's images are resampled from their source only when a larger
// size than before is asked for; a smaller one comes from the largest resampling, and the size
// asked for before comes back as it was: the same pixels.
func TestThemeImagesAreResampledOncePerGrowth(t *testing.T) {
	cfg := parseCfg(t, "[round]\ncountdown_seconds = 0\n[show]\ntitle = \"SHOW\"\n")
	th, err := assets.LoadTheme(cfg)
	if err != nil {
		t.Fatal(err)
	}
	th.Target, th.Packet, th.Golden, th.Logo = gradient(600, 600), gradient(400, 500), gradient(400, 500), gradient(900, 300)
	a, err := NewApp(Options{Config: cfg, Clock: func() int64 { return 0 }, Driver: &fakeDriver{}, Theme: th})
	if err != nil {
		t.Fatal(err)
	}
	r, _ := game.NewRound(cfg, game.RoundParams{Wall: "w", Round: 1, Seed: 2, Running: true})
	step(r, 40, nil)
	sc := &scene.Scene{Config: cfg, Round: r, Attract: true}
	imgs := map[string]*themeImg{"logo": a.logoImg, "target": a.themed[0], "packet": a.themed[1], "golden": a.themed[2]}
	resamples := func(when string, want int) {
		t.Helper()
		for name, ti := range imgs {
			if ti.resamples != want {
				t.Errorf("%s: the %s was resampled from its source %d times, want %d", when, name, ti.resamples, want)
			}
		}
	}
	first := render(a, sc, 960, 480)
	if !a.logo.ok || !a.art.themed[0].ok {
		t.Fatal("the theme's logo or target has no sprite")
	}
	resamples("first layout", 1)
	render(a, sc, 720, 360)
	resamples("a smaller layout", 1)
	again := render(a, sc, 960, 480)
	resamples("the first size again", 1)
	if n := countDiff(first, again, first.Bounds(), nil); n != 0 {
		t.Errorf("the first size drawn again differs in %d pixels", n)
	}
	render(a, sc, 1280, 640)
	resamples("a larger layout", 2)
}
