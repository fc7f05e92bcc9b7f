package showrun

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"tapwall/cmd/internal/control"
	"tapwall/game"
	"tapwall/input"
	"tapwall/render/scene"
)

// fakeClock is the show clock of a test: frames move it, nothing sleeps.
type fakeClock struct{ us atomic.Int64 }

func (c *fakeClock) now() int64 { return c.us.Load() }

// syncBuf is a log sink safe for the runner's goroutines.
type syncBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuf) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuf) events(msg string) []map[string]any {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []map[string]any
	sc := bufio.NewScanner(bytes.NewReader(s.b.Bytes()))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		var m map[string]any
		if json.Unmarshal(sc.Bytes(), &m) == nil && (msg == "" || m["message"] == msg) {
			out = append(out, m)
		}
	}
	return out
}

type harness struct {
	t     *testing.T
	r     *Runner
	clock *fakeClock
	logs  *syncBuf
	dir   string
	stop  context.CancelFunc
}

func newHarness(t *testing.T, cfgBody string, tweak func(*Options)) *harness {
	t.Helper()
	cfg, err := game.ParseConfig([]byte(cfgBody), "c.toml")
	if err != nil {
		t.Fatal(err)
	}
	h := &harness{t: t, clock: &fakeClock{}, logs: &syncBuf{}, dir: t.TempDir()}
	h.clock.us.Store(1_000_000)
	log := zerolog.New(h.logs)
	opt := Options{Config: &cfg, Clock: h.clock.now, Log: log, JournalDir: filepath.Join(h.dir, "journals"),
		Start: time.Date(2026, 11, 29, 20, 0, 0, 0, time.UTC)}
	if tweak != nil {
		tweak(&opt)
	}
	h.r, err = New(opt)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	h.stop = cancel
	h.r.Start(ctx)
	t.Cleanup(func() { cancel() })
	return h
}

// frame runs one frame at the current clock: Frame, Scene, Drawn.
func (h *harness) frame(in *scene.Input) bool {
	now := h.clock.now()
	ok := h.r.Frame(now, in)
	h.r.Scene(now)
	h.r.Drawn(now, 1, nil)
	return ok
}

// run advances the clock by step µs per frame for d µs of show time.
func (h *harness) run(step, d int64) {
	end := h.clock.now() + d
	for h.clock.now() < end {
		h.clock.us.Add(step)
		h.frame(nil)
	}
}

func (h *harness) close() {
	h.t.Helper()
	if err := h.r.Close(10 * time.Second); err != nil {
		h.t.Fatal(err)
	}
	h.stop()
}

const quickRound = "[round]\ncountdown_seconds = 0\nseconds = 5\n"

// TestRunnerStepsEveryDueTickAtAnyFrameRate: at 2 FPS, 600 ticks still take 10 s of show time;
// after every frame the loop owes nothing.
func TestRunnerStepsEveryDueTickAtAnyFrameRate(t *testing.T) {
	for _, fps := range []int64{2, 60} {
		h := newHarness(t, quickRound, func(o *Options) { o.JournalDir = "" })
		h.frame(nil)
		start := h.clock.now()
		for h.r.Loop().Next() < 600 {
			h.clock.us.Add(1_000_000 / fps)
			h.frame(nil)
			if lag := h.r.Loop().Lag(h.clock.now()); lag != 0 {
				t.Fatalf("%d FPS: %d ticks owed after a frame", fps, lag)
			}
		}
		if d := h.clock.now() - start; d < 10_000_000 || d > 10_000_000+1_000_000/fps {
			t.Fatalf("%d FPS: 600 ticks took %d µs of show time", fps, d)
		}
		h.close()
	}
}

