package control

import (
	"bytes"
	"context"
	"errors"
	"image"
	"image/png"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"tapwall/internal/browser"
)

// startBrowser starts headless Chromium for a page test, or skips saying why.
func startBrowser(t *testing.T, ctx context.Context) *browser.Browser {
	t.Helper()
	b, err := browser.Start(ctx)
	if errors.Is(err, browser.ErrNoBrowser) {
		t.Skip("the console page is not checked in a browser: ", err)
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	return b
}

// liveShow is the state of a show in trouble: a lost touch frame with its alarm, a pending
// confirmation, a lane in keyboard mode, a frozen frame, a backend link.
func liveShow() *fakeShow {
	f := newFakeShow()
	f.set(func(st *Status) {
		st.Game, st.NextGame, st.ShowUS, st.LagTicks, st.LastFrameAgeMS = "targets", "rain", 3723_000_000, 0, 16
		st.Inputs = map[string]int64{"touch": 5120, "keyboard": 14, "console": 2}
		st.InputRates = map[string]int64{"touch": 88, "keyboard": 1}
		st.Filters = map[string]int64{"ghosts": 3, "dejitter": 120, "stuck": 1}
		st.Frames = []Frame{
			{Name: "left", Connected: false, Error: "device vanished", Events: 4000, LastAgoMS: 12000},
			{Name: "right", Connected: true, Path: "/dev/input/event7", Events: 9000, Rate: 88, LastAgoMS: 4},
		}
		st.Lanes = []Lane{
			{Index: 0, Name: "Ada", Score: 120, Rect: [4]int32{0, 0, 2000, 4000}, LastAgoMS: 40, InputRate: 20, Latency: Latency{P50: 9.5, P99: 14.2, Max: 18, Count: 300}},
			{Index: 1, Name: "Bo", Score: 95, Rect: [4]int32{2000, 0, 2000, 4000}, LastAgoMS: 12000, Latency: Latency{P50: 10, P99: 61.5, Max: 80, Count: 200}},
			{Index: 2, Name: "Cy", Score: 77, Keyboard: true, Cursor: [2]int32{5000, 1000}, Rect: [4]int32{4000, 0, 2000, 4000}, LastAgoMS: 300, InputRate: 2},
			{Index: 3, Name: "Di", Score: 130, Rect: [4]int32{6000, 0, 2000, 4000}, LastAgoMS: 25, InputRate: 31},
		}
		st.Selected = 2
		st.AdjustStep = 5
		st.Alarms = []Alarm{{Code: "touch_lost", Lane: 1, SinceUS: 3711_000_000,
			Message: `LANE 2: touch frame "left" lost — takeover: press 2 then T`}}
		st.Prompt = &Prompt{Text: "ABORT THE ROUND? Y to confirm", LeftMS: 2800, Action: "abort"}
		st.Help = []string{"Space: start next round", "P: pause / resume", "A then Y: abort round", "1..4: select a lane", "T: keyboard mode for selected lane"}
		st.Backend = "up"
		st.Outbox = 2
		st.Link = &Link{State: "up", URL: "ws://10.0.0.9:8090/ws", RTTMS: 1.4, OffsetUS: -2300, Outbox: 2, OldestAgeMS: 30, Reconnects: 1}
		st.Journal = "journals/wall-1-20260101T200000-r0003.jsonl"
		st.Playback = "evemu: playing rehearsal.evemu (12.5 s of 40 s)"
		st.Keyboards = map[string]bool{"Desk keypad": true}
	})
	return f
}

// TestConsolePageInChromium loads the console in headless Chromium against a real server with a
// fake show: the alarm, lanes, map, prompt countdown and HUD are shown; buttons send the right
// input lines; abort needs its confirming second click; a stopped server is said loudly.
func TestConsolePageInChromium(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	b := startBrowser(t, ctx)
	show := liveShow()
	s := start(t, Config{Show: show})
	p, err := b.Open(ctx, s.base+"/", 1600, 1000, false)
	if err != nil {
		t.Fatal(err)
	}
	wait := func(expr string) {
		t.Helper()
		if err := p.WaitOrText(ctx, expr, 10*time.Second); err != nil {
			t.Fatal(err)
		}
	}
	eval := func(expr string, v any) {
		t.Helper()
		if err := p.Eval(ctx, expr, v); err != nil {
			t.Fatal(err)
		}
	}
	wait(`document.getElementById("conn").textContent === "LIVE"`)

	// The alarm, with its takeover keys and a takeover button.
	wait(`document.querySelector('.alarm[data-code="touch_lost"] .msg')`)
	var alarm string
	eval(`document.querySelector('.alarm').innerText`, &alarm)
	if !strings.Contains(alarm, `LANE 2: touch frame "left" lost — takeover: press 2 then T`) || !strings.Contains(alarm, "TAKE OVER LANE 2") {
		t.Fatalf("alarm shows %q", alarm)
	}
	// Lanes: four rows, lane 3 in keyboard mode and selected, lane 2 alarmed; scores and latency.
	var lanes []string
	eval(`[...document.querySelectorAll('#lanes tr')].map(r => r.className + '|' + r.innerText.replace(/\s+/g, ' '))`, &lanes)
	if len(lanes) != 4 {
		t.Fatalf("lane rows: %q", lanes)
	}
	for i, want := range []string{"Ada 120", "Bo 95", "Cy 77", "Di 130"} {
		if !strings.Contains(lanes[i], want) {
			t.Errorf("lane row %d reads %q, want %q", i, lanes[i], want)
		}
	}
	if !strings.Contains(lanes[2], "keyboard") || !strings.Contains(lanes[2], "selected") || !strings.Contains(lanes[2], "KEYBOARD") ||
		!strings.Contains(lanes[1], "lane-alarm") || !strings.Contains(lanes[1], "10.0 / 61.5 / 80.0 ms") {
		t.Errorf("lane rows: %q", lanes)
	}
	var sel string
	eval(`document.getElementById("selected-lane").textContent`, &sel)
	if sel != "selected: lane 3 · keyboard lanes: 3" {
		t.Errorf("selected lane line %q", sel)
	}
	// The map: four lanes, a cursor on the keyboard lane only.
	var mapInfo []int
	eval(`[document.querySelectorAll('#map g[data-lane]').length, document.querySelectorAll('#map g[data-lane="2"] circle.cursor').length,
		document.querySelectorAll('#map circle.cursor').length, document.querySelectorAll('#map rect.lane.alarm').length]`, &mapInfo)
	if len(mapInfo) != 4 || mapInfo[0] != 4 || mapInfo[1] != 1 || mapInfo[2] != 1 || mapInfo[3] != 1 {
		t.Errorf("map: %v lanes, %v cursors on lane 3, %v in all, %v alarmed", mapInfo[0], mapInfo[1], mapInfo[2], mapInfo[3])
	}
	// The prompt counts down from 2.8 s.
	leftOf := func() float64 {
		var txt string
		eval(`document.getElementById("prompt-left").textContent`, &txt)
		v, err := strconv.ParseFloat(strings.TrimSuffix(txt, " s left"), 64)
		if err != nil {
			t.Fatalf("prompt countdown %q", txt)
		}
		return v
	}
	var prompt string
	eval(`document.getElementById("prompt").innerText`, &prompt)
	first := leftOf()
	if !strings.Contains(prompt, "ABORT THE ROUND? Y to confirm") || first > 2.8 || first < 0 {
		t.Fatalf("prompt %q, %v s left", prompt, first)
	}
	show.set(func(st *Status) { st.Prompt.LeftMS = 1500 })
	wait(`parseFloat(document.getElementById("prompt-left").textContent) <= 1.5`)
	// The rest of the page: HUD, sources, frames, filters, backend, show, key help.
	var text string
	eval(`document.body.innerText`, &text)
	var src string
	eval(`document.querySelector('#sources tr[data-source="touch"]').innerText.replace(/\s+/g, ' ')`, &src)
	if src != "touch 88 5120" {
		t.Errorf("the touch source row reads %q", src)
	}
	for _, want := range []string{"LOST: device vanished", "ghosts", "ws://10.0.0.9:8090/ws", "-2.3 ms",
		"journals/wall-1-20260101T200000-r0003.jsonl", "evemu: playing rehearsal.evemu", "Desk keypad ✓",
		"T: keyboard mode for selected lane", "01:02:03", "rain"} {
		if !strings.Contains(text, want) {
			t.Errorf("the page does not show %q", want)
		}
	}

	// The screenshot: the full console, not blank, the alarm in red.
	shot, err := p.Screenshot(ctx)
	if err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "console.png")
	if err := os.WriteFile(out, shot, 0o644); err != nil {
		t.Fatal(err)
	}
	img, err := png.Decode(bytes.NewReader(shot))
	if err != nil {
		t.Fatal(err)
	}
	if img.Bounds().Dx() != 1600 || img.Bounds().Dy() != 1000 {
		t.Fatalf("screenshot %v, want 1600x1000", img.Bounds())
	}
	if n := colours(img); n < 40 {
		t.Fatalf("the screenshot has %d colours: blank?", n)
	}
	var box []float64
	eval(`(() => { const r = document.querySelector('.alarm .msg').getBoundingClientRect(); return [r.left + 4, r.top + r.height / 2]; })()`, &box)
	if !redNear(img, int(box[0]), int(box[1])) {
		t.Fatalf("no alarm red around the alarm's text at %v", box)
	}
	t.Logf("screenshot: %s (%d bytes)", out, len(shot))

	// Buttons. Record what the page posts, to check it sends nothing before a confirmation.
	eval(`window.__posts = []; const f = window.fetch; window.fetch = (u, o) => { if (o && o.method === 'POST') __posts.push(u + ' ' + o.body); return f(u, o); }; true`, nil)
	posts := func() []string {
		var v []string
		eval(`window.__posts`, &v)
		return v
	}
	eval(`document.getElementById("btn-start").click()`, nil)
	if got := show.next(t); got != `{"action":"start","source":"console"}` {
		t.Fatalf("START sent %s", got)
	}
	wait(`document.getElementById("result").textContent.includes("applied at tick")`)
	eval(`document.querySelector('.alarm button').click()`, nil) // TAKE OVER LANE 2
	if got := show.next(t); got != `{"action":"takeover","lane":1,"on":true,"source":"console"}` {
		t.Fatalf("TAKE OVER LANE 2 sent %s", got)
	}
	eval(`document.querySelector('#lanes tr[data-lane="2"] .takeover').click()`, nil) // lane 3 is in keyboard mode: give back
	if got := show.next(t); got != `{"action":"takeover","lane":2,"on":false,"source":"console"}` {
		t.Fatalf("GIVE BACK lane 3 sent %s", got)
	}

	// ABORT: the first click only arms the button; another click elsewhere disarms it; a second
	// click on it sends abort with confirm.
	n := len(posts())
	eval(`document.getElementById("btn-abort").click()`, nil)
	wait(`document.getElementById("btn-abort").classList.contains("armed") && document.getElementById("btn-abort").textContent === "CONFIRM ABORT?"`)
	if len(posts()) != n {
		t.Fatalf("the first ABORT click sent %v", posts()[n:])
	}
	eval(`document.querySelector('h2').click()`, nil)
	wait(`!document.getElementById("btn-abort").classList.contains("armed") && document.getElementById("btn-abort").textContent === "ABORT"`)
	eval(`document.getElementById("btn-abort").click()`, nil)
	eval(`document.getElementById("btn-abort").click()`, nil)
	if got := show.next(t); got != `{"action":"abort","source":"console"}` {
		t.Fatalf("confirmed ABORT sent %s", got)
	}
	if ps := posts(); len(ps) != n+1 || ps[n] != `/api/input {"action":"abort","confirm":true}` {
		t.Fatalf("the page posted %q", ps[n:])
	}
	// Score + on lane 4, the configured step, confirmed the same way.
	eval(`document.querySelector('#lanes tr[data-lane="3"] .plus').click()`, nil)
	wait(`document.querySelector('#lanes tr[data-lane="3"] .plus').textContent === "CONFIRM +5 LANE 4?"`)
	show.none(t)
	eval(`document.querySelector('#lanes tr[data-lane="3"] .plus').click()`, nil)
	if got := show.next(t); got != `{"action":"adjust","delta":5,"lane":3,"source":"console"}` {
		t.Fatalf("score +5 on lane 4 sent %s", got)
	}
	// NEXT GAME, and PAUSE that becomes RESUME when paused.
	eval(`document.getElementById("btn-next").click()`, nil)
	if got := show.next(t); got != `{"action":"next_game","source":"console"}` {
		t.Fatalf("NEXT GAME sent %s", got)
	}
	show.set(func(st *Status) { st.Phase = "paused" })
	wait(`document.getElementById("btn-pause").textContent === "RESUME"`)
	eval(`document.getElementById("btn-pause").click()`, nil)
	if got := show.next(t); got != `{"action":"resume","source":"console"}` {
		t.Fatalf("RESUME sent %s", got)
	}
	// A refused input is shown as refused.
	show.answer(errors.New("the loop is on fire"), false)
	eval(`document.getElementById("btn-start").click()`, nil)
	wait(`document.getElementById("result").textContent.includes("REFUSED (500) the loop is on fire")`)

	// A frozen wall is said loudly.
	show.set(func(st *Status) { st.LastFrameAgeMS = 4000; st.LagTicks = 240 })
	wait(`!document.getElementById("frozen").classList.contains("hidden") && document.getElementById("frozen").textContent.includes("WALL FROZEN")`)

	// The server goes away: the page says so at once.
	s.stop(t)
	wait(`document.body.dataset.link === "down" && document.getElementById("banner").textContent.includes("NOT CONNECTED TO THE SHOW")`)
	var banner string
	eval(`getComputedStyle(document.getElementById("banner")).display + " " + document.getElementById("conn").textContent`, &banner)
	if banner != "block DISCONNECTED" {
		t.Fatalf("banner and badge: %q", banner)
	}
}

