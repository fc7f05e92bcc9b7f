package input

import (
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"tapwall/game"
)

// device returns a protocol-B device description with axes 0..max.
func device(name string, maxX, maxY int32) DeviceInfo {
	var d DeviceInfo
	d.Name = name
	for _, c := range []uint16{AbsX, AbsMTPositionX} {
		d.Abs[c] = AbsInfo{Present: true, Max: maxX}
	}
	for _, c := range []uint16{AbsY, AbsMTPositionY} {
		d.Abs[c] = AbsInfo{Present: true, Max: maxY}
	}
	d.Abs[AbsMTSlot] = AbsInfo{Present: true, Max: 9}
	d.Abs[AbsMTTrackingID] = AbsInfo{Present: true, Max: 65535}
	return d
}

type pt struct {
	t    int64
	x, y int32
}

// stroke is one finger in slot 0 with tracking id: down at the first point, moves, up after the last.
func stroke(id int32, pts []pt, upAt int64) []RawEvent {
	var evs []RawEvent
	for i, p := range pts {
		if i == 0 {
			evs = append(evs, RawEvent{p.t, EvAbs, AbsMTTrackingID, id})
		}
		evs = append(evs, RawEvent{p.t, EvAbs, AbsMTPositionX, p.x}, RawEvent{p.t, EvAbs, AbsMTPositionY, p.y}, RawEvent{p.t, EvSyn, SynReport, 0})
	}
	if upAt > 0 {
		evs = append(evs, RawEvent{upAt, EvAbs, AbsMTTrackingID, -1}, RawEvent{upAt, EvSyn, SynReport, 0})
	}
	return evs
}

func twoFrameConfig(t *testing.T, rightRotation int) game.Config {
	t.Helper()
	cfg := game.DefaultConfig()
	cfg.Frames = []game.FrameConfig{
		{Name: "left", MatchName: "L", WidthMM: 4000, HeightMM: 4000},
		{Name: "right", MatchName: "R", XMM: 4000, WidthMM: 4000, HeightMM: 4000, Rotation: rightRotation},
	}
	if err := CheckConfig(&cfg); err != nil {
		t.Fatal(err)
	}
	return cfg
}

func TestSwipeAcrossASeamIsOneContact(t *testing.T) {
	cfg := twoFrameConfig(t, 0)
	// Device units = 0.1 mm. The finger slides right along y = 2000 mm at 1 m/s: on the left frame
	// from x = 3800 to 3990 mm, then on the right frame from 4010 mm on, 20 ms later.
	var left, right []pt
	for i := int64(0); i < 20; i++ {
		left = append(left, pt{1_000_000 + i*10_000, int32(38000 + i*100), 20000})
	}
	for i := int64(0); i < 20; i++ {
		right = append(right, pt{1_220_000 + i*10_000, int32(100 + i*100), 20000})
	}
	l := &Recording{File: "l.evemu", Info: device("L", 40000, 40000), Events: stroke(7, left, 1_200_000)}
	r := &Recording{File: "r.evemu", Info: device("R", 40000, 40000), Events: stroke(3, right, 1_420_000)}
	w, err := NewWall(&cfg)
	if err != nil {
		t.Fatal(err)
	}
	evs, _, err := PlayAll(w, []*Recording{l, r})
	if err != nil {
		t.Fatal(err)
	}
	var kinds []string
	for _, e := range evs {
		if e.Contact != evs[0].Contact {
			t.Fatalf("contact %d appeared: the swipe became two contacts: %v", e.Contact, evs)
		}
		if len(kinds) == 0 || kinds[len(kinds)-1] != e.Kind.String() {
			kinds = append(kinds, e.Kind.String())
		}
	}
	if got := strings.Join(kinds, ","); got != "down,move,up" {
		t.Fatalf("event kinds %s, want down,move,up", got)
	}
	first, last := evs[0], evs[len(evs)-1]
	if first.Frame != 0 || last.Frame != 1 || last.XMM < 4100 || w.Stats().Seams != 1 {
		t.Fatalf("down %+v up %+v seams %d", first, last, w.Stats().Seams)
	}
	// Without the seam join (time limit 0) the same swipe is two contacts.
	cfg.Input.SeamTimeMS = 0
	w2, _ := NewWall(&cfg)
	evs2, _, _ := PlayAll(w2, []*Recording{l, r})
	downs := 0
	for _, e := range evs2 {
		if e.Kind == game.KindDown {
			downs++
		}
	}
	if downs != 2 {
		t.Fatalf("with seam_time_ms = 0: %d downs, want 2", downs)
	}
}

