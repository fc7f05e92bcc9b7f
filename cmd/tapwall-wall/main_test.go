package main

import (
	"bytes"
	"encoding/json"
	"image"
	"image/color"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"tapwall/game"
	"tapwall/internal/testbin"
	"tapwall/render"
)

var binDir string

// TestMain builds tapwall and tapwall-wall side by side, as a user's install has them, so the tests
// drive the real `tapwall run` path. It needs an X display: the README runs it under xvfb-run.
func TestMain(m *testing.M) {
	testbin.Main(m, &binDir, testbin.Cmd{Pkg: "../tapwall"}, testbin.Cmd{Pkg: ".", CGO: true})
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
		"--screenshot", out, "--exit-after-ticks", strconv.Itoa(ticks), "--window", window, "--journal-dir", t.TempDir(), "--touch=false", "--control", "127.0.0.1:0")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("tapwall run: %v\n%s", err, stderr.String())
	}
	return readPNG(t, out)
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
// window and probes the pixels where the View puts the lane dividers and the live targets (their
// bullseye's middle is ColTarget; objects are drawn over the lane headers, so every target is
// probed, wherever it is).
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

// runWall runs `tapwall run` with a config and a script and returns the screenshot and the journal.
func runWall(t *testing.T, cfgBody, script string, ticks int, extra ...string) (*image.RGBA, string, string) {
	t.Helper()
	dir := t.TempDir()
	cfgPath := filepath.Join(dir, "c.toml")
	os.WriteFile(cfgPath, []byte(cfgBody), 0o644)
	in := filepath.Join(dir, "in.jsonl")
	os.WriteFile(in, []byte(script), 0o644)
	shot, jdir := filepath.Join(dir, "shot.png"), filepath.Join(dir, "journals")
	args := append([]string{"run", "--config", cfgPath, "--inputs", in, "--screenshot", shot, "--exit-after-ticks",
		strconv.Itoa(ticks), "--window", "400x200", "--journal-dir", jdir, "--touch=false", "--control", "127.0.0.1:0"}, extra...)
	cmd := exec.Command(filepath.Join(binDir, "tapwall"), args...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("tapwall run: %v\n%s", err, stderr.String())
	}
	js, _ := filepath.Glob(filepath.Join(jdir, "*.jsonl"))
	if len(js) != 1 {
		t.Fatalf("journals %v", js)
	}
	return readPNG(t, shot), js[0], stderr.String()
}

// TestOperatorStateNeverReachesTheShowWall: two runs at the same tick that differ only in
// operator-side state (HUD on or off, a touch-failure alarm raised or not, a lane taken over by
// keyboard) draw the same pixels with operator.on_wall = "none"; with "corner" the operator's strip
// appears in its corner and nowhere else.
func TestOperatorStateNeverReachesTheShowWall(t *testing.T) {
	const show = "[round]\ncountdown_seconds = 0\n"
	script := `{"tick":0,"action":"start"}` + "\n" + `{"tick":1,"action":"adjust","lane":1,"delta":5}` + "\n"
	kbScript := script + `{"tick":2,"action":"takeover","lane":1,"on":true}` + "\n"
	quiet, _, _ := runWall(t, show+"[keyboard]\nalarm_silence_ms = 60000\n", script, 150)
	loud, _, logs := runWall(t, show+"[keyboard]\nalarm_silence_ms = 1000\n", kbScript, 150, "--hud")
	if !strings.Contains(logs, `"alarm":"touch_silent"`) {
		t.Fatalf("the alarm was not raised in the loud run:\n%s", logs)
	}
	if d := diffPixels(quiet, loud); d != 0 {
		t.Fatalf("%d pixels differ between runs that differ only in operator-side state", d)
	}
	corner, _, _ := runWall(t, show+"[operator]\non_wall = \"corner\"\n[keyboard]\nalarm_silence_ms = 1000\n", kbScript, 150, "--hud")
	b := quiet.Bounds()
	inCorner, outside := 0, 0
	for y := 0; y < b.Dy(); y++ {
		for x := 0; x < b.Dx(); x++ {
			if quiet.RGBAAt(x, y) != corner.RGBAAt(x, y) {
				if x < b.Dx()*3/4 && y > b.Dy()/4 {
					inCorner++
				} else {
					outside++
				}
			}
		}
	}
	if inCorner < 500 {
		t.Fatalf("the corner strip changed only %d pixels", inCorner)
	}
	_ = outside // keyboard frames and cursors may be drawn on the lanes in a rehearsal
}

// diffPixels counts the pixels that differ between two images of the same size.
func diffPixels(a, b *image.RGBA) int {
	n := 0
	for i := 0; i+3 < len(a.Pix) && i+3 < len(b.Pix); i += 4 {
		if a.Pix[i] != b.Pix[i] || a.Pix[i+1] != b.Pix[i+1] || a.Pix[i+2] != b.Pix[i+2] {
			n++
		}
	}
	return n
}

