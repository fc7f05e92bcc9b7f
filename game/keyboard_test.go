package game

import (
	"bytes"
	"testing"
)

// zoneBot taps, every 6 ticks, the zones of lane whose centre lies in a live object.
func zoneScript(t *testing.T, cfg *Config, lane int, seed uint64, ticks int64) (zoneTaps, touches []TickInput) {
	t.Helper()
	r, _ := NewRound(cfg, RoundParams{Wall: "w", Round: 1, Seed: seed, Running: true})
	l := cfg.Lanes[lane]
	for tick := int64(0); tick < ticks; tick++ {
		var in []Input
		if tick%6 == 0 {
			for zone := int32(1); zone <= 9; zone++ {
				x, y := ZoneCentre(cfg, lane, int(zone))
				for _, o := range r.Objects() {
					ox, oy := o.Pos(r.RunTick(), r.TickRate())
					dx, dy := int64(x-l.XMM-ox), int64(y-l.YMM-oy)
					if o.Taken&(1<<lane) == 0 && dx*dx+dy*dy <= int64(o.R)*int64(o.R) {
						zt := Input{Kind: KindZoneTap, Source: SourceKeyboard, Lane: int8(lane), Value: zone}
						in = append(in, zt)
						zoneTaps = append(zoneTaps, TickInput{tick, zt})
						id := KeyboardContact(lane)
						touches = append(touches, TickInput{tick, Input{Kind: KindDown, Contact: id, XMM: x, YMM: y}},
							TickInput{tick, Input{Kind: KindUp, Contact: id, XMM: x, YMM: y}})
						break
					}
				}
			}
		}
		r.Step(in)
	}
	return zoneTaps, touches
}

func TestKeyboardOnlyLaneScoresLikeTouchesAtZoneCentres(t *testing.T) {
	for _, g := range Games {
		cfg := laneConfig(t, 4, g)
		cfg.Targets.RadiusMM, cfg.Rain.RadiusMM = 400, 300
		ticks := int64(cfg.Round.Seconds * cfg.Round.TickRate)
		zones, touches := zoneScript(t, &cfg, 2, 21, ticks)
		on := []TickInput{{0, Input{Kind: KindTakeover, Source: SourceKeyboard, Lane: 2, Value: 1}}}
		kb := simulate(t, &cfg, 21, ticks, append(on, zones...))
		tc := simulate(t, &cfg, 21, ticks, touches)
		if kb.Scores[2].Score == 0 {
			t.Fatalf("%s: the keyboard scored nothing: the test proves nothing", g)
		}
		if kb.Scores[2] != tc.Scores[2] || kb.Events != tc.Events {
			t.Fatalf("%s: keyboard %+v (%d events), touches at zone centres %+v (%d events)", g, kb.Scores[2], kb.Events, tc.Scores[2], tc.Events)
		}
		// The keyboard round's journal replays to the same hash.
		r, _ := NewRound(&cfg, RoundParams{Wall: "w", Round: 1, Seed: 21, Running: true})
		var buf bytes.Buffer
		rec, _ := NewRecorder(&buf, r, 1, false)
		GroupByTick(append(on, zones...), ticks, func(_ int64, in []Input) { rec.Step(in) })
		rec.Close()
		got, err := Replay(&buf, "kb.jsonl")
		if err != nil || got.Hash != kb.Hash {
			t.Fatalf("%s: replay %v, hash %s want %s", g, err, got.Hash, kb.Hash)
		}
	}
}

func TestTakeoverIgnoresTheWallButNotTheKeyboard(t *testing.T) {
	cfg := laneConfig(t, 2, "targets")
	r, _ := NewRound(&cfg, RoundParams{Wall: "w", Round: 1, Seed: 4, Running: true})
	o := r.Objects()[0]
	r.Step([]Input{{Kind: KindTakeover, Source: SourceKeyboard, Lane: 1, Value: 1}})
	l := cfg.Lanes[1]
	r.Step([]Input{{Kind: KindDown, Source: SourceTouch, Contact: 1, XMM: l.XMM + o.X, YMM: l.YMM + o.Y}})
	if r.Score(1) != 0 || len(r.Contacts()) != 0 {
		t.Fatalf("a wall touch in a keyboard lane counted: score %d contacts %v", r.Score(1), r.Contacts())
	}
	r.Step([]Input{{Kind: KindDown, Source: SourceKeyboard, Contact: KeyboardContact(1), XMM: l.XMM + o.X, YMM: l.YMM + o.Y}})
	if r.Score(1) == 0 {
		t.Fatal("a keyboard tap in a keyboard lane did not score")
	}
	// Lane 0 is not taken over: the wall still plays there.
	l0 := cfg.Lanes[0]
	r.Step([]Input{{Kind: KindDown, Source: SourceTouch, Contact: 2, XMM: l0.XMM + o.X, YMM: l0.YMM + o.Y}})
	if r.Score(0) == 0 {
		t.Fatal("lane 0's touch was ignored")
	}
}