func TestLiftNearASeamWithNoContinuationGoesUpWithItsOwnTime(t *testing.T) {
	cfg := twoFrameConfig(t, 0)
	l := &Recording{File: "l.evemu", Info: device("L", 40000, 40000), Events: stroke(1, []pt{{100, 39900, 100}}, 5000)}
	r := &Recording{File: "r.evemu", Info: device("R", 40000, 40000), Events: stroke(2, []pt{{900_000, 30000, 30000}}, 950_000)}
	w, _ := NewWall(&cfg)
	evs, _, err := PlayAll(w, []*Recording{l, r})
	if err != nil {
		t.Fatal(err)
	}
	if len(evs) != 4 || evs[1].Kind != game.KindUp || evs[1].TimeUS != 5000-100 || evs[1].Contact != evs[0].Contact {
		t.Fatalf("events %+v: the held lift must go up, stamped with its own time", evs)
	}
}

func TestRotatedFrameMapsCornersToTheRightWallCorners(t *testing.T) {
	info := device("R", 1000, 500)
	for _, tc := range []struct {
		rot     int
		mirrorX bool
		// wall corners (frame at x 4000..7999, y 0..3999) of device TL, TR, BR, BL
		want [4][2]int32
	}{
		{0, false, [4][2]int32{{4000, 0}, {7999, 0}, {7999, 3999}, {4000, 3999}}},
		// Turned 90° clockwise: the device's top-left corner is at the frame's top-right.
		{90, false, [4][2]int32{{7999, 0}, {7999, 3999}, {4000, 3999}, {4000, 0}}},
		{180, false, [4][2]int32{{7999, 3999}, {4000, 3999}, {4000, 0}, {7999, 0}}},
		{270, false, [4][2]int32{{4000, 3999}, {4000, 0}, {7999, 0}, {7999, 3999}}},
		{90, true, [4][2]int32{{4000, 0}, {4000, 3999}, {7999, 3999}, {7999, 0}}},
	} {
		cfg := twoFrameConfig(t, tc.rot)
		cfg.Frames[1].MirrorX = tc.mirrorX
		w, _ := NewWall(&cfg)
		if _, err := w.Attach(1, &info, AbsMTPositionX, AbsMTPositionY, 0, nil); err != nil {
			t.Fatal(err)
		}
		corners := [4][2]int32{{0, 0}, {1000, 0}, {1000, 500}, {0, 500}}
		for i, c := range corners {
			x, y := w.Map(1, c[0], c[1])
			// The frame's far edges are at 8000 and 4000 mm, which the wall clamps to 7999 and 3999.
			if x != tc.want[i][0] || y != tc.want[i][1] {
				t.Errorf("rotation %d mirror %v: device corner %v -> (%d,%d) mm, want %v", tc.rot, tc.mirrorX, c, x, y, tc.want[i])
			}
		}
		// Calibrated (float) and exact (integer) paths agree with an identity matrix.
		cfg.Frames[1].Calibration = []float64{1, 0, 0, 0, 1, 1e-12}
		wc, _ := NewWall(&cfg)
		wc.Attach(1, &info, AbsMTPositionX, AbsMTPositionY, 0, nil)
		for _, p := range [][2]int32{{123, 456}, {999, 1}, {500, 250}} {
			ax, ay := w.Map(1, p[0], p[1])
			bx, by := wc.Map(1, p[0], p[1])
			if ax != bx || ay != by {
				t.Errorf("rotation %d: exact path (%d,%d), float path (%d,%d)", tc.rot, ax, ay, bx, by)
			}
		}
	}
}

