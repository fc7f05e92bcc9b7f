package main

import (
	"bytes"
	"image"
	"image/color"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"tapwall/game"
	"tapwall/render"
)

var binDir string

// TestMain builds tapwall and tapwall-wall side by side, as a user's install has them, so the tests
// drive the real `tapwall run` path. It needs an X display: the README runs it under xvfb-run.
func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "tapwall-wall-bin")
	if err != nil {
		panic(err)
	}
	binDir = dir
	for _, b := range []struct{ pkg, cgo string }{{"../tapwall", "0"}, {".", "1"}} {
		cmd := exec.Command("go", "build", "-o", dir+"/", b.pkg)
		cmd.Env = append(os.Environ(), "CGO_ENABLED="+b.cgo)
		if out, err := cmd.CombinedOutput(); err != nil {
			os.Stderr.Write(out)
			panic(err)
		}
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

func write(t *testing.T, name, body string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// screenshot runs `tapwall run` with a scripted round and returns the PNG it wrote.
func screenshot(t *testing.T, cfgPath, inputs string, ticks int, window string) *image.RGBA {
	t.Helper()
	out := filepath.Join(t.TempDir(), "shot.png")
	cmd := exec.Command(filepath.Join(binDir, "tapwall"), "run", "--config", cfgPath, "--inputs", inputs,
		"--screenshot", out, "--exit-after-ticks", strconv.Itoa(ticks), "--window", window, "--journal-dir", t.TempDir())
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("tapwall run: %v\n%s", err, stderr.String())
	}
	f, err := os.Open(out)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatal(err)
	}
	rgba := image.NewRGBA(img.Bounds())
	for y := img.Bounds().Min.Y; y < img.Bounds().Max.Y; y++ {
		for x := img.Bounds().Min.X; x < img.Bounds().Max.X; x++ {
			rgba.Set(x, y, img.At(x, y))
		}
	}
	return rgba
}

func near(c color.RGBA, want color.RGBA, tol int) bool {
	d := func(a, b uint8) int {
		if a > b {
			return int(a - b)
		}
		return int(b - a)
	}
	return d(c.R, want.R) <= tol && d(c.G, want.G) <= tol && d(c.B, want.B) <= tol
}

// TestScreenshotShowsDividersAndTargetsWhereTheirMillimetresMap runs a scripted round in a small
// window and probes the pixels where the View puts the lane dividers and the live targets.
func TestScreenshotShowsDividersAndTargetsWhereTheirMillimetresMap(t *testing.T) {
	const w, h, ticks = 400, 200, 100
	cfgPath := write(t, "c.toml", "[round]\ncountdown_seconds = 0\n")
	inputs := `{"tick":0,"action":"start"}` + "\n"
	inPath := write(t, "in.jsonl", inputs)
	img := screenshot(t, cfgPath, inPath, ticks, "400x200")
	if img.Bounds().Dx() != w || img.Bounds().Dy() != h {
		t.Fatalf("screenshot is %v, want %dx%d", img.Bounds(), w, h)
	}

	cfg, err := game.LoadConfig(cfgPath)
	if err != nil {
		t.Fatal(err)
	}
	v := render.NewView(cfg.Wall.WidthMM, cfg.Wall.HeightMM, w, h)
	// Dividers: every inner lane edge is a white line; the middle of a lane is not.
	for _, l := range cfg.Lanes[1:] {
		px, py := v.Px(l.XMM, cfg.Wall.HeightMM/2)
		found := false
		for dx := -1; dx <= 1; dx++ {
			found = found || near(img.RGBAAt(int(px)+dx, int(py)), render.ColDivider, 40)
		}
		if !found {
			t.Errorf("no divider at x=%d mm (px %.0f): pixel %v", l.XMM, px, img.RGBAAt(int(px), int(py)))
		}
		mx, _ := v.Px(l.XMM+l.WidthMM/2, 0)
		if c := img.RGBAAt(int(mx), int(py)+30); near(c, render.ColDivider, 40) {
			t.Errorf("lane middle at px %.0f is white: the probe would pass on a blank white frame", mx)
		}
	}
	// Targets: the same script through the game package says where the targets are after `ticks`.
	show := game.NewShow(&cfg, nil)
	script, _ := game.ReadInputs(strings.NewReader(inputs), "in", &cfg)
	game.GroupByTick(script, ticks, func(_ int64, in []game.Input) { show.Step(in) })
	r := show.Round()
	probed := 0
	for _, o := range r.Objects() {
		ox, oy := o.Pos(r.RunTick(), r.TickRate())
		for _, l := range cfg.Lanes {
			px, py := v.Px(l.XMM+ox, l.YMM+oy)
			if py < 20 || py > float64(h)-20 { // keep clear of the score line and the timer
				continue
			}
			probed++
			if c := img.RGBAAt(int(px+0.5), int(py+0.5)); !near(c, render.ColTarget, 40) {
				t.Errorf("target %d of lane %s at (%d,%d) mm -> px (%.1f,%.1f) shows %v, want %v",
					o.ID, l.Name, l.XMM+ox, l.YMM+oy, px, py, c, render.ColTarget)
			}
			// And just outside its radius, it is not there.
			if c := img.RGBAAt(int(px+v.Len(o.R)+3), int(py+0.5)); near(c, render.ColTarget, 40) {
				t.Errorf("target colour beyond the radius of target %d in lane %s", o.ID, l.Name)
			}
		}
	}
	if probed < 4 {
		t.Fatalf("only %d target probes: the scenario shows too few targets", probed)
	}
}