// TestJournalNeverBlocksAFrameOnAStalledDisk makes the journal file a FIFO nobody reads (a disk
// that does not answer: the writer blocks in open and write) and plays a busy autoplayed round:
// every frame returns and steps its ticks while the journal waits in memory; once the "disk"
// answers, the whole journal arrives and replays.
func TestJournalNeverBlocksAFrameOnAStalledDisk(t *testing.T) {
	h := newHarness(t, "[round]\ncountdown_seconds = 0\nseconds = 20\n[show]\nattract = false\n",
		func(o *Options) {
			o.Autoplay = true
			o.Script = []game.TickInput{{Tick: 1, Input: game.Input{Kind: game.KindStart}}}
		})
	jdir := filepath.Join(h.dir, "journals")
	os.MkdirAll(jdir, 0o755)
	name := filepath.Join(jdir, "wall-1-20261129T200000Z-r0001.jsonl")
	if err := syscall.Mkfifo(name, 0o644); err != nil {
		t.Skipf("no FIFO here: %v", err)
	}
	frames := 0
	for h.r.Loop() == nil || h.r.Loop().Next() < 20*60+10 {
		h.clock.us.Add(16_667)
		h.frame(nil)
		frames++
	}
	if q := h.r.journal.Queued(); q < 10_000 {
		t.Fatalf("only %d bytes queued: the stalled journal did not hold the round", q)
	}
	rd := h.r.Show().Round()
	if rd == nil || rd.Phase() != game.PhaseFinished || rd.Score(0) == 0 {
		t.Fatalf("the round did not play through while the disk was stalled")
	}
	// The disk answers: read the FIFO to the end.
	got := make(chan []byte, 1)
	go func() {
		f, err := os.Open(name)
		if err != nil {
			got <- nil
			return
		}
		defer f.Close()
		var b bytes.Buffer
		b.ReadFrom(f)
		got <- b.Bytes()
	}()
	h.close()
	data := <-got
	sum, err := game.Replay(bytes.NewReader(data), "fifo")
	if err != nil || sum.Scores[0].Score != rd.Score(0) {
		t.Fatalf("the journal that waited for the disk replays to %+v (%v); the round had %d", sum, err, rd.Score(0))
	}
}

// TestConsoleInputIsAppliedAtTheNextTickAsConsole: an input posted from another goroutine is
// applied at the tick the call returns, journaled with source console.
func TestConsoleInputIsAppliedAtTheNextTickAsConsole(t *testing.T) {
	h := newHarness(t, quickRound+"[show]\nattract = false\n", nil)
	h.frame(nil)
	type res struct {
		tick int64
		err  error
	}
	call := func(line string) res {
		ch := make(chan res, 1)
		go func() {
			tick, err := h.r.Input(context.Background(), []byte(line))
			ch <- res{tick, err}
		}()
		deadline := time.Now().Add(5 * time.Second)
		for len(h.r.console) == 0 { // the request is on its way: no frame passes meanwhile
			if time.Now().After(deadline) {
				t.Fatal("the console input never reached the runner")
			}
			runtime.Gosched()
		}
		h.clock.us.Add(16_667)
		h.frame(nil)
		return <-ch
	}
	start := call(`{"action":"start"}`)
	take := call(`{"action":"takeover","lane":2,"on":true}`)
	if start.err != nil || take.err != nil || take.tick <= start.tick {
		t.Fatalf("start %+v takeover %+v", start, take)
	}
	h.run(16_667, 200_000)
	if rd := h.r.Show().Round(); rd == nil || !rd.Takeover(2) {
		t.Fatal("the console's takeover was not applied")
	}
	if _, err := h.r.Input(context.Background(), []byte(`{"action":"explode"}`)); !errors.Is(err, control.ErrBadInput) {
		t.Fatalf("unknown action: %v", err)
	}
	if _, err := h.r.Input(context.Background(), []byte(`{"tick":3,"action":"pause"}`)); !errors.Is(err, control.ErrBadInput) {
		t.Fatalf("a console input with a tick: %v", err)
	}
	h.close()
	js, _ := filepath.Glob(filepath.Join(h.dir, "journals", "*.jsonl"))
	data, _ := os.ReadFile(js[0])
	want := `"action":"takeover","lane":2,"on":true,"source":"console"`
	if !strings.Contains(string(data), want) {
		t.Fatalf("journal lacks %s:\n%s", want, data[len(data)-min(len(data), 1500):])
	}
	acts := h.logs.events("show action")
	found := false
	for _, a := range acts {
		found = found || (a["action"] == "takeover" && a["source"] == "console" && a["lane"] == 2.0 && a["lane_name"] == "lane-3")
	}
	if !found {
		t.Fatalf("the takeover is not logged with its source and lane: %v", acts)
	}
}

