package game

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"testing"
)

func TestFairnessEveryLaneScoresTheSame(t *testing.T) {
	for _, g := range Games {
		t.Run(g, func(t *testing.T) {
			cfg := laneConfig(t, 4, g)
			ticks := int64(cfg.Round.Seconds * cfg.Round.TickRate)
			touches := botTouches(t, &cfg, 42, ticks, 7)
			sum := simulate(t, &cfg, 42, ticks, spread(&cfg, touches, []int{0, 1, 2, 3}))
			if sum.Scores[0].Score == 0 {
				t.Fatalf("the bot scored nothing in %s: the test would prove nothing", g)
			}
			for _, s := range sum.Scores {
				if s.Score != sum.Scores[0].Score {
					t.Fatalf("%s: lane %d scored %d, lane 0 scored %d: lanes are not treated the same", g, s.Lane, s.Score, sum.Scores[0].Score)
				}
			}
			if sum.Events%4 != 0 {
				t.Fatalf("%s: %d events is not the same number in each of 4 lanes", g, sum.Events)
			}
		})
	}
}

func TestReorderingLanesPermutesScores(t *testing.T) {
	for _, g := range Games {
		t.Run(g, func(t *testing.T) {
			cfg := laneConfig(t, 4, g)
			ticks := int64(20 * cfg.Round.TickRate)
			touches := botTouches(t, &cfg, 9, ticks, 5)
			// Different play in each lane: lane i gets only every (i+1)-th tap.
			var inputs []TickInput
			for li := range cfg.Lanes {
				var sub []laneTouch
				n := 0
				for _, tt := range touches {
					if tt.kind == KindDown {
						n++
					}
					if n%(li+1) == 0 {
						sub = append(sub, tt)
					}
				}
				inputs = append(inputs, spread(&cfg, sub, []int{li})...)
			}
			sortByTick(inputs)
			a := simulate(t, &cfg, 9, ticks, inputs)

			perm := []int{2, 0, 3, 1} // new lane i is old lane perm[i]
			re := cfg
			re.Lanes = make([]LaneConfig, len(cfg.Lanes))
			for i, p := range perm {
				re.Lanes[i] = cfg.Lanes[p]
			}
			if err := re.Validate(); err != nil {
				t.Fatal(err)
			}
			b := simulate(t, &re, 9, ticks, inputs)
			distinct := map[int64]bool{}
			for i, p := range perm {
				if b.Scores[i].Score != a.Scores[p].Score {
					t.Errorf("reordered lane %d (was %d) scored %d, want %d", i, p, b.Scores[i].Score, a.Scores[p].Score)
				}
				distinct[a.Scores[p].Score] = true
			}
			if len(distinct) < 3 {
				t.Fatalf("scores %v are too alike for the permutation to show", a.Scores)
			}
			if a.Events != b.Events || a.Ticks != b.Ticks {
				t.Errorf("events/ticks changed: %d/%d vs %d/%d", a.Events, a.Ticks, b.Events, b.Ticks)
			}
		})
	}
}

func sortByTick(in []TickInput) {
	for i := 1; i < len(in); i++ {
		for j := i; j > 0 && in[j-1].Tick > in[j].Tick; j-- {
			in[j-1], in[j] = in[j], in[j-1]
		}
	}
}

func TestSeqIsGaplessAndTotalsAddUp(t *testing.T) {
	cfg := laneConfig(t, 8, "rain")
	ticks := int64(30 * cfg.Round.TickRate)
	inputs := spread(&cfg, botTouches(t, &cfg, 3, ticks, 4), []int{0, 2, 5, 7})
	r, _ := NewRound(&cfg, RoundParams{Wall: "w", Round: 7, Seed: 3, Running: true})
	var want uint64 = 1
	var totals [MaxLanes]int64
	GroupByTick(inputs, ticks, func(tick int64, in []Input) {
		r.Step(in)
		for _, e := range r.Events() {
			if e.Seq != want || e.Round != 7 || e.Wall != "w" || e.Tick != tick {
				t.Fatalf("event %+v: want seq %d round 7 tick %d", e, want, tick)
			}
			want++
			totals[e.Lane] += e.Delta
			if totals[e.Lane] != e.Total {
				t.Fatalf("event %+v: running total %d", e, totals[e.Lane])
			}
		}
	})
	if want < 10 {
		t.Fatalf("only %d events", want-1)
	}
	for i := range cfg.Lanes {
		if r.Score(i) != totals[i] {
			t.Fatalf("lane %d score %d, events add to %d", i, r.Score(i), totals[i])
		}
	}
}

