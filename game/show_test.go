package game

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"
)

// memJournal is a journal file in memory that records whether it was closed.
type memJournal struct {
	bytes.Buffer
	closed bool
}

func (m *memJournal) Close() error { m.closed = true; return nil }

// journals opens in-memory journals, one per round.
type journals struct{ files []*memJournal }

func (j *journals) open(r *Round) (io.WriteCloser, error) {
	f := &memJournal{}
	j.files = append(j.files, f)
	return f, nil
}

func step(s Stepper, ticks int, in ...Input) {
	s.Step(in)
	for i := 1; i < ticks; i++ {
		s.Step(nil)
	}
}

func TestRanksShareTiesAndAnAbortedRoundHasNone(t *testing.T) {
	cfg := laneConfig(t, 4, "targets")
	cfg.Round.Seconds = 1
	r, _ := NewRound(&cfg, RoundParams{Wall: "w", Round: 1, Running: true})
	for lane, d := range []int32{9, 9, 5, 12} {
		r.Step([]Input{{Kind: KindAdjust, Lane: int8(lane), Value: d}})
	}
	if got := r.Ranks(nil); len(got) != 0 {
		t.Fatalf("a running round has ranks %v", got)
	}
	step(r, cfg.Round.TickRate)
	if got := fmt.Sprint(r.Ranks(nil)); got != "[2 2 4 1]" {
		t.Fatalf("scores 9 9 5 12 rank %s, want [2 2 4 1] (competition ranking)", got)
	}
	a, _ := NewRound(&cfg, RoundParams{Wall: "w", Round: 1, Running: true})
	a.Step([]Input{{Kind: KindAdjust, Lane: 0, Value: 3}, {Kind: KindAbort}})
	if got := a.Ranks(nil); len(got) != 0 || a.Phase() != PhaseAborted {
		t.Fatalf("an aborted round ranks %v", got)
	}
}

func TestHitsAndMissesAreKeptForThePicture(t *testing.T) {
	cfg := laneConfig(t, 2, "targets")
	r, _ := NewRound(&cfg, RoundParams{Wall: "w", Round: 1, Seed: 3, Running: true})
	o := r.Objects()[0]
	l := cfg.Lanes[1]
	r.Step([]Input{{Kind: KindDown, Contact: 1, XMM: l.XMM + o.X, YMM: l.YMM + o.Y}, {Kind: KindDown, Contact: 2, XMM: 5, YMM: 5}})
	var hits []Hit
	r.Hits(func(h *Hit) bool { hits = append(hits, *h); return true })
	if len(hits) != 2 {
		t.Fatalf("hits %+v, want a miss in lane 0 and a hit in lane 1", hits)
	}
	miss, hit := hits[0], hits[1] // newest first
	if !miss.Miss || miss.Lane != 0 || miss.XMM != 5 || hit.Miss || hit.Lane != 1 || hit.Points != r.Score(1) || hit.Points <= 0 ||
		hit.Object != o.ID || hit.XMM != l.XMM+o.X || hit.Tick != 0 {
		t.Fatalf("miss %+v hit %+v", miss, hit)
	}
	// The ring keeps the last HitRing, newest first.
	for i := 0; i < HitRing+10; i++ {
		r.Step([]Input{{Kind: KindDown, Contact: int32(10 + i), XMM: 1, YMM: int32(i % 4000)}})
	}
	n, prev := 0, int64(1<<62)
	r.Hits(func(h *Hit) bool { n++; ok := h.Tick <= prev; prev = h.Tick; return ok })
	if n != HitRing {
		t.Fatalf("%d hits kept, want %d", n, HitRing)
	}
	// An object that expires in a lane that did not catch it is kept for its vanishing.
	for r.Phase() == PhaseRunning && r.RunTick() < o.Expire+1 {
		r.Step(nil)
	}
	found := false
	r.GoneObjects(func(g *Gone) bool { found = found || g.Object.ID == o.ID; return true })
	if !found {
		t.Fatal("the expired target is not among the gone objects")
	}
}