// TestStatusAnswersWhileFramesAreFrozen: with no frame for 2 s, /status still answers from the
// last snapshot, with last_frame_age_ms counting and the frame_stale alarm standing.
func TestStatusAnswersWhileFramesAreFrozen(t *testing.T) {
	h := newHarness(t, quickRound, nil)
	h.run(16_667, 500_000)
	st := h.r.Status()
	if st.Role != "primary" || st.Epoch != 1 || st.Tick < 20 || st.LastFrameAgeMS > 20 || len(st.Lanes) != 4 {
		t.Fatalf("status %+v", st)
	}
	h.clock.us.Add(2_000_000) // the frame goroutine is stuck
	st = h.r.Status()
	stale := false
	for _, a := range st.Alarms {
		stale = stale || a.Code == AlarmFrameStale
	}
	if st.LastFrameAgeMS < 1990 || !stale {
		t.Fatalf("frozen 2 s: age %d ms, alarms %+v", st.LastFrameAgeMS, st.Alarms)
	}
	h.close()
}

// TestLowFrameRateRaisesAnAlarmAndClears: under render.min_fps for a second raises low_fps; back
// above it clears.
func TestLowFrameRateRaisesAnAlarmAndClears(t *testing.T) {
	h := newHarness(t, quickRound+"[render]\nmin_fps = 30\n", nil)
	has := func() bool { return h.r.alarms.has(AlarmLowFPS, -1) }
	h.run(16_667, 2_000_000)
	if has() {
		t.Fatal("low_fps at 60 FPS")
	}
	h.run(100_000, 3_000_000) // 10 FPS
	if !has() {
		t.Fatal("no low_fps alarm after 3 s at 10 FPS")
	}
	h.run(16_667, 3_000_000)
	if has() {
		t.Fatal("low_fps still standing after 3 s at 60 FPS")
	}
	if len(h.logs.events("alarm raised")) == 0 || len(h.logs.events("alarm cleared")) == 0 {
		t.Fatal("raising and clearing are not logged")
	}
	h.close()
}

// TestEveryInputSourceIsLaneActivity: a lane played by script touches, one by the mouse, and one
// in keyboard mode raise no silence alarm; the untouched lane does.
func TestEveryInputSourceIsLaneActivity(t *testing.T) {
	var script []game.TickInput
	script = append(script, game.TickInput{Tick: 0, Input: game.Input{Kind: game.KindStart}},
		game.TickInput{Tick: 0, Input: game.Input{Kind: game.KindTakeover, Lane: 3, Value: 1}})
	for tick := int64(10); tick < 300; tick += 20 {
		script = append(script, game.TickInput{Tick: tick, Input: game.Input{Kind: game.KindDown, Contact: 7, XMM: 500, YMM: 500}},
			game.TickInput{Tick: tick + 1, Input: game.Input{Kind: game.KindUp, Contact: 7, XMM: 500, YMM: 500}})
	}
	h := newHarness(t, quickRound+"[keyboard]\nalarm_silence_ms = 1000\n", func(o *Options) { o.Script = script })
	for i := 0; i < 200; i++ { // 3.3 s; the mouse taps lane 1 every 10 frames
		h.clock.us.Add(16_667)
		h.frame(&scene.Input{MouseIn: true, MouseDown: i%10 < 2, MouseXMM: 2500, MouseYMM: 1000})
	}
	for lane, want := range []bool{false, false, true, false} {
		if got := h.r.alarms.has(AlarmTouchSilent, lane); got != want {
			t.Errorf("lane %d: silence alarm %v, want %v", lane, got, want)
		}
	}
	h.close()
}

