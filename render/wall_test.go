package render

import (
	"image"
	"image/color"
	"math"
	"testing"

	"tapwall/game"
	"tapwall/render/scene"
)

// TestHitDrawsBeyondTheTarget: a frame a few ticks after a hit differs from the same frame without
// the hit outside the target's own footprint (burst, flash, "+N"), in the hit's lane only: the
// other lanes are untouched, pixel for pixel.
func TestHitDrawsBeyondTheTarget(t *testing.T) {
	cfg := parseCfg(t, "[round]\ncountdown_seconds = 0\n")
	const W, H = 1920, 960
	mk := func(hit bool) (*game.Round, game.Object) {
		r, err := game.NewRound(cfg, game.RoundParams{Wall: "w", Round: 1, Seed: 11, Running: true})
		if err != nil {
			t.Fatal(err)
		}
		step(r, 10, nil)
		o := r.Objects()[0]
		in := map[int][]game.Input{}
		if hit {
			l := cfg.Lanes[0]
			in[0] = []game.Input{{Kind: game.KindDown, Contact: 1, XMM: l.XMM + o.X, YMM: l.YMM + o.Y}}
			in[1] = []game.Input{{Kind: game.KindUp, Contact: 1, XMM: l.XMM + o.X, YMM: l.YMM + o.Y}}
		}
		step(r, 8, in)
		if hit && r.Score(0) == 0 {
			t.Fatal("the touch on the target did not score: the test proves nothing")
		}
		return r, o
	}
	withHit, o := mk(true)
	without, _ := mk(false)
	a, _ := newTestApp(t, cfg)
	imgHit := render(a, &scene.Scene{Config: cfg, Round: withHit}, W, H)
	imgNo := render(a, &scene.Scene{Config: cfg, Round: without}, W, H)

	L := a.lay
	v := L.View
	cx, cy := v.Px(cfg.Lanes[0].XMM+o.X, cfg.Lanes[0].YMM+o.Y)
	own := v.Len(o.R)*1.8 + 3 // the target with its glow and lifetime ring
	lane0 := L.Lanes[0]
	outside := countDiff(imgHit, imgNo, rectOf(lane0.Lane), func(x, y int) bool {
		dx, dy := float64(x)-cx, float64(y)-cy
		return math.Hypot(dx, dy) <= own || float64(y) < lane0.Header.Y1 // not the score either
	})
	if outside < 500 {
		t.Fatalf("only %d pixels beyond the target's own area show the hit", outside)
	}
	for i := 1; i < len(L.Lanes); i++ {
		if n := countDiff(imgHit, imgNo, rectOf(L.Lanes[i].Lane), nil); n != 0 {
			t.Errorf("lane %d changed in %d pixels because of a hit in lane 1", i+1, n)
		}
	}
}

// finished returns a finished round of cfg whose lanes scored the given points (operator
// adjustments), stepped ticksAfter ticks past its end.
func finished(t *testing.T, cfg *game.Config, scores []int32, ticksAfter int) *game.Round {
	t.Helper()
	r, err := game.NewRound(cfg, game.RoundParams{Wall: "w", Round: 1, Seed: 5, Running: true})
	if err != nil {
		t.Fatal(err)
	}
	var adj []game.Input
	for lane, s := range scores {
		adj = append(adj, game.Input{Kind: game.KindAdjust, Lane: int8(lane), Value: s})
	}
	step(r, int(r.Length())+ticksAfter, map[int][]game.Input{1: adj})
	if r.Phase() != game.PhaseFinished {
		t.Fatalf("round is %v, want finished", r.Phase())
	}
	return r
}

// TestResultsShareRanksAndMarkTies: tied lanes show the same rank and TIED, the winners WINNER;
// lanes with different scores do not.
func TestResultsShareRanksAndMarkTies(t *testing.T) {
	cfg := parseCfg(t, "[round]\nseconds = 1\ncountdown_seconds = 0\n")
	for _, tc := range []struct {
		scores []int32
		ords   []string
		tied   []bool
		win    []bool
	}{
		{[]int32{420, 275, 420, 310}, []string{"1ST", "4TH", "1ST", "3RD"}, []bool{true, false, true, false}, []bool{true, false, true, false}},
		{[]int32{500, 300, 300, 100}, []string{"1ST", "2ND", "2ND", "4TH"}, []bool{false, true, true, false}, []bool{true, false, false, false}},
		{[]int32{7, 7, 7, 7}, []string{"1ST", "1ST", "1ST", "1ST"}, []bool{true, true, true, true}, []bool{true, true, true, true}},
	} {
		r := finished(t, cfg, tc.scores, 30)
		ranks := r.Ranks(nil)
		for lane := range tc.scores {
			ord, tied, win := laneResult(ranks, lane)
			if ord != tc.ords[lane] || tied != tc.tied[lane] || win != tc.win[lane] {
				t.Errorf("scores %v lane %d: %s tied=%v winner=%v, want %s %v %v", tc.scores, lane, ord, tied, win, tc.ords[lane], tc.tied[lane], tc.win[lane])
			}
		}
		// Drawn: the TIED line carries text exactly in the tied lanes that are not celebrating
		// (confetti falls in a winner's lane), and lanes sharing a rank draw the same rank glyphs.
		a, _ := newTestApp(t, cfg)
		img := render(a, &scene.Scene{Config: cfg, Round: r}, 1920, 960)
		L := a.lay
		for lane := range tc.scores {
			if tc.win[lane] {
				continue
			}
			n := bright(img, rectOf(L.Lanes[lane].Tied.Box), 150)
			if tc.tied[lane] && n < 60 {
				t.Errorf("scores %v: lane %d is tied but its TIED line has %d bright pixels", tc.scores, lane+1, n)
			}
			if !tc.tied[lane] && n > 0 {
				t.Errorf("scores %v: lane %d is not tied but its TIED line has %d bright pixels", tc.scores, lane+1, n)
			}
		}
		for i := range tc.scores {
			for j := i + 1; j < len(tc.scores); j++ {
				if tc.win[i] || tc.win[j] {
					continue
				}
				same := sameShape(img, rectOf(L.Lanes[i].Rank.Box), rectOf(L.Lanes[j].Rank.Box), 150)
				if same != (tc.ords[i] == tc.ords[j]) {
					t.Errorf("scores %v: lanes %d (%s) and %d (%s) draw the same rank glyphs: %v", tc.scores, i+1, tc.ords[i], j+1, tc.ords[j], same)
				}
			}
		}
	}
}

