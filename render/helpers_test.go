package render

import (
	"fmt"
	"image"
	"testing"

	"github.com/hajimehoshi/ebiten/v2"

	"tapwall/game"
	"tapwall/render/scene"
)

// parseCfg parses a config for a test.
func parseCfg(t testing.TB, body string) *game.Config {
	t.Helper()
	cfg, err := game.ParseConfig([]byte(body), "test")
	if err != nil {
		t.Fatal(err)
	}
	return &cfg
}

// lanesConfig is a config of n lanes side by side on the 8 m x 4 m wall, plus extra TOML.
func lanesConfig(t testing.TB, n int, extra string) *game.Config {
	t.Helper()
	body := ""
	w := 8000 / n
	for i := 0; i < n; i++ {
		body += fmt.Sprintf("[[lanes]]\nname = \"PLAYER %d\"\nx_mm = %d\ny_mm = 0\nwidth_mm = %d\nheight_mm = 4000\n", i+1, i*w, w)
	}
	return parseCfg(t, body+extra)
}

// newTestApp returns an App for cfg drawing whatever scene its driver holds.
func newTestApp(t testing.TB, cfg *game.Config) (*App, *fakeDriver) {
	t.Helper()
	d := &fakeDriver{sc: scene.Scene{Config: cfg}}
	var now int64
	a, err := NewApp(Options{Config: cfg, Clock: func() int64 { now += 16_667; return now }, Driver: d})
	if err != nil {
		t.Fatal(err)
	}
	return a, d
}

// render draws sc with a in a w x h image, in a frame of the loop, and returns its pixels.
func render(a *App, sc *scene.Scene, w, h int) *image.RGBA {
	out := image.NewRGBA(image.Rect(0, 0, w, h))
	onFrame(func(*ebiten.Image) {
		img := newImage(w, h)
		a.drawFrame(img, sc)
		img.ReadPixels(out.Pix)
		img.Deallocate()
	})
	return out
}

// step steps r by n ticks with no input, or with the inputs in[tick-relative] where given.
func step(r *game.Round, n int, in map[int][]game.Input) {
	for i := 0; i < n; i++ {
		r.Step(in[i])
	}
}

// countDiff counts the pixels that differ between a and b inside rect, skipping those for which
// skip says so.
func countDiff(a, b *image.RGBA, rect image.Rectangle, skip func(x, y int) bool) int {
	n := 0
	rect = rect.Intersect(a.Bounds())
	for y := rect.Min.Y; y < rect.Max.Y; y++ {
		for x := rect.Min.X; x < rect.Max.X; x++ {
			if skip != nil && skip(x, y) {
				continue
			}
			i := a.PixOffset(x, y)
			if a.Pix[i] != b.Pix[i] || a.Pix[i+1] != b.Pix[i+1] || a.Pix[i+2] != b.Pix[i+2] {
				n++
			}
		}
	}
	return n
}

// rectOf converts a layout rectangle to pixels, rounding outwards.
func rectOf(r Rect) image.Rectangle {
	return image.Rect(int(r.X0), int(r.Y0), int(r.X1+0.999), int(r.Y1+0.999))
}

// bright counts the pixels in rect brighter than lim in their brightest channel.
func bright(img *image.RGBA, rect image.Rectangle, lim uint8) int {
	n := 0
	rect = rect.Intersect(img.Bounds())
	for y := rect.Min.Y; y < rect.Max.Y; y++ {
		for x := rect.Min.X; x < rect.Max.X; x++ {
			c := img.RGBAAt(x, y)
			if max(c.R, c.G, c.B) > lim {
				n++
			}
		}
	}
	return n
}