// TestRoundNumbersContinueAfterTheJournalDir: without a backend, a restarted show numbers its
// rounds after the highest one journaled for its wall.
func TestRoundNumbersContinueAfterTheJournalDir(t *testing.T) {
	dir := t.TempDir()
	for _, n := range []string{"wall-1-20261128T100000Z-r0007.jsonl", "wall-1-20261128T110000Z-r0012.jsonl", "other-20261128T110000Z-r0044.jsonl"} {
		os.WriteFile(filepath.Join(dir, n), nil, 0o644)
	}
	h := newHarness(t, quickRound, func(o *Options) {
		o.JournalDir = dir
		o.Script = []game.TickInput{{Tick: 0, Input: game.Input{Kind: game.KindStart}}}
	})
	h.run(16_667, 100_000)
	if rd := h.r.Show().Round(); rd == nil || rd.Params().Round != 13 {
		t.Fatalf("round %+v, want 13 after journals up to 12", rd)
	}
	h.close()
}

// TestRoundOverIsLoggedWithItsScoresAndTheJournalClosed: the round's end is logged at info with
// every lane's score, name and rank, the moment it is over.
func TestRoundOverIsLoggedWithItsScoresAndTheJournalClosed(t *testing.T) {
	script := []game.TickInput{{Tick: 0, Input: game.Input{Kind: game.KindStart}},
		{Tick: 1, Input: game.Input{Kind: game.KindAdjust, Lane: 0, Value: 9}},
		{Tick: 1, Input: game.Input{Kind: game.KindAdjust, Lane: 2, Value: 9}}}
	h := newHarness(t, quickRound, func(o *Options) { o.Script = script })
	h.run(16_667, 5_500_000)
	over := h.logs.events("round over")
	if len(over) != 1 {
		t.Fatalf("round over logged %d times", len(over))
	}
	scores := over[0]["scores"].([]any)
	l0, l2 := scores[0].(map[string]any), scores[2].(map[string]any)
	if l0["score"] != 9.0 || l0["rank"] != 1.0 || l2["rank"] != 1.0 || scores[1].(map[string]any)["rank"] != 3.0 || l0["lane_name"] != "lane-1" {
		t.Fatalf("round over %v", over[0])
	}
	if rd := h.r.Show().Round(); rd.Phase() != game.PhaseFinished {
		t.Fatalf("phase %v", rd.Phase())
	}
	h.close()
	if len(h.logs.events("journal closed and fsynced")) != 1 {
		t.Fatal("the journal was not closed when the round ended")
	}
}

// noDevices is an input.Opener with no device at all: every configured frame is missing.
type noDevices struct{}

func (noDevices) List() ([]input.DeviceInfo, error) { return nil, nil }
func (noDevices) Open(path string, grab bool) (input.Device, error) {
	return nil, errors.New("no such device")
}