// sameShape reports whether the bright pixels of two equally sized regions are at the same places,
// but for a few edge pixels (2 %) where the lanes' own colours under them tip the balance.
func sameShape(img *image.RGBA, a, b image.Rectangle, lim uint8) bool {
	return sameLit(img, a, b, func(c color.RGBA) bool { return max(c.R, c.G, c.B) > lim }, 50)
}

// sameLit reports whether the pixels lit (by lit) in two equally sized regions are at the same
// places, but for one in tol of them (some lit, and not all where it differs).
func sameLit(img *image.RGBA, a, b image.Rectangle, lit func(color.RGBA) bool, tol int) bool {
	if a.Dx() != b.Dx() || a.Dy() != b.Dy() {
		return false
	}
	diff, n := 0, 0
	for y := 0; y < a.Dy(); y++ {
		for x := 0; x < a.Dx(); x++ {
			la, lb := lit(img.RGBAAt(a.Min.X+x, a.Min.Y+y)), lit(img.RGBAAt(b.Min.X+x, b.Min.Y+y))
			if la || lb {
				n++
			}
			if la != lb {
				diff++
			}
		}
	}
	return n > 0 && diff*tol <= n
}

// TestCountdownInEveryLaneAtOnce: the countdown digit is drawn in every lane in the same frame,
// the same shape at the same place in each lane.
func TestCountdownInEveryLaneAtOnce(t *testing.T) {
	cfg := parseCfg(t, "")
	r, _ := game.NewRound(cfg, game.RoundParams{Wall: "w", Round: 1, Seed: 5, Countdown: 180})
	step(r, 70, nil) // 110 ticks left: "2"
	a, _ := newTestApp(t, cfg)
	img := render(a, &scene.Scene{Config: cfg, Round: r, Frac: 0.5}, 1920, 960)
	L := a.lay
	for i := range L.Lanes {
		big := rectOf(L.Lanes[i].Big.Box)
		if n := whites(img, big, 235); n < 500 {
			t.Fatalf("lane %d shows no countdown digit (%d white pixels)", i+1, n)
		}
		if i > 0 && !sameWhite(img, rectOf(L.Lanes[0].Big.Box), big, 235) {
			t.Errorf("lane %d's countdown differs from lane 1's", i+1)
		}
	}
}

// TestLastSecondsTurnTheTimerRed: the timer bar is the lane's colour with time to spare and red
// in the last 10 s, in every lane alike.
func TestLastSecondsTurnTheTimerRed(t *testing.T) {
	cfg := parseCfg(t, "[round]\nseconds = 20\ncountdown_seconds = 0\n")
	r, _ := game.NewRound(cfg, game.RoundParams{Wall: "w", Round: 1, Seed: 5, Running: true})
	a, _ := newTestApp(t, cfg)
	sample := func() []rgba {
		img := render(a, &scene.Scene{Config: cfg, Round: r}, 1920, 960)
		var out []rgba
		for _, ll := range a.lay.Lanes {
			c := img.RGBAAt(int(ll.Bar.X0+ll.Bar.H()), int((ll.Bar.Y0+ll.Bar.Y1)/2))
			out = append(out, rgba{float32(c.R), float32(c.G), float32(c.B), 255})
		}
		return out
	}
	step(r, 60, nil) // 19 s left
	early := sample()
	step(r, 60*14, nil) // 5 s left
	late := sample()
	for i := range early {
		redEarly := early[i].R > 2*early[i].G && early[i].R > 2*early[i].B
		redLate := late[i].R > 2*late[i].G && late[i].R > 2*late[i].B && late[i].R > 150
		if i != 3 && redEarly { // lane 4's default colour is not red either, but stay safe
			t.Errorf("lane %d's timer is red with 19 s left: %v", i+1, early[i])
		}
		if !redLate {
			t.Errorf("lane %d's timer is not red with 5 s left: %v", i+1, late[i])
		}
		if late[i] != late[0] {
			t.Errorf("lane %d's timer %v differs from lane 1's %v in the last seconds", i+1, late[i], late[0])
		}
	}
}

// whites counts the pixels in rect whiter than lim in every channel.
func whites(img *image.RGBA, rect image.Rectangle, lim uint8) int {
	n := 0
	rect = rect.Intersect(img.Bounds())
	for y := rect.Min.Y; y < rect.Max.Y; y++ {
		for x := rect.Min.X; x < rect.Max.X; x++ {
			if c := img.RGBAAt(x, y); min(c.R, c.G, c.B) > lim {
				n++
			}
		}
	}
	return n
}

// sameWhite reports whether the white pixels of two equally sized regions are at the same places,
// but for the odd edge pixel (1 %): a text scaled between pixels is sampled at float32 positions
// whose last bits depend on how far right its lane is.
func sameWhite(img *image.RGBA, a, b image.Rectangle, lim uint8) bool {
	return sameLit(img, a, b, func(c color.RGBA) bool { return min(c.R, c.G, c.B) > lim }, 100)
}