func TestDeterministicHash(t *testing.T) {
	for _, g := range Games {
		cfg := laneConfig(t, 4, g)
		ticks := int64(10 * cfg.Round.TickRate)
		inputs := spread(&cfg, botTouches(t, &cfg, 5, ticks, 3), []int{0, 1, 3})
		a := simulate(t, &cfg, 5, ticks, inputs)
		b := simulate(t, &cfg, 5, ticks, inputs)
		if a.Hash != b.Hash || fmt.Sprint(a.Scores) != fmt.Sprint(b.Scores) {
			t.Fatalf("%s: two runs differ: %+v vs %+v", g, a, b)
		}
		c := simulate(t, &cfg, 6, ticks, inputs)
		if c.Hash == a.Hash {
			t.Fatalf("%s: another seed gave the same hash", g)
		}
	}
}

func TestPhases(t *testing.T) {
	cfg := laneConfig(t, 2, "targets")
	cfg.Round.Seconds = 2
	cfg.Round.CountdownSeconds = 1
	r, _ := NewRound(&cfg, RoundParams{Wall: "w", Round: 1, Seed: 1})
	step := func(k Kind) { r.Step([]Input{{Kind: k}}) }
	if r.Phase() != PhaseIdle {
		t.Fatal(r.Phase())
	}
	step(KindPause) // nothing to pause
	if r.Phase() != PhaseIdle {
		t.Fatalf("pause in idle: %v", r.Phase())
	}
	step(KindStart)
	if r.Phase() != PhaseCountdown {
		t.Fatalf("after start: %v", r.Phase())
	}
	for i := 0; i < 59; i++ {
		r.Step(nil)
	}
	if r.Phase() != PhaseRunning || len(r.Objects()) != 1 {
		t.Fatalf("after 60 countdown ticks: %v with %d objects", r.Phase(), len(r.Objects()))
	}
	step(KindPause)
	rt := r.RunTick()
	for i := 0; i < 500; i++ {
		r.Step(nil)
	}
	if r.Phase() != PhasePaused || r.RunTick() != rt {
		t.Fatalf("paused round moved: %v run tick %d -> %d", r.Phase(), rt, r.RunTick())
	}
	step(KindResume)
	for r.Phase() == PhaseRunning {
		r.Step(nil)
	}
	if r.Phase() != PhaseFinished || r.RunTick() != 120 {
		t.Fatalf("ended %v at run tick %d, want finished at 120", r.Phase(), r.RunTick())
	}
	step(KindAbort)
	if r.Phase() != PhaseFinished {
		t.Fatalf("abort after finish changed the phase to %v", r.Phase())
	}
	r2, _ := NewRound(&cfg, RoundParams{Wall: "w", Round: 2, Seed: 1, Running: true})
	r2.Step([]Input{{Kind: KindAbort}})
	if r2.Phase() != PhaseAborted || len(r2.Objects()) != 0 {
		t.Fatalf("abort: %v", r2.Phase())
	}
}