// TestStartupProblemsAreAlarmsFromTheFirstSecond: a configured frame that is not there, a backend
// that does not answer and a disk under the free-space bound each stand as an alarm within the
// first second of the show, naming what to fix.
func TestStartupProblemsAreAlarmsFromTheFirstSecond(t *testing.T) {
	cfg := quickRound + "[[frames]]\nname = \"left\"\nmatch_name = \"Nope\"\nwidth_mm = 8000\nheight_mm = 4000\n"
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	dead := "ws://" + ln.Addr().String() + "/ws"
	ln.Close() // nobody answers there
	h := newHarness(t, cfg, func(o *Options) {
		o.Touch, o.Opener = true, noDevices{}
		o.Backend = &BackendOptions{URL: dead, Wall: "wall-1", Outbox: filepath.Join(t.TempDir(), "ob")}
		o.MinFreeBytes = 1 << 62 // no disk has that much free
	})
	// The disk check runs at once, on its own goroutine. Show time starts once it has run: on the
	// fake clock, frames could otherwise pass whole seconds of show time before the goroutine is
	// scheduled, where on the real clock the check takes a moment of the first second.
	for deadline := time.Now().Add(10 * time.Second); h.r.diskLow.Load() == nil; {
		if time.Now().After(deadline) {
			t.Fatal("the disk-space check did not run at the start")
		}
		runtime.Gosched()
	}
	deadline := time.Now().Add(10 * time.Second)
	want := map[string]bool{AlarmTouchLost: false, AlarmBackendDown: false, AlarmDiskSpace: false}
	for h.clock.now() < 1_000_000+1_100_000 || !(want[AlarmTouchLost] && want[AlarmBackendDown] && want[AlarmDiskSpace]) {
		h.clock.us.Add(16_667)
		h.frame(nil)
		for code := range want {
			want[code] = want[code] || slices.ContainsFunc(h.r.alarms.items, func(a control.Alarm) bool { return a.Code == code })
		}
		if time.Now().After(deadline) {
			t.Fatalf("alarms %v after %d ms of show: %+v", want, (h.clock.now()-1_000_000)/1000, h.r.alarms.items)
		}
		runtime.Gosched()
	}
	if show := (h.clock.now() - 1_000_000) / 1000; show > 1500 {
		t.Fatalf("the alarms took %d ms of show time", show)
	}
	for _, a := range h.r.alarms.items {
		if a.Code == AlarmTouchLost && !strings.Contains(a.Message, `"left"`) {
			t.Fatalf("the frame alarm does not name the frame: %q", a.Message)
		}
	}
	h.close()
}

// consoleCall posts one console input line and runs frames until the runner has taken it.
func consoleCall(t *testing.T, h *harness, line string) (int64, error) {
	t.Helper()
	type res struct {
		tick int64
		err  error
	}
	ch := make(chan res, 1)
	go func() {
		tick, err := h.r.Input(context.Background(), []byte(line))
		ch <- res{tick, err}
	}()
	deadline := time.Now().Add(5 * time.Second)
	for {
		select {
		case r := <-ch:
			return r.tick, r.err
		default:
		}
		if len(h.r.console) > 0 {
			h.clock.us.Add(16_667)
			h.frame(nil)
		}
		if time.Now().After(deadline) {
			t.Fatalf("the console input %s was never answered", line)
		}
		runtime.Gosched()
	}
}

// TestTheNextGameKeyFollowsTheShowsGame: the operator's next-game key picks the game after the
// one the show has now, whoever chose it (the console, a script, a promotion). It used to count
// from its own idea of the game, set once from the config: after the console switched targets to
// rain, the key picked rain again.
func TestTheNextGameKeyFollowsTheShowsGame(t *testing.T) {
	h := newHarness(t, quickRound+"[show]\nattract = false\n", func(o *Options) { o.JournalDir = "" })
	h.frame(nil)
	gameKey := &scene.Input{Keys: []scene.Key{{Name: "KEY_G", Pressed: true}}}
	for _, c := range []struct{ line, want string }{
		{`{"action":"next_game"}`, "rain"},
		{`{"action":"game","game":"targets"}`, "targets"},
		{`{"action":"game","game":"rain"}`, "rain"},
	} {
		if _, err := consoleCall(t, h, c.line); err != nil {
			t.Fatalf("%s: %v", c.line, err)
		}
		h.run(16_667, 100_000)
		if g := h.r.Show().Game(); g != c.want {
			t.Fatalf("after %s the show's next game is %s, want %s", c.line, g, c.want)
		}
		want := game.Games[(slices.Index(game.Games[:], c.want)+1)%len(game.Games)]
		h.clock.us.Add(16_667)
		h.frame(gameKey)
		h.run(16_667, 100_000)
		if g := h.r.Show().Game(); g != want {
			t.Fatalf("after %s the next-game key chose %s, want %s", c.line, g, want)
		}
	}
	h.close()
}
