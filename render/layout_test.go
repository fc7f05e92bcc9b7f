package render

import (
	"fmt"
	"testing"

	"tapwall/game"
	"tapwall/render/scene"
)

// TestLayoutFitsEveryLaneCount lays out 1, 4, 8 and 16 lanes (and a wall of two rows) at several
// sizes, fits the longest texts each slot can get, and checks every text stays inside its lane,
// the header's texts do not overlap, the results' texts do not overlap, and the score is at least
// 8 % of the lane's height tall or as wide as the lane allows.
func TestLayoutFitsEveryLaneCount(t *testing.T) {
	fs, err := newFonts(nil)
	if err != nil {
		t.Fatal(err)
	}
	longName := "Maximilian Alexander Montgomery-Smithson" // game.MaxNameLen bytes
	if len(longName) != game.MaxNameLen {
		t.Fatalf("long name is %d bytes, want %d", len(longName), game.MaxNameLen)
	}
	grid := parseCfg(t, `
[[lanes]]
name = "A"
x_mm = 0
y_mm = 0
width_mm = 4000
height_mm = 2000
[[lanes]]
name = "B"
x_mm = 4000
y_mm = 0
width_mm = 4000
height_mm = 2000
[[lanes]]
name = "C"
x_mm = 0
y_mm = 2000
width_mm = 4000
height_mm = 2000
[[lanes]]
name = "D"
x_mm = 4000
y_mm = 2000
width_mm = 4000
height_mm = 2000
`)
	type wall struct {
		name string
		cfg  *game.Config
	}
	walls := []wall{{"2x2 grid", grid}}
	for _, n := range []int{1, 4, 8, 16} {
		walls = append(walls, wall{fmt.Sprintf("%d lanes", n), lanesConfig(t, n, "")})
	}
	for _, w := range walls {
		for _, size := range [][2]int{{1920, 960}, {3840, 1920}, {1280, 640}, {400, 200}, {1080, 1920}} {
			L := NewLayout(w.cfg, size[0], size[1], fs)
			for i, ll := range L.Lanes {
				where := fmt.Sprintf("%s at %dx%d, lane %d", w.name, size[0], size[1], i+1)
				fit := func(sl Slot, s string) Rect { return sl.Fit(fs, s).Bounds }
				// The score is drawn from digits: its box is what placeNumber gives the widest score.
				d := newMeasuredDigits(fs, ll.Score.Size)
				sx, sb, k := placeNumber(ll.Score.Box, d.w*5, d.cap, ScorePop)
				score := Rect{sx, sb - d.cap*k, sx + d.w*5*k, sb}
				header := map[string]Rect{"name": fit(ll.Name, longName), "score": score, "bar": ll.Bar}
				if ll.TimerText.Size > 0 {
					td := newMeasuredDigits(fs, ll.TimerText.Size)
					tx, tb, tk := placeNumber(ll.TimerText.Box, td.w*4, td.cap, 1)
					header["timer"] = Rect{tx, tb - td.cap*tk, tx + td.w*4*tk, tb}
				}
				fd := newMeasuredDigits(fs, ll.Final.Size)
				fx, fb, fk := placeNumber(ll.Final.Box, fd.w*5, fd.cap, 1)
				results := map[string]Rect{"winner": grow(fit(ll.Tag, "WINNER"), 1.05), "rank": grow(fit(ll.Rank, "16TH"), 1.04),
					"tied": fit(ll.Tied, "TIED"), "final": {fx, fb - fd.cap*fk, fx + fd.w*5*fk, fb}, "points": fit(ll.Points, "POINTS")}
				// The countdown's digit pops in at 1.5 times its size, GO! at 1.05 (see drawCountdown, drawGo).
				alone := map[string]Rect{"countdown": grow(fit(ll.Big, "8"), 1.5), "go": grow(fit(ll.Big, "GO!"), 1.05),
					"paused": fit(ll.Banner, "PAUSED"), "ready": fit(ll.Banner, "GET READY"), "final-tag": fit(ll.Score, "FINAL")}
				for _, group := range []map[string]Rect{header, results, alone} {
					for name, r := range group {
						if !ll.Lane.Contains(r) {
							t.Errorf("%s: %s %+v leaves the lane %+v", where, name, r, ll.Lane)
						}
					}
				}
				for _, group := range []map[string]Rect{header, results} {
					for n1, r1 := range group {
						for n2, r2 := range group {
							if n1 < n2 && r1.Overlaps(r2) {
								t.Errorf("%s: %s %+v overlaps %s %+v", where, n1, r1, n2, r2)
							}
						}
					}
				}
				for name, r := range results {
					if !ll.Play.Contains(r) {
						t.Errorf("%s: results' %s %+v is not below the header (play area %+v)", where, name, r, ll.Play)
					}
				}
				capH := fs.CapHeight(FontBold) * ll.Score.Size
				fill, _, _ := fs.Measure(FontBold, ll.Score.Size, "000")
				if capH < 0.08*ll.Lane.H()-0.5 && fill < 0.97*ll.Score.Box.W() {
					t.Errorf("%s: score digits %.1f px tall (%.1f %% of the lane) and \"000\" only %.0f of %.0f px wide", where, capH, 100*capH/ll.Lane.H(), fill, ll.Score.Box.W())
				}
			}
		}
	}
}

