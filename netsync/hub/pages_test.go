package hub

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"image"
	"image/png"
	"os"
	"path/filepath"
	"strconv"
	"tapwall/internal/browser"
	"tapwall/netsync"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

// startBrowser starts headless Chromium, or skips the test saying why.
func startBrowser(t *testing.T, ctx context.Context) *browser.Browser {
	t.Helper()
	b, err := browser.Start(ctx)
	if errors.Is(err, browser.ErrNoBrowser) {
		t.Skip(err)
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	return b
}

func sendStatus(t *testing.T, c *websocket.Conn, st netsync.WallStatus) {
	t.Helper()
	if err := c.WriteJSON(netsync.Message{Type: netsync.TypeStatus, Status: &st}); err != nil {
		t.Fatal(err)
	}
}

// shoot takes a screenshot, writes it under dir and decodes it.
func shoot(t *testing.T, ctx context.Context, p *browser.Page, dir, name string) image.Image {
	t.Helper()
	b, err := p.Screenshot(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
		t.Fatal(err)
	}
	img, err := png.Decode(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	return img
}

func alphaAt(img image.Image, x, y int) uint32 {
	_, _, _, a := img.At(x, y).RGBA()
	return a >> 8
}

type rect struct{ Left, Top, Right, Bottom float64 }

func (r rect) center() (int, int) { return int((r.Left + r.Right) / 2), int((r.Top + r.Bottom) / 2) }

// TestOverlayInChromium: the overlay shows the wall's lane names, its live scores (counted up to
// the reported value), the round clock and, at the end, ranks with ties sharing one and the
// winners highlighted; its background is transparent (alpha 0 away from the graphics, 255 on
// them); 16 lanes fit side by side without overlapping.
func TestOverlayInChromium(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	b := startBrowser(t, ctx)
	h := startHub(t, HubConfig{})
	c, _ := connectWall(t, h.url, "studio", netsync.Message{})
	for s := uint64(1); s <= 12; s++ {
		c.WriteJSON(netsync.ScoreMessage(genEvent("studio", 2, s)))
		readMsg(t, c)
	}
	names := []string{"Ann", "Bo", "Cy", "Di"}
	lanes := func(scores ...int64) []netsync.LaneStatus {
		out := make([]netsync.LaneStatus, len(scores))
		for i, s := range scores {
			out[i] = netsync.LaneStatus{Name: names[i%4] + map[bool]string{true: strconv.Itoa(i), false: ""}[i >= 4], Score: s}
		}
		return out
	}
	sendStatus(t, c, netsync.WallStatus{Role: "primary", Epoch: 1, Round: 2, Phase: "running", Game: "targets",
		LeftMS: 42_000, LengthMS: 60_000, Lanes: lanes(120, 80, 95, 0)})
	p, err := b.Open(ctx, h.http+"/overlay?wall=studio", 1920, 1080, true)
	if err != nil {
		t.Fatal(err)
	}
	settled := `document.querySelectorAll(".lane").length === %d && [...document.querySelectorAll(".lane .score")].every(s => s.textContent === s.dataset.target)`
	if err := p.WaitFor(ctx, fmt.Sprintf(settled, 4)); err != nil {
		t.Fatal(err)
	}
	var dom struct {
		Names, Scores, Ranks []string
		Label, Time, Phase   string
	}
	read := func() {
		t.Helper()
		if err := p.Eval(ctx, `({
			names: [...document.querySelectorAll(".lane .name")].map(e => e.textContent),
			scores: [...document.querySelectorAll(".lane .score")].map(e => e.textContent),
			ranks: [...document.querySelectorAll(".lane")].map(e => e.dataset.rank),
			label: document.getElementById("label").textContent,
			time: document.getElementById("time").textContent,
			phase: document.getElementById("clock").dataset.phase})`, &dom); err != nil {
			t.Fatal(err)
		}
	}
	read()
	if fmt.Sprint(dom.Names) != "[Ann Bo Cy Di]" || fmt.Sprint(dom.Scores) != "[120 80 95 0]" || dom.Phase != "running" ||
		dom.Label != "Round 2 · targets" || (dom.Time != "0:42" && dom.Time != "0:41" && dom.Time != "0:40") {
		t.Fatalf("overlay while running: %+v", dom)
	}
	var bars []rect
	var clock rect
	if err := p.Eval(ctx, `[...document.querySelectorAll(".lane")].map(e => { const r = e.getBoundingClientRect(); return {left: r.left, top: r.top, right: r.right, bottom: r.bottom}; })`, &bars); err != nil {
		t.Fatal(err)
	}
	p.Eval(ctx, `(() => { const r = document.getElementById("clock").getBoundingClientRect(); return {left: r.left, top: r.top, right: r.right, bottom: r.bottom}; })()`, &clock)
	dir := t.TempDir()
	img := shoot(t, ctx, p, dir, "overlay-running.png")
	for _, pt := range [][2]int{{960, 400}, {20, 20}, {1900, 1070}, {960, int(bars[0].Top) - 30}} {
		if a := alphaAt(img, pt[0], pt[1]); a != 0 {
			t.Fatalf("alpha %d at %v, away from the graphics: the background is not transparent", a, pt)
		}
	}
	for i, r := range append(bars, clock) {
		x, y := r.center()
		if a := alphaAt(img, x, y); a != 255 {
			t.Fatalf("alpha %d at the centre of graphic %d (%v): the bars must be opaque", a, i, r)
		}
	}

	// The last 10 seconds: the clock turns red.
	sendStatus(t, c, netsync.WallStatus{Role: "primary", Round: 2, Phase: "running", Game: "targets", LeftMS: 8_000, LengthMS: 60_000, Lanes: lanes(130, 80, 95, 5)})
	if err := p.WaitFor(ctx, `document.getElementById("clock").classList.contains("last10")`); err != nil {
		t.Fatal(err)
	}
	shoot(t, ctx, p, dir, "overlay-last10.png")
	// Results: Ann and Cy tie for first, Bo third, Di fourth; the wall sends no ranks.
	sendStatus(t, c, netsync.WallStatus{Role: "primary", Round: 2, Phase: "finished", Game: "targets", LengthMS: 60_000, Lanes: lanes(140, 95, 140, 10)})
	if err := p.WaitFor(ctx, `document.querySelectorAll(".lane.winner").length === 2 && `+fmt.Sprintf(settled, 4)); err != nil {
		t.Fatal(err)
	}
	read()
	if fmt.Sprint(dom.Ranks) != "[1 3 1 4]" || dom.Time != "FINAL" || fmt.Sprint(dom.Scores) != "[140 95 140 10]" {
		t.Fatalf("results: %+v, want ranks [1 3 1 4]", dom)
	}
	img = shoot(t, ctx, p, dir, "overlay-results.png")
	if a := alphaAt(img, 960, 400); a != 0 {
		t.Fatalf("alpha %d in the middle of the results picture", a)
	}
	// 16 lanes: side by side, inside the picture, no text cut off.
	sixteen := make([]int64, 16)
	for i := range sixteen {
		sixteen[i] = int64(1000 + 37*i)
	}
	sendStatus(t, c, netsync.WallStatus{Role: "primary", Round: 3, Phase: "running", Game: "rain", LeftMS: 30_000, LengthMS: 60_000, Lanes: lanes(sixteen...)})
	if err := p.WaitFor(ctx, fmt.Sprintf(settled, 16)); err != nil {
		t.Fatal(err)
	}
	var fit struct {
		Bars     []rect
		Overflow []bool
	}
	p.Eval(ctx, `({bars: [...document.querySelectorAll(".lane")].map(e => { const r = e.getBoundingClientRect(); return {left: r.left, top: r.top, right: r.right, bottom: r.bottom}; }),
		overflow: [...document.querySelectorAll(".lane .score")].map(e => e.scrollWidth > e.clientWidth)})`, &fit)
	for i, r := range fit.Bars {
		if r.Left < 0 || r.Right > 1920 || (i > 0 && r.Left < fit.Bars[i-1].Right) || fit.Overflow[i] {
			t.Fatalf("16 lanes: bar %d at %v overlaps or leaves the picture, or its score is cut (%v)", i, r, fit.Overflow[i])
		}
	}
	shoot(t, ctx, p, dir, "overlay-16.png")
	t.Logf("screenshots in %s", dir)
}

// TestDirectorInChromium: the director's page shows every wall with its link state, role, epoch,
// round, phase, last event age and per-lane totals, updated live.
func TestDirectorInChromium(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	b := startBrowser(t, ctx)
	h := startHub(t, HubConfig{})
	alpha, _ := connectWall(t, h.url, "alpha", netsync.Message{Epoch: 2})
	for s := uint64(1); s <= 9; s++ {
		alpha.WriteJSON(netsync.ScoreMessage(genEvent("alpha", 3, s)))
		readMsg(t, alpha)
	}
	want := wantTotals(9)
	sendStatus(t, alpha, netsync.WallStatus{Role: "primary", Epoch: 2, Round: 3, Phase: "running", Game: "rain", LeftMS: 20_000, LengthMS: 60_000,
		Lanes: []netsync.LaneStatus{{Name: "Ann", Score: want[0]}, {Name: "Bo", Score: want[1]}, {Name: "Cy", Score: want[2], Keyboard: true}, {Name: "Di", Score: want[3]}}})
	beta, _ := connectWall(t, h.url, "beta", netsync.Message{})
	beta.WriteJSON(netsync.ScoreMessage(genEvent("beta", 1, 1)))
	readMsg(t, beta)
	beta.Close()
	waitFor(t, "beta down", 5*time.Second, func() bool {
		for _, w := range h.hub.Walls().Walls {
			if w.Wall == "beta" {
				return w.Link == "down"
			}
		}
		return false
	})
	p, err := b.Open(ctx, h.http+"/director", 1600, 900, false)
	if err != nil {
		t.Fatal(err)
	}
	if err := p.WaitFor(ctx, `document.querySelectorAll("section.wall").length === 2 && document.querySelector('[data-wall="alpha"] [data-field="phase"]').textContent === "running"`); err != nil {
		t.Fatal(err)
	}
	type card struct {
		Link, Role, Epoch, Round, Phase, LastEvent string
		Stored                                     []string
	}
	var cards map[string]card
	if err := p.Eval(ctx, `Object.fromEntries([...document.querySelectorAll("section.wall")].map(w => {
		const f = k => w.querySelector('[data-field="' + k + '"]').textContent;
		return [w.dataset.wall, {link: f("link"), role: f("role"), epoch: f("epoch"), round: f("round"), phase: f("phase"),
			lastEvent: f("last_event"), stored: [...w.querySelectorAll('[data-field="stored"]')].map(e => e.textContent)}];
	}))`, &cards); err != nil {
		t.Fatal(err)
	}
	a, bt := cards["alpha"], cards["beta"]
	wantStored := fmt.Sprint([]string{strconv.FormatInt(want[0], 10), strconv.FormatInt(want[1], 10), strconv.FormatInt(want[2], 10), strconv.FormatInt(want[3], 10)})
	if a.Link != "link up" || a.Role != "primary" || a.Epoch != "2" || a.Round != "3" || a.Phase != "running" || fmt.Sprint(a.Stored) != wantStored || a.LastEvent == "—" {
		t.Fatalf("alpha's card %+v, stored want %s", a, wantStored)
	}
	if bt.Link != "link down" || bt.Round != "1" || bt.LastEvent == "—" || fmt.Sprint(bt.Stored) != "[0 "+strconv.FormatInt(genEvent("beta", 1, 1).Delta, 10)+"]" {
		t.Fatalf("beta's card %+v", bt)
	}
	// Live: a new event moves the stored total without a reload.
	alpha.WriteJSON(netsync.ScoreMessage(genEvent("alpha", 3, 10)))
	readMsg(t, alpha)
	want = wantTotals(10)
	if err := p.WaitFor(ctx, fmt.Sprintf(`[...document.querySelectorAll('[data-wall="alpha"] [data-field="stored"]')].map(e => e.textContent).join() === "%d,%d,%d,%d"`, want[0], want[1], want[2], want[3])); err != nil {
		t.Fatal(err)
	}
	shoot(t, ctx, p, t.TempDir(), "director.png")
}