func TestNoConfigMapsByTheTraceFormula(t *testing.T) {
	cfg := game.DefaultConfig()
	w, _ := NewWall(&cfg)
	info := device("x", 0, 0)
	info.Abs[AbsMTPositionX] = AbsInfo{Present: true, Min: 100, Max: 32767}
	info.Abs[AbsMTPositionY] = AbsInfo{Present: true, Min: -50, Max: 1000}
	w.Attach(0, &info, AbsMTPositionX, AbsMTPositionY, 0, nil)
	for _, x := range []int32{100, 101, 2142, 16433, 30000, 32766} {
		for _, y := range []int32{-50, 0, 3, 500, 999} {
			gx, gy := w.Map(0, x, y)
			// The formula, clamped to the wall: sim refuses x_mm = 8000 on an 8000 mm wall.
			wx := min(int32(math.Round(float64(x-100)*8000/float64(32767-100))), 7999)
			wy := min(int32(math.Round(float64(y+50)*4000/float64(1050))), 3999)
			if gx != wx || gy != wy {
				t.Errorf("(%d,%d) -> (%d,%d), formula gives (%d,%d)", x, y, gx, gy, wx, wy)
			}
		}
	}
}

func TestOverlappingFramesMergeOneFinger(t *testing.T) {
	cfg := game.DefaultConfig()
	cfg.Frames = []game.FrameConfig{
		{Name: "a", MatchName: "A", WidthMM: 4200, HeightMM: 4000},
		{Name: "b", MatchName: "B", XMM: 3800, WidthMM: 4200, HeightMM: 4000},
	}
	w, err := NewWall(&cfg)
	if err != nil {
		t.Fatal(err)
	}
	// One finger at x = 4000 mm, seen by both frames (in each frame's device units, 1 unit = 1 mm).
	a := &Recording{File: "a", Info: device("A", 4200, 4000), Events: stroke(1, []pt{{100, 4000, 1000}, {20_000, 4005, 1100}}, 40_000)}
	b := &Recording{File: "b", Info: device("B", 4200, 4000), Events: stroke(9, []pt{{150, 200, 1000}, {20_050, 205, 1100}}, 60_000)}
	evs, _, err := PlayAll(w, []*Recording{a, b})
	if err != nil {
		t.Fatal(err)
	}
	c := map[game.Kind]int{}
	for _, e := range evs {
		c[e.Kind]++
	}
	if c[game.KindDown] != 1 || c[game.KindUp] != 1 || w.Stats().Merged != 1 {
		t.Fatalf("events %v (merged %d): one finger seen twice must be one contact", evs, w.Stats().Merged)
	}
	if up := evs[len(evs)-1]; up.TimeUS != 60_000-100 {
		t.Fatalf("the contact ended at %d: it must last while either frame still sees it", up.TimeUS)
	}
}

