package main

import (
	"bufio"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"tapwall/game"
	"tapwall/input"
)

const recDir = "../../input/testdata/recordings/"

type wallLine struct {
	TUS     *int64  `json:"t_us"`
	Kind    string  `json:"kind"`
	Contact *int32  `json:"contact"`
	XMM     *int32  `json:"x_mm"`
	YMM     *int32  `json:"y_mm"`
	Lane    *int    `json:"lane"`
	Device  *string `json:"device"`
}

func parseLines[T any](t *testing.T, out string) []T {
	t.Helper()
	var res []T
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		var v T
		d := json.NewDecoder(strings.NewReader(sc.Text()))
		d.DisallowUnknownFields()
		if err := d.Decode(&v); err != nil {
			t.Fatalf("line %q: %v", sc.Text(), err)
		}
		res = append(res, v)
	}
	return res
}

func TestTraceWallFormat(t *testing.T) {
	f := recDir + "08_atmel-maxtouch-4finger_protoB.evemu"
	out, stderr, code := tapwall(t, nil, "trace", "--evemu", f)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	lines := parseLines[wallLine](t, out)
	rec, _ := input.ReadEvemuFile(f)
	t0 := rec.Events[0].TimeUS
	ax, ay := rec.Info.Abs[input.AbsMTPositionX], rec.Info.Abs[input.AbsMTPositionY]
	// Every down must sit where the contract's formula puts the device's first position of it.
	downs := 0
	prevT := int64(-1)
	for _, l := range lines {
		if l.TUS == nil || l.Contact == nil || l.XMM == nil || l.YMM == nil || l.Lane == nil || l.Device == nil {
			t.Fatalf("missing field in %+v", l)
		}
		if *l.TUS < prevT || *l.Device != "Atmel maXTouch Touchscreen" {
			t.Fatalf("line %+v out of order or wrong device", l)
		}
		prevT = *l.TUS
		if wantLane := game.LaneAt(ptr(game.DefaultConfig()), *l.XMM, *l.YMM); l.Kind == "down" && *l.Lane != wantLane {
			t.Errorf("down at x=%d routed to lane %d, want %d", *l.XMM, *l.Lane, wantLane)
		}
		if l.Kind == "down" {
			downs++
		}
	}
	if downs != 4 {
		t.Fatalf("%d downs, want 4 fingers", downs)
	}
	// The first down: find the recording's first ABS_MT_POSITION_X/Y values.
	var x0, y0 int32 = -1, -1
	for _, e := range rec.Events {
		if e.Type == input.EvAbs && e.Code == input.AbsMTPositionX && x0 < 0 {
			x0 = e.Value
		}
		if e.Type == input.EvAbs && e.Code == input.AbsMTPositionY && y0 < 0 {
			y0 = e.Value
		}
	}
	wx := int32(math.Round(float64(x0-ax.Min) * 8000 / float64(ax.Max-ax.Min)))
	wy := int32(math.Round(float64(y0-ay.Min) * 4000 / float64(ay.Max-ay.Min)))
	if first := lines[0]; first.Kind != "down" || *first.XMM != wx || *first.YMM != wy || *first.TUS != lines[0].tus(t0, rec) {
		t.Fatalf("first line %+v: want down at (%d,%d)", first, wx, wy)
	}
}

func (l wallLine) tus(t0 int64, rec *input.Recording) int64 {
	for _, e := range rec.Events { // the first SYN_REPORT's time, relative to the first event
		if e.Type == input.EvSyn && e.Code == input.SynReport {
			return e.TimeUS - t0
		}
	}
	return -1
}

func ptr[T any](v T) *T { return &v }