// TestAutoplayScoresInEveryLaneAndReplays plays both games with the built-in player through a Show:
// every lane scores, the lanes play differently, the journal holds the bot's touches and replays
// to the same hash, and a rerun with the same seed is the same round.
func TestAutoplayScoresInEveryLaneAndReplays(t *testing.T) {
	for _, g := range Games {
		run := func() (*Show, *journals) {
			cfg := laneConfig(t, 8, g)
			cfg.Round.Seconds = 20
			j := &journals{}
			s := NewShow(&cfg, j.open)
			s.SetAutoplay(true)
			step(s, 30*cfg.Round.TickRate, Input{Kind: KindStart})
			return s, j
		}
		s, j := run()
		r := s.Round()
		if r.Phase() != PhaseFinished {
			t.Fatalf("%s: phase %v", g, r.Phase())
		}
		distinct := map[int64]bool{}
		for lane := range r.Config().Lanes {
			if r.Score(lane) <= 0 {
				t.Fatalf("%s: lane %d scored %d with autoplay", g, lane, r.Score(lane))
			}
			distinct[r.Score(lane)] = true
		}
		if len(distinct) < 3 {
			t.Fatalf("%s: the 8 autoplayed lanes scored alike: %v", g, distinct)
		}
		journal := j.files[0].String()
		if !j.files[0].closed || strings.Count(journal, `"source":"bot"`) < 50 {
			t.Fatalf("%s: journal closed=%v with %d bot inputs", g, j.files[0].closed, strings.Count(journal, `"source":"bot"`))
		}
		sum, err := Replay(strings.NewReader(journal), "j")
		if err != nil {
			t.Fatalf("%s: replay: %v", g, err)
		}
		for lane, ls := range sum.Scores {
			if ls.Score != r.Score(lane) {
				t.Fatalf("%s: replay scores %v, live lane %d %d", g, sum.Scores, lane, r.Score(lane))
			}
		}
		s2, _ := run()
		if s2.Round().Hash() != r.Hash() {
			t.Fatalf("%s: rerun %016x, live %016x", g, s2.Round().Hash(), r.Hash())
		}
	}
}

// TestJournalEndsTheTickTheRoundIsOver: the summary is written and the journal closed in the tick
// the round finishes, not at the next start; later ticks add nothing to it.
func TestJournalEndsTheTickTheRoundIsOver(t *testing.T) {
	cfg := laneConfig(t, 4, "targets")
	cfg.Round.Seconds, cfg.Round.CountdownSeconds = 2, 1
	j := &journals{}
	s := NewShow(&cfg, j.open)
	rate := cfg.Round.TickRate
	step(s, 3*rate, Input{Kind: KindStart})
	if len(j.files) != 1 || !j.files[0].closed {
		t.Fatalf("the journal is not closed once the round is over")
	}
	size := j.files[0].Len()
	step(s, 10*rate)
	if j.files[0].Len() != size {
		t.Fatal("the journal grew after the round was over")
	}
	lines := strings.Split(strings.TrimSpace(j.files[0].String()), "\n")
	var sum Summary
	json.Unmarshal([]byte(lines[len(lines)-1]), &sum)
	// the countdown (the start's own tick included) and the running length
	if sum.Type != "summary" || sum.Ticks != int64(3*rate) {
		t.Fatalf("summary %+v, want ticks %d", sum, 3*rate)
	}
}

func TestAttractScreenHasNoRoundEventsOrJournal(t *testing.T) {
	cfg := laneConfig(t, 4, "rain")
	j := &journals{}
	s := NewShow(&cfg, j.open)
	for i := 0; i < 20*cfg.Round.TickRate; i++ {
		s.Step(nil)
		if len(s.Events()) > 0 {
			t.Fatal("the attract screen produced ScoreEvents")
		}
	}
	a, on := s.Attract()
	if !on || a == nil || a.Params().Round != 0 || len(j.files) != 0 || s.Round() != nil {
		t.Fatalf("attract on=%v round=%v journals=%d", on, a, len(j.files))
	}
	played := false
	for lane := range cfg.Lanes {
		played = played || a.Score(lane) > 0
	}
	if !played {
		t.Fatal("nobody plays on the attract screen")
	}
	s.Step([]Input{{Kind: KindStart}})
	if _, on := s.Attract(); on || s.Round() == nil || s.Round().Params().Round != 1 {
		t.Fatal("start did not take the attract screen off")
	}
	// The operator's attract action is ignored while a round is in play, and taken after it.
	s.Step([]Input{{Kind: KindAttract}})
	if _, on := s.Attract(); on {
		t.Fatal("attract during a round")
	}
	s.Step([]Input{{Kind: KindAbort}})
	s.Step([]Input{{Kind: KindAttract}})
	if _, on := s.Attract(); !on {
		t.Fatal("attract after the round refused")
	}
}