func TestFilters(t *testing.T) {
	cfg := game.DefaultConfig()
	cfg.Input.DeadZoneMM = 100
	cfg.Input.LaneContactLimit = 2
	cfg.Input.DejitterMM = 5
	cfg.Input.StuckMS = 1000
	cfg.Lanes[3].YMM, cfg.Lanes[3].HeightMM = 0, 3000 // lane 4 stops 1 m above the floor
	for i := range cfg.Lanes {
		cfg.Lanes[i].HeightMM = 3000
	}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	w, err := NewWall(&cfg)
	if err != nil {
		t.Fatal(err)
	}
	info := device("x", 8000, 4000) // 1 unit = 1 mm
	w.Attach(0, &info, AbsMTPositionX, AbsMTPositionY, 0, nil)
	D, M, U := game.KindDown, game.KindMove, game.KindUp
	var out []WallEvent
	feed := func(k game.Kind, id, x, y int32, t int64) int {
		n := len(out)
		out = w.Process(0, ContactEvent{k, id, x, y, t}, out)
		return len(out) - n
	}
	if feed(D, 1, 500, 3500, 0) != 0 || w.Stats().Ghosts != 1 {
		t.Fatal("a down below every lane must be suppressed as a ghost")
	}
	if feed(M, 1, 600, 2000, 1) != 0 || feed(U, 1, 600, 2000, 2) != 0 {
		t.Fatal("a ghost's moves and lift must stay suppressed")
	}
	if feed(D, 2, 1950, 100, 3) != 0 || w.Stats().Ghosts != 2 {
		t.Fatal("a down in the dead zone between lanes 1 and 2 must be suppressed")
	}
	if feed(D, 3, 50, 100, 4) != 1 || out[len(out)-1].Lane != 0 {
		t.Fatal("the wall's outer edge is no dead zone")
	}
	feed(D, 4, 500, 500, 5)
	if feed(D, 5, 600, 600, 6) != 0 || w.Stats().OverLimit != 1 {
		t.Fatal("a third contact in a lane limited to 2 must be suppressed")
	}
	if feed(M, 4, 503, 497, 7) != 0 || w.Stats().Dejittered != 1 {
		t.Fatal("a 3 mm move must be dropped as jitter with dejitter_mm = 5")
	}
	if feed(M, 4, 510, 500, 8) != 1 {
		t.Fatal("a 10 mm move must pass")
	}
	// Contact 3 and 4 go silent; 2 s later the watchdog cancels them (their touch-up was lost).
	n := len(out)
	out = w.Expire(2_000_000, out)
	if len(out)-n != 2 || out[n].Kind != game.KindCancel || w.Stats().Stuck != 2 || w.Active() != 0 {
		t.Fatalf("watchdog: %v, stats %+v", out[n:], w.Stats())
	}
	// The lane is free again.
	if feed(D, 6, 700, 700, 2_000_001) != 1 {
		t.Fatal("a lane whose contacts were cancelled must take new ones")
	}
}

func TestDetachCancelsTheFramesContacts(t *testing.T) {
	cfg := twoFrameConfig(t, 0)
	w, _ := NewWall(&cfg)
	info := device("L", 4000, 4000)
	w.Attach(0, &info, AbsMTPositionX, AbsMTPositionY, 0, nil)
	w.Attach(1, &info, AbsMTPositionX, AbsMTPositionY, 0, nil)
	out := w.Process(0, ContactEvent{game.KindDown, 1, 1000, 1000, 10}, nil)
	out = w.Process(1, ContactEvent{game.KindDown, 1, 1000, 1000, 10}, out)
	out = w.Detach(0, 20, out[:0])
	if len(out) != 1 || out[0].Kind != game.KindCancel || out[0].Frame != 0 || w.Active() != 1 {
		t.Fatalf("detach: %+v active %d", out, w.Active())
	}
}

func TestCalibrationFitRecoversAKnownTransform(t *testing.T) {
	for _, rot := range []int{0, 90} {
		fc := game.FrameConfig{Name: "f", XMM: 4000, WidthMM: 4000, HeightMM: 4000, Rotation: rot}
		// The frame sits slightly turned and offset: the true calibration.
		th := 0.02
		truth := [6]float64{0.98 * math.Cos(th), -math.Sin(th), 0.015, math.Sin(th), 1.01 * math.Cos(th), -0.02}
		var pts []PointPair
		noise := []float64{0.3, -0.4, 0.1, 0.5, -0.2, -0.5, 0.4, 0, -0.3}
		for i, uv := range [][2]float64{{.1, .1}, {.5, .1}, {.9, .1}, {.1, .5}, {.5, .5}, {.9, .5}, {.1, .9}, {.5, .9}, {.9, .9}} {
			x, y := applyCalibration(fc, truth, uv[0], uv[1])
			pts = append(pts, PointPair{U: uv[0], V: uv[1], XMM: x + noise[i], YMM: y - noise[(i+3)%9]})
		}
		fit, err := FitCalibration(fc, pts)
		if err != nil {
			t.Fatal(err)
		}
		worst := 0.0
		for u := 0.0; u <= 1; u += 0.05 {
			for v := 0.0; v <= 1; v += 0.05 {
				ax, ay := applyCalibration(fc, truth, u, v)
				bx, by := applyCalibration(fc, fit.Calibration, u, v)
				worst = math.Max(worst, math.Hypot(ax-bx, ay-by))
			}
		}
		if worst > 1 || fit.MaxMM > 1.5 {
			t.Fatalf("rotation %d: fitted transform is off by up to %.2f mm (residual %.2f): %v", rot, worst, fit.MaxMM, fit.Calibration)
		}
		// Through the Wall's own mapping too.
		cfg := game.DefaultConfig()
		fc.Calibration = fit.Calibration[:]
		cfg.Frames = []game.FrameConfig{fc}
		w, err := NewWall(&cfg)
		if err != nil {
			t.Fatal(err)
		}
		info := device("f", 10000, 10000)
		w.Attach(0, &info, AbsMTPositionX, AbsMTPositionY, 0, nil)
		x, y := w.Map(0, 3000, 7000)
		tx, ty := applyCalibration(fc, truth, 0.3, 0.7)
		if math.Abs(float64(x)-tx) > 1.5 || math.Abs(float64(y)-ty) > 1.5 {
			t.Fatalf("rotation %d: wall maps to (%d,%d), truth (%.1f,%.1f)", rot, x, y, tx, ty)
		}
	}
	if _, err := FitCalibration(game.FrameConfig{WidthMM: 1, HeightMM: 1}, []PointPair{{0, 0, 0, 0}, {.5, .5, 1, 1}, {1, 1, 2, 2}}); err == nil {
		t.Fatal("points on a line must be refused")
	}
}