// grow enlarges r about its centre by k (a text drawn pulsing up to k).
func grow(r Rect, k float64) Rect {
	cx, cy := (r.X0+r.X1)/2, (r.Y0+r.Y1)/2
	hw, hh := r.W()/2*k, r.H()/2*k
	return Rect{cx - hw, cy - hh, cx + hw, cy + hh}
}

// measuredDigits is a digit's advance and height at a size, as the digit atlas draws them.
type measuredDigits struct{ w, cap float64 }

func newMeasuredDigits(fs *fonts, size float64) measuredDigits {
	w := 0.0
	for _, c := range "0123456789" {
		cw, _, _ := fs.Measure(FontBold, size, string(c))
		w = max(w, cw)
	}
	return measuredDigits{w, fs.CapHeight(FontBold) * size}
}

// TestSixteenLanesOfResultsStayInTheirLanes draws the results of 16 lanes with long names and
// five-digit scores, and checks on the pixels that no text reaches a lane's edge: every lane's
// texts fit inside it rather than being cut by it.
func TestSixteenLanesOfResultsStayInTheirLanes(t *testing.T) {
	cfg := lanesConfig(t, 16, "[round]\nseconds = 1\ncountdown_seconds = 0\n")
	scores := make([]int32, 16)
	names := make([]string, 16)
	for i := range scores {
		scores[i] = int32(10000 + 1000*(i%5)) // five digits, ties
		names[i] = "Maximilian Alexander Montgomery-Smithson"
	}
	scores[3] = 99999 // the one winner: confetti in lane 4 only
	r := finished(t, cfg, scores, 30)
	r.Step([]game.Input{{Kind: game.KindNames, Names: names}})
	a, _ := newTestApp(t, cfg)
	img := render(a, &scene.Scene{Config: cfg, Round: r}, 1920, 960)
	for i := range a.lay.Lanes {
		if i == 3 {
			continue
		}
		c := a.laneClip(i)
		top := int(a.lay.Lanes[i].Lane.Y0 + max(3, a.lay.Lanes[i].Lane.H()*0.007) + 2) // below the accent stripe
		for _, x := range []int{int(c.X0), int(c.X1) - 1} {
			for y := top; y < int(c.Y1); y++ {
				if p := img.RGBAAt(x, y); max(p.R, p.G, p.B) > 200 {
					t.Fatalf("lane %d: text reaches its edge at (%d,%d): %v", i+1, x, y, p)
				}
			}
		}
		if n := bright(img, rectOf(a.lay.Lanes[i].Rank.Box), 200); n < 50 {
			t.Errorf("lane %d shows no rank (%d white pixels)", i+1, n)
		}
	}
}