func TestNamesAreJournaledShownAndCarried(t *testing.T) {
	cfg := laneConfig(t, 3, "targets")
	in, err := ReadInputs(strings.NewReader(`{"tick":0,"action":"names","names":["Ada","","Émile"]}`+"\n"), "in", &cfg)
	if err != nil {
		t.Fatal(err)
	}
	j := &journals{}
	s := NewShow(&cfg, j.open)
	s.Step([]Input{{Kind: KindStart}, in[0].Input})
	r := s.Round()
	if r.Name(0) != "Ada" || r.Name(1) != "L1" || r.Name(2) != "Émile" {
		t.Fatalf("names %q %q %q", r.Name(0), r.Name(1), r.Name(2))
	}
	s.Step([]Input{{Kind: KindAbort}})
	s.Step([]Input{{Kind: KindStart}})
	s.Close()
	if s.Round().Name(2) != "Émile" || !strings.Contains(j.files[1].String(), `"names":["Ada","","Émile"]`) {
		t.Fatalf("names not carried into the next round's header:\n%.300s", j.files[1].String())
	}
	if !strings.Contains(j.files[0].String(), `"action":"names","names":["Ada","","Émile"]`) {
		t.Fatal("the names action is not journaled")
	}
	if _, err := Replay(strings.NewReader(j.files[0].String()), "j"); err != nil {
		t.Fatal(err)
	}
	for _, bad := range []string{`["a","b","c","d"]`, `["` + strings.Repeat("x", MaxNameLen+1) + `"]`, `["a\u0007"]`} {
		if _, err := ReadInputs(strings.NewReader(`{"tick":0,"action":"names","names":`+bad+"}\n"), "in", &cfg); !errors.Is(err, ErrInput) {
			t.Errorf("names %s accepted", bad)
		}
	}
}

// TestZoneTapIsAKeyboardActionWhateverItsSource: a zone tap with no source (an input file's
// default, "script") on a lane in keyboard mode scores like one from the keyboard.
func TestZoneTapIsAKeyboardActionWhateverItsSource(t *testing.T) {
	cfg := laneConfig(t, 4, "targets")
	cfg.Targets.RadiusMM = 600
	for _, src := range []Source{SourceScript, SourceConsole, SourceKeyboard} {
		r, _ := NewRound(&cfg, RoundParams{Wall: "w", Round: 1, Seed: 5, Running: true})
		r.Step([]Input{{Kind: KindTakeover, Lane: 2, Value: 1, Source: src}})
		for tick := 0; tick < 300 && r.Score(2) == 0; tick++ {
			var in []Input
			for zone := int32(1); zone <= 9; zone++ {
				in = append(in, Input{Kind: KindZoneTap, Lane: 2, Value: zone, Source: src})
			}
			r.Step(in)
		}
		if r.Score(2) == 0 {
			t.Fatalf("zone taps from %v on a keyboard lane never scored", src)
		}
	}
}

func TestConfigRangesKeepArithmeticSafe(t *testing.T) {
	cases := map[string]string{
		"rain.radius_mm":       "[rain]\nradius_mm = 1073741824\n",
		"lanes[0].x_mm":        "[[lanes]]\nname=\"a\"\nx_mm=2147483000\nwidth_mm=2000\nheight_mm=4000\n",
		"targets.max_points":   "[targets]\nmax_points = 9223372036854775000\n",
		"rain.points":          "[rain]\ngolden_points = 9223372036854775000\n",
		"targets.lifetime_ms":  "[targets]\nlifetime_ms = 2147483647\n",
		"render.scale":         "[render]\nscale = 2\n",
		"operator.on_wall":     "[operator]\non_wall = \"everywhere\"\n",
		"theme.lane_colors[1]": "[theme]\nlane_colors = [\"#102030\", \"red\"]\n",
		"loop.hash_every":      "[loop]\nhash_every = 9223372036854775807\n",
	}
	for key, body := range cases {
		c, err := ParseConfig([]byte(body), "c.toml")
		if err == nil {
			// what used to happen: the config passed and the sim crashed or overflowed
			t.Errorf("%s: accepted (%+v)", key, c.Rain)
			continue
		}
		if !errors.Is(err, ErrConfig) || !strings.Contains(err.Error(), key+":") {
			t.Errorf("%s: error %q does not name the key", key, err)
		}
	}
	if c, err := ParseConfig([]byte("[render]\nscale = \"auto\"\n"), "c"); err != nil || !c.Render.Scale.Auto {
		t.Fatalf("scale auto: %v %+v", err, c.Render.Scale)
	}
	if c, err := ParseConfig([]byte("[render]\nscale = 0.5\n"), "c"); err != nil || c.Render.Scale.Fixed != 0.5 {
		t.Fatalf("scale 0.5: %v %+v", err, c.Render.Scale)
	}
}