func TestWriteCalibrationKeepsTheRestOfTheFile(t *testing.T) {
	body := "# show config\n[round]\ngame = \"rain\" # rain today\n\n[[frames]]\nname = \"left\"\nmatch_name = \"L\"\nwidth_mm = 4000\nheight_mm = 4000\n\n[[frames]]\nname = \"right\" # the other one\nmatch_name = \"R\"\nx_mm = 4000\nwidth_mm = 4000\nheight_mm = 4000\ncalibration = [1, 0, 0, 0, 1, 0]\n"
	p := filepath.Join(t.TempDir(), "show.toml")
	os.WriteFile(p, []byte(body), 0o644)
	c := [6]float64{1.01, 0.002, -0.01, 0, 0.99, 0.02}
	if err := WriteCalibration(p, "right", c); err != nil {
		t.Fatal(err)
	}
	if err := WriteCalibration(p, "left", c); err != nil {
		t.Fatal(err)
	}
	got, _ := os.ReadFile(p)
	cfg, err := game.ParseConfig(got, p)
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(cfg.Frames[0].Calibration) != fmt.Sprint(c[:]) || fmt.Sprint(cfg.Frames[1].Calibration) != fmt.Sprint(c[:]) {
		t.Fatalf("calibrations %v %v", cfg.Frames[0].Calibration, cfg.Frames[1].Calibration)
	}
	if !strings.Contains(string(got), "# rain today") || !strings.Contains(string(got), "# the other one") || strings.Count(string(got), "calibration") != 2 {
		t.Fatalf("comments or lines lost:\n%s", got)
	}
	if st, _ := os.Stat(p); st.Mode().Perm() != 0o644 {
		t.Fatalf("config mode %v after calibration, want the 0644 it had", st.Mode().Perm())
	}
	if err := WriteCalibration(p, "middle", c); err == nil {
		t.Fatal("an unknown frame must be an error")
	}
}

func TestCalibratorTakesOneTouchPerCrosshair(t *testing.T) {
	fc := game.FrameConfig{Name: "f", XMM: 4000, WidthMM: 4000, HeightMM: 4000}
	c := NewCalibrator(1, fc)
	info := device("f", 1000, 1000)
	c.Feed(FrameEvent{Frame: 1, Attach: &info, X: AbsMTPositionX, Y: AbsMTPositionY})
	for i := 0; ; i++ {
		x, y, n, of, ok := c.Target()
		if !ok {
			break
		}
		if n != i+1 || of != 9 {
			t.Fatalf("target %d of %d", n, of)
		}
		// The device reads 2 % to the right of where the crosshair is.
		u := (x-4000)/4000 + 0.02
		c.Feed(FrameEvent{Frame: 0, Ev: ContactEvent{Kind: game.KindDown, X: 1, Y: 1}}) // other frame: ignored
		c.Feed(FrameEvent{Frame: 1, Ev: ContactEvent{Kind: game.KindDown, X: int32(math.Round(u * 1000)), Y: int32(math.Round(y / 4))}})
		c.Feed(FrameEvent{Frame: 1, Ev: ContactEvent{Kind: game.KindUp}})
	}
	fit, err := c.Fit()
	if err != nil || !c.Done() || len(c.Points()) != 9 {
		t.Fatal(err)
	}
	if math.Abs(fit.Calibration[2]+0.02) > 0.002 || fit.MaxMM > 3 {
		t.Fatalf("fit %+v: want an offset of -0.02", fit)
	}
}