func TestTouchKeepsItsLane(t *testing.T) {
	cfg := laneConfig(t, 2, "targets")
	r, _ := NewRound(&cfg, RoundParams{Wall: "w", Round: 1, Seed: 1, Running: true})
	r.Step([]Input{{Kind: KindDown, Contact: 4, XMM: 100, YMM: 100}})
	r.Step([]Input{{Kind: KindMove, Contact: 4, XMM: 7000, YMM: 100}})
	c := r.Contacts()
	if len(c) != 1 || c[0].Lane != 0 || c[0].XMM != 7000 {
		t.Fatalf("contacts %+v: the touch must stay in lane 0 while it moves", c)
	}
	r.Step([]Input{{Kind: KindUp, Contact: 4, XMM: 7000, YMM: 100}})
	if len(r.Contacts()) != 0 {
		t.Fatalf("contact survived its up: %+v", r.Contacts())
	}
}

func TestJournalReplayAndTamper(t *testing.T) {
	cfg := laneConfig(t, 4, "targets")
	ticks := int64(5 * cfg.Round.TickRate)
	inputs := spread(&cfg, botTouches(t, &cfg, 11, ticks, 6), []int{0, 1, 2, 3})
	r, _ := NewRound(&cfg, RoundParams{Wall: "w", Round: 1, Seed: 11, Running: true})
	var buf bytes.Buffer
	rec, err := NewRecorder(&buf, r, 1, false)
	if err != nil {
		t.Fatal(err)
	}
	GroupByTick(inputs, ticks, func(_ int64, in []Input) { rec.Step(in) })
	if err := rec.Close(); err != nil {
		t.Fatal(err)
	}
	want := rec.Summary()
	got, err := Replay(bytes.NewReader(buf.Bytes()), "j")
	if err != nil {
		t.Fatal(err)
	}
	if got.Hash != want.Hash || fmt.Sprint(got.Scores) != fmt.Sprint(want.Scores) || got.Events != want.Events {
		t.Fatalf("replay %+v, want %+v", got, want)
	}

	// Move the 5th input line by 1 mm: replay must fail at exactly that input's tick.
	lines := strings.Split(buf.String(), "\n")
	n := 0
	for i, l := range lines {
		if strings.Contains(l, `"type":"input"`) && strings.Contains(l, `"kind":"down"`) {
			if n++; n == 5 {
				var tick int
				fmt.Sscanf(l[strings.Index(l, `"tick":`)+7:], "%d", &tick)
				var y int
				fmt.Sscanf(l[strings.Index(l, `"y_mm":`)+7:], "%d", &y)
				lines[i] = strings.Replace(l, fmt.Sprintf(`"y_mm":%d`, y), fmt.Sprintf(`"y_mm":%d`, y+1), 1)
				_, err := Replay(strings.NewReader(strings.Join(lines, "\n")), "j")
				if !errors.Is(err, ErrMismatch) || !strings.Contains(err.Error(), fmt.Sprintf("at tick %d:", tick)) {
					t.Fatalf("tampered input at tick %d: got %v", tick, err)
				}
				return
			}
		}
	}
	t.Fatal("fewer than 5 downs in the journal")
}

func TestReplayRejectsMalformedJournals(t *testing.T) {
	cases := map[string]string{
		"empty":          "",
		"no header":      `{"type":"input","tick":0,"action":"start"}`,
		"bad format":     `{"type":"header","format":99}`,
		"garbage":        "{not json",
		"unknown type":   `{"type":"header","format":1,"game":"targets","tick_rate":60,"wall":"w","round":1,"hash_every":1,"config":` + mustJSON(t, DefaultConfig()) + "}\n" + `{"type":"bogus"}`,
		"backwards tick": `{"type":"header","format":1,"game":"targets","tick_rate":60,"wall":"w","round":1,"hash_every":1,"config":` + mustJSON(t, DefaultConfig()) + "}\n" + `{"type":"input","tick":5,"action":"start"}` + "\n" + `{"type":"hash","tick":7,"hash":"x"}` + "\n" + `{"type":"input","tick":1,"action":"start"}`,
	}
	for name, j := range cases {
		_, err := Replay(strings.NewReader(j), "j.jsonl")
		if err == nil {
			t.Errorf("%s: accepted", name)
			continue
		}
		if name != "backwards tick" && !errors.Is(err, ErrInput) {
			t.Errorf("%s: %v does not wrap ErrInput", name, err)
		}
	}
}