func TestAdjustIsAnOperatorScoreEvent(t *testing.T) {
	cfg := laneConfig(t, 4, "targets")
	r, _ := NewRound(&cfg, RoundParams{Wall: "w", Round: 3, Seed: 4, Running: true})
	r.Step([]Input{{Kind: KindAdjust, Source: SourceKeyboard, Lane: 3, Value: 5}})
	r.Step([]Input{{Kind: KindAdjust, Source: SourceKeyboard, Lane: 3, Value: -2}})
	e := r.Events()
	if len(e) != 1 || e[0].Reason != ReasonOperator || e[0].Delta != -2 || e[0].Total != 3 || e[0].Seq != 2 || e[0].Lane != 3 {
		t.Fatalf("events %+v", e)
	}
}

func TestScheduledRoundAndTakeoverCarriesOver(t *testing.T) {
	cfg := laneConfig(t, 4, "targets")
	cfg.Round.Seconds = 1
	s := NewShow(&cfg, nil)
	s.Step([]Input{{Kind: KindStart}})
	s.Step([]Input{{Kind: KindTakeover, Source: SourceKeyboard, Lane: 2, Value: 1}})
	if err := s.Schedule(RoundParams{Round: 9, Game: "rain", Seed: 5, Countdown: 30}); err != nil {
		t.Fatal(err)
	}
	r := s.Round()
	if r.Params().Round != 9 || r.Params().Wall != cfg.Wall.ID || r.Phase() != PhaseCountdown || r.GameName() != "rain" {
		t.Fatalf("scheduled %+v %v", r.Params(), r.Phase())
	}
	for i := 0; i < 29; i++ {
		s.Step(nil)
	}
	if r.Phase() != PhaseCountdown || !r.Takeover(2) || r.Takeover(1) {
		t.Fatalf("after 29 ticks: %v, takeover lane 2 %v: a keyboard lane stays so in the next round", r.Phase(), r.Takeover(2))
	}
	s.Step(nil)
	if r.Phase() != PhaseRunning || r.RunTick() != 0 {
		t.Fatalf("after 30 ticks: %v run tick %d: tick 0 must come with the countdown's last tick", r.Phase(), r.RunTick())
	}
	for r.Phase() == PhaseRunning {
		s.Step(nil)
	}
	s.Step([]Input{{Kind: KindStart}})
	if s.Round().Params().Round != 10 {
		t.Fatalf("next round numbered %d, want 10 (after the scheduled 9)", s.Round().Params().Round)
	}
	if err := s.Schedule(RoundParams{Round: 11, Game: "pong"}); err == nil {
		t.Fatal("an unknown game must be refused")
	}
}

// TestParseConsoleInput: a console action of ConsoleActions comes back as action with no input; a
// game input comes back as its input with action "", so the caller branches on action alone.
func TestParseConsoleInput(t *testing.T) {
	cfg := DefaultConfig()
	for _, a := range ConsoleActions {
		action, in, err := ParseConsoleInput([]byte(`{"action":"`+a+`"}`), &cfg)
		if err != nil || action != a || in.Kind != 0 || in.Names != nil {
			t.Fatalf("%s: action %q, input %+v, %v", a, action, in, err)
		}
	}
	action, in, err := ParseConsoleInput([]byte(`{"action":"game","game":"rain"}`), &cfg)
	if err != nil || action != "" || in.Kind != KindGame || in.Value != int32(GameIndex("rain")) {
		t.Fatalf("a game input: action %q, input %+v, %v", action, in, err)
	}
	if _, _, err := ParseConsoleInput([]byte(`{"action":"quit","lane":1}`), &cfg); err == nil {
		t.Fatal("a console action with arguments was taken")
	}
}