// TestFullInt32RangeDeviceMapsTouchesWhereTheyAre: a device may declare the whole int32 range
// (min -2^31, max 2^31-1); its range, 2^32-1, does not fit in int32, and every touch must still
// land where it is on the 8000 x 4000 mm wall, in the trace, the live wall and calibration.
func TestFullInt32RangeDeviceMapsTouchesWhereTheyAre(t *testing.T) {
	info := device("huge", 1, 1)
	for _, c := range []uint16{AbsMTPositionX, AbsMTPositionY} {
		info.Abs[c] = AbsInfo{Present: true, Min: math.MinInt32, Max: math.MaxInt32}
	}
	var evs []RawEvent
	taps := []struct {
		x, y int32
		want [2]int32 // wall mm: the fraction of the range times the wall's size
	}{
		{0, 0, [2]int32{4000, 2000}},                              // the middle of the range
		{math.MinInt32, math.MinInt32, [2]int32{0, 0}},            // the top-left corner
		{math.MaxInt32, math.MaxInt32, [2]int32{7999, 3999}},      // the bottom-right corner, on the wall
		{-1 << 30, 1 << 30, [2]int32{2000, 3000}},                 // a quarter and three quarters
		{math.MinInt32 + 1<<28, 0, [2]int32{8000 / 16, 4000 / 2}}, // a sixteenth
	}
	for i, tp := range taps {
		tm := int64(i+1) * 100_000
		evs = append(evs, stroke(int32(i+1), []pt{{tm, tp.x, tp.y}}, tm+10_000)...)
	}
	cfg := game.DefaultConfig()
	w, _ := NewWall(&cfg)
	out, _, err := PlayAll(w, []*Recording{{File: "huge.evemu", Info: info, Events: evs}})
	if err != nil {
		t.Fatal(err)
	}
	var downs [][2]int32
	for _, e := range out {
		if e.Kind == game.KindDown {
			downs = append(downs, [2]int32{e.XMM, e.YMM})
		}
	}
	if len(downs) != len(taps) {
		t.Fatalf("%d downs on the wall, want %d: %+v", len(downs), len(taps), out)
	}
	for i, tp := range taps {
		if downs[i] != tp.want {
			t.Errorf("touch at device (%d, %d) lands at %v mm, want %v", tp.x, tp.y, downs[i], tp.want)
		}
	}
	// Calibration takes the same device's touches as fractions of its range.
	c := NewCalibrator(0, game.FrameConfig{Name: "f", WidthMM: 8000, HeightMM: 4000})
	c.Feed(FrameEvent{Frame: 0, Attach: &info, X: AbsMTPositionX, Y: AbsMTPositionY})
	c.Feed(FrameEvent{Frame: 0, Ev: ContactEvent{Kind: game.KindDown, X: -1 << 30, Y: 1 << 30}})
	if p := c.Points(); len(p) != 1 || math.Abs(p[0].U-0.25) > 1e-6 || math.Abs(p[0].V-0.75) > 1e-6 {
		t.Fatalf("calibration point %+v, want u 0.25, v 0.75", p)
	}
}