// TestKeyboardOnlyRoundInTheWindow drives lane 3 of a 5 s round by keyboard only (zone taps) in the
// real window and checks the round scores what touches at the zone centres score, and that its
// journal replays.
func TestKeyboardOnlyRoundInTheWindow(t *testing.T) {
	const cfgBody = "[round]\ncountdown_seconds = 0\nseconds = 5\n[targets]\nradius_mm = 400\n"
	cfg, _ := game.ParseConfig([]byte(cfgBody), "c")
	const lane, ticks = 2, 320
	// Plan zone taps against the round's own challenge (a Show, as the window runs it).
	plan := game.NewShow(&cfg, nil)
	script := []game.TickInput{{Tick: 0, Input: game.Input{Kind: game.KindStart}},
		{Tick: 0, Input: game.Input{Kind: game.KindTakeover, Source: game.SourceKeyboard, Lane: lane, Value: 1}}}
	var touches []game.TickInput
	for tick := int64(0); tick < ticks; tick++ {
		var in []game.Input
		for _, s := range script {
			if s.Tick == tick {
				in = append(in, s.Input)
			}
		}
		if r := plan.Round(); r != nil && tick%5 == 0 {
			for zone := 1; zone <= 9; zone++ {
				x, y := game.ZoneCentre(&cfg, lane, zone)
				for _, o := range r.Objects() {
					ox, oy := o.Pos(r.RunTick(), r.TickRate())
					l := cfg.Lanes[lane]
					dx, dy := int64(x-l.XMM-ox), int64(y-l.YMM-oy)
					if o.Taken&(1<<lane) == 0 && dx*dx+dy*dy <= int64(o.R)*int64(o.R) {
						zt := game.Input{Kind: game.KindZoneTap, Source: game.SourceKeyboard, Lane: lane, Value: int32(zone)}
						in = append(in, zt)
						script = append(script, game.TickInput{Tick: tick, Input: zt})
						id := game.KeyboardContact(lane)
						touches = append(touches, game.TickInput{Tick: tick, Input: game.Input{Kind: game.KindDown, Contact: id, XMM: x, YMM: y}},
							game.TickInput{Tick: tick, Input: game.Input{Kind: game.KindUp, Contact: id, XMM: x, YMM: y}})
						break
					}
				}
			}
		}
		plan.Step(in)
	}
	var b []byte
	for _, s := range script {
		b = append(game.AppendInputJSON(b, s.Tick, &s.Input), '\n')
	}
	_, journal, _ := runWall(t, cfgBody, string(b), ticks)
	// The same round with touches at the zone centres instead.
	ref := game.NewShow(&cfg, nil)
	all := append([]game.TickInput{{Tick: 0, Input: game.Input{Kind: game.KindStart}}}, touches...)
	game.GroupByTick(all, ticks, func(_ int64, in []game.Input) { ref.Step(in) })
	want := ref.Round().Score(lane)
	if want == 0 {
		t.Fatal("the touches scored nothing: the test proves nothing")
	}
	data, _ := os.ReadFile(journal)
	lines := strings.Split(strings.TrimSpace(string(data)), "\n")
	var sum game.Summary
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), &sum); err != nil || sum.Type != "summary" {
		t.Fatalf("journal's last line %q: %v", lines[len(lines)-1], err)
	}
	if sum.Scores[lane].Score != want || strings.Count(string(data), `"action":"zone_tap"`) == 0 {
		t.Fatalf("keyboard round scored %d, touches at the zone centres %d", sum.Scores[lane].Score, want)
	}
	out, err := exec.Command(filepath.Join(binDir, "tapwall"), "replay", journal).Output()
	if err != nil {
		t.Fatalf("replay of the window's journal: %v", err)
	}
	var rep game.Summary
	json.Unmarshal(out, &rep)
	if rep.Hash != sum.Hash {
		t.Fatalf("replay hash %s, journal %s", rep.Hash, sum.Hash)
	}
}

// TestEvemuRehearsalPlaysIntoTheShow plays a real 4-finger recording into a live round through the
// whole touch path; the round's journal holds its touches, from the touch source.
func TestEvemuRehearsalPlaysIntoTheShow(t *testing.T) {
	rec := "../../input/testdata/recordings/08_atmel-maxtouch-4finger_protoB.evemu"
	_, journal, _ := runWall(t, "[round]\ncountdown_seconds = 0\n", `{"tick":0,"action":"start"}`+"\n", 90, "--evemu", rec)
	data, _ := os.ReadFile(journal)
	downs, ups := 0, 0
	for _, l := range strings.Split(string(data), "\n") {
		if strings.Contains(l, `"source":"touch"`) {
			if strings.Contains(l, `"kind":"down"`) {
				downs++
			}
			if strings.Contains(l, `"kind":"up"`) {
				ups++
			}
		}
	}
	if downs != 4 || ups != 4 {
		t.Fatalf("the recording's 4 fingers gave %d downs and %d ups in the round's journal", downs, ups)
	}
}

// TestBadThemeFileStopsTheShowAtStart: a theme file that cannot be used stops `tapwall run` before
// the window opens, exit 2, naming the key and the file.
func TestBadThemeFileStopsTheShowAtStart(t *testing.T) {
	cfgPath := write(t, "c.toml", "[theme]\ntarget = \"art/missing-target.png\"\n")
	cmd := exec.Command(filepath.Join(binDir, "tapwall"), "run", "--config", cfgPath, "--exit-after-ticks", "5",
		"--journal-dir", "", "--touch=false")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	err := cmd.Run()
	ee, ok := err.(*exec.ExitError)
	if !ok || ee.ExitCode() != 2 || !strings.Contains(stderr.String(), "theme.target") || !strings.Contains(stderr.String(), "missing-target.png") {
		t.Fatalf("tapwall run with a missing theme file: %v, stderr %q; want exit 2 naming theme.target and the file", err, stderr.String())
	}
}