// TestConsolePageStaleAndToken: the page asks for the token when the server has one, keeps it for
// the tab, reaches the WebSocket with it; with no update for a while it says the data is stale.
func TestConsolePageStaleAndToken(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	b := startBrowser(t, ctx)
	show := liveShow()
	s := start(t, Config{Show: show, Token: "desk-token-7", LiveInterval: time.Hour})
	p, err := b.Open(ctx, s.base+"/", 1280, 800, false)
	if err != nil {
		t.Fatal(err)
	}
	wait := func(expr string) {
		t.Helper()
		if err := p.WaitOrText(ctx, expr, 10*time.Second); err != nil {
			t.Fatal(err)
		}
	}
	wait(`!document.getElementById("token-dialog").classList.contains("hidden")`)
	var conn string
	p.Eval(ctx, `document.getElementById("conn").textContent`, &conn)
	if conn != "DISCONNECTED" {
		t.Fatalf("without a token the badge reads %q", conn)
	}
	// A wrong token is refused and asked again; the right one connects.
	p.Eval(ctx, `document.getElementById("token-input").value = "nope"; document.getElementById("token-form").requestSubmit(); true`, nil)
	wait(`!document.getElementById("token-dialog").classList.contains("hidden") && document.getElementById("token-why").textContent.includes("refused")`)
	p.Eval(ctx, `document.getElementById("token-input").value = "desk-token-7"; document.getElementById("token-form").requestSubmit(); true`, nil)
	wait(`document.getElementById("conn").textContent === "LIVE" || document.getElementById("conn").textContent.startsWith("STALE")`)
	var stored string
	p.Eval(ctx, `sessionStorage.getItem("tapwall_control_token")`, &stored)
	if stored != "desk-token-7" {
		t.Fatalf("sessionStorage holds %q", stored)
	}
	// The WebSocket is up (with the cookie): a console action is pushed to the page at once.
	s.pagesMu.Lock()
	np := len(s.pages)
	s.pagesMu.Unlock()
	if np != 1 {
		t.Fatalf("%d pages connected to /live", np)
	}
	p.Eval(ctx, `document.getElementById("btn-start").click()`, nil)
	if got := show.next(t); got != `{"action":"start","source":"console"}` {
		t.Fatalf("START sent %s", got)
	}
	// No push for a while (LiveInterval is an hour): the page says its data is stale.
	wait(`document.body.dataset.link === "stale" && document.getElementById("banner").textContent.includes("DATA IS STALE")`)
	// Nothing on the page carries the token.
	var html string
	p.Eval(ctx, `document.documentElement.outerHTML`, &html)
	if strings.Contains(html, "desk-token-7") {
		t.Fatal("the token is in the page's DOM")
	}
}

// colours counts the distinct colours of img (up to a bound).
func colours(img image.Image) int {
	seen := map[uint32]bool{}
	bd := img.Bounds()
	for y := bd.Min.Y; y < bd.Max.Y; y += 3 {
		for x := bd.Min.X; x < bd.Max.X; x += 3 {
			r, g, b, _ := img.At(x, y).RGBA()
			seen[(r>>8)<<16|(g>>8)<<8|b>>8] = true
			if len(seen) > 1000 {
				return len(seen)
			}
		}
	}
	return len(seen)
}

// redNear reports whether an alarm-red pixel is within 12 px of (x, y).
func redNear(img image.Image, x, y int) bool {
	for dy := -12; dy <= 12; dy++ {
		for dx := -12; dx <= 12; dx++ {
			r, g, b, _ := img.At(x+dx, y+dy).RGBA()
			if r>>8 >= 120 && g>>8 <= 60 && b>>8 <= 60 {
				return true
			}
		}
	}
	return false
}