// TestCheckRecordingsBeforeARehearsal: `run --evemu` checks its recordings at start through the
// whole touch path. Every real recording puts contacts on the default wall, except the single-touch
// eGalax, whose position comes on ABS_Z/ABS_RX: the error names it and those axes, until its
// frame's x_axis/y_axis say so. A recording whose touches all land outside every lane, or that
// holds no touch, is named with why.
func TestCheckRecordingsBeforeARehearsal(t *testing.T) {
	files, _ := filepath.Glob("testdata/recordings/*.evemu")
	if len(files) < 10 {
		t.Fatalf("only %d recordings under testdata/recordings", len(files))
	}
	const egalax = "11_egalax-usb-singletouch.evemu"
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			r, err := ReadEvemuFile(f)
			if err != nil {
				t.Fatal(err)
			}
			cfg := game.DefaultConfig()
			err = CheckRecordings(&cfg, []*Recording{r})
			if filepath.Base(f) != egalax {
				if err != nil {
					t.Fatalf("a recording with touches: %v", err)
				}
				return
			}
			if err == nil || !errors.Is(err, ErrRecording) || !strings.Contains(err.Error(), f) ||
				!strings.Contains(err.Error(), "ABS_Z") || !strings.Contains(err.Error(), "ABS_RX") || !strings.Contains(err.Error(), "x_axis") {
				t.Fatalf("eGalax without x_axis/y_axis: %v; want an ErrRecording naming the file, ABS_Z, ABS_RX and x_axis", err)
			}
			cfg.Frames = []game.FrameConfig{{Name: "egalax", WidthMM: cfg.Wall.WidthMM, HeightMM: cfg.Wall.HeightMM, XAxis: "ABS_Z", YAxis: "ABS_RX"}}
			if err := CheckRecordings(&cfg, []*Recording{r}); err != nil {
				t.Fatalf("with x_axis/y_axis set: %v", err)
			}
		})
	}
	// Several recordings at once (one per frame): the one that puts nothing on the wall is named.
	good := load(t, "07_dell-canvas-cooltouch_protoB.evemu")
	offLanes := &Recording{File: "off-lanes.evemu", Info: device("off", 4000, 4000), Events: stroke(1, []pt{{1000, 2000, 2000}}, 2000)}
	empty := &Recording{File: "empty.evemu", Info: device("empty", 4000, 4000), Events: []RawEvent{{1000, EvMsc, 5, 1}, {1000, EvSyn, SynReport, 0}}}
	cfg := game.DefaultConfig()
	cfg.Lanes = cfg.Lanes[:2] // lanes only on the left half: the right frame's middle is in no lane
	cfg.Frames = []game.FrameConfig{
		{Name: "a", MatchName: good.Info.Name, WidthMM: 4000, HeightMM: 4000},
		{Name: "b", MatchName: "off", XMM: 4000, WidthMM: 4000, HeightMM: 4000},
		{Name: "c", MatchName: "empty", WidthMM: 8000, HeightMM: 4000},
	}
	err := CheckRecordings(&cfg, []*Recording{good, offLanes})
	if err == nil || !errors.Is(err, ErrRecording) || !strings.Contains(err.Error(), "off-lanes.evemu") || !strings.Contains(err.Error(), "outside every lane") {
		t.Fatalf("touches outside every lane: %v", err)
	}
	err = CheckRecordings(&cfg, []*Recording{good, empty})
	if err == nil || !strings.Contains(err.Error(), "empty.evemu") || !strings.Contains(err.Error(), "no touch") {
		t.Fatalf("a recording without touches: %v", err)
	}
	if err := CheckRecordings(&cfg, []*Recording{good}); err != nil {
		t.Fatalf("the good recording alone: %v", err)
	}
}

func TestCheckConfigReportsEveryProblem(t *testing.T) {
	cfg := game.DefaultConfig()
	cfg.Input.SeamTimeMS = -1
	cfg.Input.DejitterMM = 101
	cfg.Input.ReopenMS = 5
	cfg.Frames = []game.FrameConfig{{Name: "a", WidthMM: 100, HeightMM: 100, Rotation: 45}, {Name: "a", XMM: 2147483000, WidthMM: 2000, HeightMM: 100}}
	err := CheckConfig(&cfg)
	if !errors.Is(err, ErrConfig) {
		t.Fatalf("%v", err)
	}
	for _, key := range []string{"input.seam_time_ms:", "input.dejitter_mm:", "input.reopen_ms:", "frames[0].rotation:", "frames[1].name:", "frames[1].x_mm:"} {
		if !strings.Contains(err.Error(), "\n"+key) {
			t.Errorf("%q is not reported on a line of its own:\n%v", key, err)
		}
	}
}