func TestTraceInputsFeedSim(t *testing.T) {
	f := recDir + "07_dell-canvas-cooltouch_protoB.evemu"
	wall, _, _ := tapwall(t, nil, "trace", "--evemu", f)
	inputs, stderr, code := tapwall(t, nil, "trace", "--evemu", f, "--format", "inputs")
	if code != 0 {
		t.Fatalf("exit %d %s", code, stderr)
	}
	wl := parseLines[wallLine](t, wall)
	type inLine struct {
		Tick    int64  `json:"tick"`
		Kind    string `json:"kind"`
		Contact int32  `json:"contact"`
		XMM     int32  `json:"x_mm"`
		YMM     int32  `json:"y_mm"`
	}
	il := parseLines[inLine](t, inputs)
	if len(il) != len(wl) {
		t.Fatalf("%d input lines, %d wall lines", len(il), len(wl))
	}
	for i := range il {
		if il[i].Tick != *wl[i].TUS*60/1_000_000 || il[i].Contact != *wl[i].Contact || il[i].XMM != *wl[i].XMM {
			t.Fatalf("line %d: %+v vs %+v", i, il[i], wl[i])
		}
	}
	p := filepath.Join(t.TempDir(), "in.jsonl")
	os.WriteFile(p, []byte(inputs), 0o644)
	if _, stderr, code := tapwall(t, nil, "sim", "--inputs", p); code != 0 {
		t.Fatalf("a traced session does not replay through sim: %s", stderr)
	}
}

func TestTraceErrors(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.evemu")
	os.WriteFile(bad, []byte("N: x\nA: 35 0 10 0 0 0\nE: 0.000001 0003 0035 x\n"), 0o644)
	out, stderr, code := tapwall(t, nil, "trace", "--evemu", bad)
	if code != 2 || out != "" || !strings.Contains(stderr, bad+":3:") {
		t.Fatalf("malformed: exit %d, stderr %q", code, stderr)
	}
	// Device 11 sends its position on ABS_Z/ABS_RX: without a config it is a clear error ...
	f11 := recDir + "11_egalax-usb-singletouch.evemu"
	_, stderr, code = tapwall(t, nil, "trace", "--evemu", f11)
	if code != 2 || !strings.Contains(stderr, "ABS_Z") || !strings.Contains(stderr, "x_axis") {
		t.Fatalf("11 without axes: exit %d %q", code, stderr)
	}
	// ... and with the axes configured it traces its two touches.
	cfg := filepath.Join(dir, "c.toml")
	os.WriteFile(cfg, []byte("[[frames]]\nname = \"st\"\nmatch_name = \"eGalax Inc. USB TouchController\"\nwidth_mm = 8000\nheight_mm = 4000\nx_axis = \"ABS_Z\"\ny_axis = \"ABS_RX\"\n"), 0o644)
	out, stderr, code = tapwall(t, nil, "trace", "--evemu", f11, "--config", cfg)
	if code != 0 || strings.Count(out, `"kind":"down"`) != 2 || strings.Count(out, `"kind":"up"`) != 2 {
		t.Fatalf("11 with axes: exit %d %q\n%s", code, stderr, out)
	}
	// A recording whose device no frame matches.
	_, stderr, code = tapwall(t, nil, "trace", "--evemu", recDir+"03_egalax-wetab_protoB.evemu", "--config", cfg)
	if code != 2 || !strings.Contains(stderr, "matches no free [[frames]]") {
		t.Fatalf("unmatched: exit %d %q", code, stderr)
	}
	if _, _, code := tapwall(t, nil, "trace"); code != 2 {
		t.Fatal("trace without --evemu must be exit 2")
	}
}

func TestTraceTwoFramesJoinAtTheSeam(t *testing.T) {
	// The left half and the right half of the wall are two frames; the same recording played on
	// both, the right one mirrored, still gives wall contacts with lanes from both halves.
	dir := t.TempDir()
	cfg := filepath.Join(dir, "c.toml")
	os.WriteFile(cfg, []byte(`[[frames]]
name = "left"
match_name = "Atmel maXTouch Touchscreen"
width_mm = 4000
height_mm = 4000
[[frames]]
name = "right"
match_name = "Wacom ISDv4 E6 Finger"
x_mm = 4000
width_mm = 4000
height_mm = 4000
rotation = 180
`), 0o644)
	out, stderr, code := tapwall(t, nil, "trace", "--evemu", recDir+"08_atmel-maxtouch-4finger_protoB.evemu,"+recDir+"13_wacom-isdv4-e6-finger-2fg_protoB.evemu", "--config", cfg)
	if code != 0 {
		t.Fatalf("exit %d %s", code, stderr)
	}
	lanes := map[int]bool{}
	for _, l := range parseLines[wallLine](t, out) {
		lanes[*l.Lane] = true
		if (*l.Device == "Wacom ISDv4 E6 Finger") != (*l.XMM >= 4000) {
			t.Fatalf("%+v: a frame's contacts must stay in its half", l)
		}
	}
	if !lanes[0] && !lanes[1] || !lanes[2] && !lanes[3] {
		t.Fatalf("lanes %v", lanes)
	}
}