func TestConfigReportsEveryProblemKeyFirst(t *testing.T) {
	_, err := ParseConfig([]byte("[round]\ntick_rate = 5\nseconds = 0\n[keyboard]\nconfirm_ms = 1\n"), "c.toml")
	var ce *ConfigError
	if !errors.As(err, &ce) || len(ce.Problems) != 3 {
		t.Fatalf("want 3 problems, got %v", err)
	}
	lines := strings.Split(err.Error(), "\n")
	if len(lines) != 4 || !strings.Contains(lines[0], "c.toml") {
		t.Fatalf("want a heading and one line per problem:\n%s", err)
	}
	for i, key := range []string{"round.tick_rate:", "round.seconds:", "keyboard.confirm_ms:"} {
		if !strings.HasPrefix(lines[i+1], key) {
			t.Errorf("line %q does not start with %s", lines[i+1], key)
		}
	}
}

// TestConfigSizeAndNestingAreBoundedBeforeDecoding: a deeply nested file is refused at once (it
// used to take seconds and gigabytes), and so is one over a mebibyte.
func TestConfigSizeAndNestingAreBoundedBeforeDecoding(t *testing.T) {
	start := time.Now()
	deep := "x = " + strings.Repeat("[", 100000) + strings.Repeat("]", 100000) + "\n"
	if _, err := ParseConfig([]byte(deep), "deep.toml"); !errors.Is(err, ErrConfig) || !strings.Contains(err.Error(), "nested") {
		t.Fatalf("deep nesting: %v", err)
	}
	inline := "[wall]\nx = " + strings.Repeat("{a=", 50) + "1" + strings.Repeat("}", 50) + "\n"
	if _, err := ParseConfig([]byte(inline), "inline.toml"); !errors.Is(err, ErrConfig) || !strings.Contains(err.Error(), "inline.toml:2") {
		t.Fatalf("deep inline tables: %v", err)
	}
	big := "# " + strings.Repeat("x", MaxConfigBytes) + "\n"
	if _, err := ParseConfig([]byte(big), "big.toml"); !errors.Is(err, ErrConfig) || !strings.Contains(err.Error(), "bytes") {
		t.Fatalf("big file: %v", err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Fatalf("refusing took %v", d)
	}
	// Brackets in strings and comments are not nesting.
	ok := "[show]\ntitle = \"[[[[[[[[[[[[\" # ]]]]]]]]]]]][[[[[[[[[[[[[[\n"
	if _, err := ParseConfig([]byte(ok), "ok.toml"); err != nil {
		t.Fatal(err)
	}
}

// recordSim records a running round of cfg with the bot for ticks and returns the journal.
func recordSim(t *testing.T, cfg *Config, ticks int) []byte {
	t.Helper()
	r, _ := NewRound(cfg, RoundParams{Wall: "w", Round: 1, Seed: 9, Running: true, StartUS: 1_700_000_000_000_000})
	var buf bytes.Buffer
	rec, _ := NewRecorder(&buf, r, 1, false)
	bot := NewBot(cfg, 9)
	var in []Input
	for i := 0; i < ticks; i++ {
		in = bot.Inputs(r, in[:0])
		rec.Step(in)
	}
	rec.Close()
	return buf.Bytes()
}

func TestReplayRefusesTicksBeyondTheRound(t *testing.T) {
	cfg := laneConfig(t, 2, "targets")
	j := recordSim(t, &cfg, 30)
	lines := strings.Split(strings.TrimSpace(string(j)), "\n")
	for _, bad := range []string{
		`{"type":"hash","tick":9223372036854775000,"hash":"0000000000000000"}`,
		`{"type":"input","tick":9223372036854775000,"action":"pause","source":"script"}`,
		`{"type":"summary","game":"targets","seed":9,"ticks":9223372036854775000,"hash":"0","scores":[],"events":0}`,
	} {
		body := strings.Join(append(append([]string{}, lines[:len(lines)-1]...), bad), "\n") + "\n"
		done := make(chan error, 1)
		go func() { _, err := Replay(strings.NewReader(body), "j"); done <- err }()
		select {
		case err := <-done:
			if !errors.Is(err, ErrInput) || !strings.Contains(err.Error(), "beyond") {
				t.Fatalf("%s: %v", bad, err)
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("replay of %s hangs", bad)
		}
	}
}

// TestReplayOfAJournalCutByACrash cuts a journal at every byte of its last lines: replay always
// replays up to the last whole line, says where it stopped and gives that line's summary.
func TestReplayOfAJournalCutByACrash(t *testing.T) {
	cfg := laneConfig(t, 2, "targets")
	j := recordSim(t, &cfg, 120)
	sumAt := bytes.LastIndex(j[:len(j)-1], []byte("\n")) + 1 // the summary line
	for cut := sumAt - 200; cut < sumAt; cut++ {
		got, err := Replay(bytes.NewReader(j[:cut]), "j")
		if !errors.Is(err, ErrTruncated) {
			t.Fatalf("cut at %d: %v", cut, err)
		}
		if got.Ticks < 110 || got.Hash == "" {
			t.Fatalf("cut at %d: summary %+v", cut, got)
		}
	}
	// The whole journal replays cleanly; a line after the summary is refused; so are wrong scores.
	if _, err := Replay(bytes.NewReader(j), "j"); err != nil {
		t.Fatal(err)
	}
	if _, err := Replay(bytes.NewReader(append(append([]byte{}, j...), `{"type":"hash","tick":500,"hash":"0"}`+"\n"...)), "j"); !errors.Is(err, ErrInput) {
		t.Fatalf("line after the summary: %v", err)
	}
	var sum Summary
	json.Unmarshal(j[sumAt:], &sum)
	sum.Scores[1].Score += 7
	forged, _ := json.Marshal(sum)
	body := append(append([]byte{}, j[:sumAt]...), append(forged, '\n')...)
	if _, err := Replay(bytes.NewReader(body), "j"); !errors.Is(err, ErrMismatch) {
		t.Fatalf("a summary with a forged score: %v", err)
	}
}

// TestReplayEventsAreTheLiveEventsByteForByte: the events rebuilt from a journal marshal to the
// same bytes as those the live round handed over, show_us included.
func TestReplayEventsAreTheLiveEventsByteForByte(t *testing.T) {
	cfg := laneConfig(t, 4, "rain")
	j := &journals{}
	s := NewShow(&cfg, j.open)
	s.SetAutoplay(true)
	s.SetClock(func(tick int64) int64 { return 1_800_000_000_000_000 + tick*16_667 + 12345 })
	var live bytes.Buffer
	for i := 0; i < 12*cfg.Round.TickRate; i++ {
		if i == 7 {
			s.Step([]Input{{Kind: KindStart}})
		} else {
			s.Step(nil)
		}
		for _, e := range s.Events() {
			b, _ := json.Marshal(e)
			live.Write(append(b, '\n'))
		}
	}
	s.Close()
	evs, err := ReplayEvents(bytes.NewReader(j.files[0].Bytes()), "j")
	if err != nil {
		t.Fatal(err)
	}
	var again bytes.Buffer
	for _, e := range evs {
		b, _ := json.Marshal(e)
		again.Write(append(b, '\n'))
	}
	if live.Len() == 0 || live.String() != again.String() {
		t.Fatalf("live events:\n%.400s\nrebuilt:\n%.400s", live.String(), again.String())
	}
	if evs[0].ShowUS < 1_800_000_000_000_000 {
		t.Fatalf("show_us %d is not from the round's StartUS", evs[0].ShowUS)
	}
}

// FuzzReplay feeds arbitrary journals to Replay: it returns (never panics, never hangs), and an
// error it returns is one of the documented kinds.
func FuzzReplay(f *testing.F) {
	cfg := DefaultConfig()
	cfg.Round.Seconds = 2
	r, _ := NewRound(&cfg, RoundParams{Wall: "w", Round: 1, Seed: 2, Running: true})
	var buf bytes.Buffer
	rec, _ := NewRecorder(&buf, r, 7, false)
	bot := NewBot(&cfg, 2)
	var in []Input
	for i := 0; i < 130; i++ {
		in = bot.Inputs(r, in[:0])
		rec.Step(in)
	}
	rec.Close()
	f.Add(buf.Bytes())
	f.Add(buf.Bytes()[:buf.Len()/2])
	f.Add([]byte(`{"type":"header","format":1}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		_, err := Replay(bytes.NewReader(data), "fuzz")
		if err != nil && !errors.Is(err, ErrInput) && !errors.Is(err, ErrMismatch) && !errors.Is(err, ErrTruncated) {
			t.Fatalf("undocumented error: %v", err)
		}
	})
}

// tickLog is what a standby receives of a primary's show: every tick's inputs, the round begun
// in it (if any) and the show's hash after it.
type tickLog struct {
	tick  int64
	in    []Input
	began *RoundParams
	sched bool
	hash  uint64
}

// TestRestoredShowFollowsTickForTick is GGPO's synctest for the show: a primary plays rounds with
// autoplay, names, takeovers, a scheduled round, aborts and the attract screen; at many join points
// a show restored from the latest base and stepped with the ticks since matches the primary's hash
// at every tick after.
func TestRestoredShowFollowsTickForTick(t *testing.T) {
	cfg := laneConfig(t, 4, "targets")
	cfg.Round.Seconds, cfg.Round.CountdownSeconds = 4, 1
	rate := int64(cfg.Round.TickRate)
	prim := NewShow(&cfg, nil)
	prim.SetAutoplay(true)
	script := map[int64][]Input{
		30:  {{Kind: KindNames, Names: []string{"Ada", "", "Cy"}}, {Kind: KindStart}},
		100: {{Kind: KindTakeover, Lane: 2, Value: 1}},
		400: {{Kind: KindGame, Value: 1}, {Kind: KindAttract}},
		700: {{Kind: KindStart}},
		760: {{Kind: KindAbort}},
		800: {{Kind: KindAttract}},
		950: {{Kind: KindTakeover, Lane: 1, Value: 1}},
	}
	var log []tickLog
	bases := map[int64]ShowBase{0: {Game: cfg.Round.Game, AttractOn: true, Autoplay: true}}
	baseTicks := []int64{0}
	for tick := int64(0); tick < 1400; tick++ {
		in := script[tick]
		sched := tick == 1100
		if sched {
			prim.Schedule(RoundParams{Round: 40, Seed: 99, Game: "rain", Countdown: 30, StartUS: 123})
		}
		prim.Step(in)
		rec := tickLog{tick: tick, in: in, sched: sched, hash: prim.Hash()}
		if p, ok := prim.Began(); ok {
			rec.began = &p
		}
		if b, ok := prim.Before(); ok {
			bases[tick] = b
			baseTicks = append(baseTicks, tick)
		}
		log = append(log, rec)
	}
	if len(baseTicks) < 5 {
		t.Fatalf("only %d bases: the scenario misses rounds or attract rounds", len(baseTicks))
	}
	for join := int64(5); join < 1400; join += 37 {
		var bt int64
		for _, b := range baseTicks {
			if b <= join {
				bt = b
			}
		}
		sb, err := RestoreShow(&cfg, bases[bt], nil)
		if err != nil {
			t.Fatal(err)
		}
		for _, rec := range log[bt:] {
			if rec.began != nil { // as a standby does: Expect first, then a scheduled round begins
				if err := sb.Expect(*rec.began); err != nil {
					t.Fatal(err)
				}
				if rec.sched {
					if err := sb.Schedule(*rec.began); err != nil {
						t.Fatal(err)
					}
				}
			}
			sb.Step(rec.in)
			if sb.Hash() != rec.hash {
				t.Fatalf("joined at %d (base %d): hash differs at tick %d", join, bt, rec.tick)
			}
			if rec.tick > join+3*rate {
				break
			}
		}
	}
}

// TestExpectRefusesARoundItCouldNotBegin: a round's parameters from another process (a standby's
// stream) naming a game this show does not know, or more names than lanes, are refused by Expect
// as by Schedule; nothing is expected, and a start then begins the show's own next round instead of
// panicking in begin.
func TestExpectRefusesARoundItCouldNotBegin(t *testing.T) {
	cfg := DefaultConfig()
	s := NewShow(&cfg, nil)
	for _, p := range []RoundParams{{Round: 9, Game: "nope"}, {Round: 9, Game: "targets", Names: make([]string, len(cfg.Lanes)+1)}} {
		if err := s.Expect(p); err == nil {
			t.Fatalf("Expect(%+v) took a round it cannot begin", p)
		}
	}
	s.Step([]Input{{Kind: KindStart}})
	if rd := s.Round(); rd == nil || rd.Params().Round != 1 || rd.GameName() != cfg.Round.Game {
		t.Fatalf("the round begun after refused expectations: %+v", rd)
	}
}