func TestDevicesAndRecordWithoutHardware(t *testing.T) {
	out, stderr, code := tapwall(t, nil, "devices", "--json", "--dir", t.TempDir())
	if code != 0 || strings.TrimSpace(out) != "[]" {
		t.Fatalf("empty dir: exit %d %q %q", code, out, stderr)
	}
	_, stderr, code = tapwall(t, nil, "devices", "--dir", filepath.Join(t.TempDir(), "none"))
	if code != 2 || !strings.Contains(stderr, "does not exist") {
		t.Fatalf("missing dir: exit %d %q", code, stderr)
	}
	_, stderr, code = tapwall(t, nil, "record", "--device", filepath.Join(t.TempDir(), "event7"), "--out", filepath.Join(t.TempDir(), "r.evemu"))
	if code != 2 || !strings.Contains(stderr, "no such device") {
		t.Fatalf("record of a missing device: exit %d %q", code, stderr)
	}
}

func TestCalibrateFromPointsWritesTheConfig(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "c.toml")
	os.WriteFile(cfg, []byte("# wall of two frames\n[[frames]]\nname = \"left\"\nmatch_name = \"L\"\nwidth_mm = 4000\nheight_mm = 4000\n[[frames]]\nname = \"right\"\nmatch_name = \"R\"\nx_mm = 4000\nwidth_mm = 4000\nheight_mm = 4000\n"), 0o644)
	var pts strings.Builder
	for _, u := range []float64{0.1, 0.5, 0.9} {
		for _, v := range []float64{0.1, 0.5, 0.9} {
			// The right frame reads 20 mm too far right and 10 mm too low.
			pts.WriteString(`{"u":` + strconv.FormatFloat(u, 'f', -1, 64) + `,"v":` + strconv.FormatFloat(v, 'f', -1, 64) +
				`,"x_mm":` + strconv.FormatFloat(4000+u*4000-20, 'f', -1, 64) + `,"y_mm":` + strconv.FormatFloat(v*4000-10, 'f', -1, 64) + "}\n")
		}
	}
	pf := filepath.Join(dir, "pts.jsonl")
	os.WriteFile(pf, []byte(pts.String()), 0o644)
	out, stderr, code := tapwall(t, nil, "calibrate", "--from-points", pf, "--frame", "right", "--config", cfg)
	if code != 0 {
		t.Fatalf("exit %d %s", code, stderr)
	}
	var fit struct {
		Frame       string     `json:"frame"`
		Calibration [6]float64 `json:"calibration"`
		Residual    float64    `json:"residual_mm"`
	}
	json.Unmarshal([]byte(out), &fit)
	if fit.Frame != "right" || math.Abs(fit.Calibration[2]+0.005) > 1e-6 || math.Abs(fit.Calibration[5]+0.0025) > 1e-6 || fit.Residual > 0.01 {
		t.Fatalf("fit %+v", fit)
	}
	c, err := game.LoadConfig(cfg)
	if err != nil || len(c.Frames[1].Calibration) != 6 || len(c.Frames[0].Calibration) != 0 {
		t.Fatalf("config after calibration: %v %+v", err, c.Frames)
	}
	if _, stderr, code := tapwall(t, nil, "calibrate", "--from-points", pf, "--frame", "middle", "--config", cfg); code != 2 || !strings.Contains(stderr, "middle") {
		t.Fatalf("unknown frame: %d %q", code, stderr)
	}
}
