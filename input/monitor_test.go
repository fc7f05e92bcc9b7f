package input

import (
	"strings"
	"testing"

	"tapwall/game"
)

func TestAlarmWhenAFrameDisappearsMidRound(t *testing.T) {
	cfg := twoFrameConfig(t, 0)
	cfg.Round.CountdownSeconds = 0
	cfg.Keyboard.AlarmSilenceMS = 4000
	w, _ := NewWall(&cfg)
	op := newFakeOpener()
	op.plug("/dev/input/event1", device("L", 4000, 4000))
	op.plug("/dev/input/event2", device("R", 4000, 4000))
	r, _ := runReader(t, &cfg, w, op, 64)
	for n := 0; n < 2; n++ {
		next(t, r.Events(), "both frames attached", func(fe FrameEvent) bool { return fe.Attach != nil })
	}
	km, _ := NewKeymap(nil)
	kb := NewOperator(&cfg, km)
	m := NewMonitor(&cfg, w, kb.TakeoverHint)
	round, _ := game.NewRound(&cfg, game.RoundParams{Wall: "w", Round: 1, Seed: 1})
	round.Step([]game.Input{{Kind: game.KindStart}})
	const frameUS = 16_667
	now, start := int64(frameUS), int64(frameUS)
	for lane := range cfg.Lanes {
		m.Input(lane, now)
	}
	step := func() []Alarm {
		now += frameUS
		round.Step(nil)
		return m.Check(now, start, r.Health(), nil)
	}
	if st := step(); len(st) != 0 {
		t.Fatalf("alarms with every frame up: %v", st)
	}
	op.unplug("/dev/input/event1") // the left frame dies mid-round
	next(t, r.Events(), "left frame lost", func(fe FrameEvent) bool { return fe.Detached })
	st := step()
	if len(st) != 2 || st[0].Lane != 0 || st[1].Lane != 1 || st[0].Code != AlarmTouchLost || st[1].Code != AlarmTouchLost {
		t.Fatalf("alarms %v: lanes 1 and 2 sit on the lost frame", st)
	}
	if !strings.Contains(st[0].String(), `LANE 1: touch frame "left" lost`) || !strings.Contains(st[0].String(), "press 1 then T") {
		t.Fatalf("alarm %q must name the lane, the frame and the takeover keys", st[0])
	}
	if again := step(); len(again) != 2 {
		t.Fatalf("the lost frame's alarms must stand while it is lost: %v", again)
	}
	if round.Phase() != game.PhaseRunning || round.RunTick() != 4 { // start + 3 frames
		t.Fatalf("the round stopped: %v at run tick %d", round.Phase(), round.RunTick())
	}
	// The right frame's lanes go silent: after alarm_silence_ms their alarm stands too.
	for lane := 2; lane < 4; lane++ {
		m.Input(lane, now)
	}
	var silent []Alarm
	for i := 0; i < 4000/16+2 && len(silent) == 0; i++ {
		for _, a := range step() {
			if strings.Contains(a.Reason, "no touch") {
				silent = append(silent, a)
			}
		}
	}
	if len(silent) != 2 || silent[0].Lane != 2 {
		t.Fatalf("silence alarms %v", silent)
	}
	if round.Phase() != game.PhaseRunning {
		t.Fatal("the round stopped")
	}
}

// TestSilenceAlarmCountsEveryLaneInputAndSparesKeyboardLanes: a lane's activity is every input
// routed to it, whatever its source (mouse, script, the keyboard's taps); show-wide actions are
// no lane's activity; a lane in keyboard mode raises no silence alarm; alarms carry a stable code
// and their lane.
func TestSilenceAlarmCountsEveryLaneInputAndSparesKeyboardLanes(t *testing.T) {
	cfg := twoFrameConfig(t, 0) // lanes 1-2 on frame "left", 3-4 on "right"
	cfg.Keyboard.AlarmSilenceMS = 2000
	w, _ := NewWall(&cfg)
	km, _ := NewKeymap(nil)
	m := NewMonitor(&cfg, w, NewOperator(&cfg, km).TakeoverHint)
	up := []Health{{Name: "left", Connected: true}, {Name: "right", Connected: true}}
	const start = 1_000_000
	keyboard := []bool{false, true, false, false} // lane 2 is taken over: nothing reaches it
	var standing []Alarm
	var raisedAt int64 // when an alarm first stood
	for now := int64(start); now <= start+3_000_000; now += 100_000 {
		// Lane 1: the mouse. Lane 3: only show-wide actions, which are nobody's activity.
		// Lane 4: a script's touches, then the keyboard's zone taps and a cursor tap.
		m.Observe(game.Input{Kind: game.KindMove, Source: game.SourceMouse, Contact: 1, XMM: 1000, YMM: 2000}, now)
		for _, k := range []game.Kind{game.KindStart, game.KindPause, game.KindResume, game.KindAbort, game.KindGame} {
			m.Observe(game.Input{Kind: k, Source: game.SourceKeyboard, Lane: 2}, now)
		}
		if now < start+1_000_000 {
			m.Observe(game.Input{Kind: game.KindDown, Source: game.SourceScript, Contact: 2, XMM: 7000, YMM: 100}, now)
		} else {
			m.Observe(game.Input{Kind: game.KindZoneTap, Source: game.SourceKeyboard, Lane: 3, Value: 5}, now)
			m.Observe(game.Input{Kind: game.KindDown, Source: game.SourceKeyboard, Contact: game.KeyboardContact(3), XMM: 7000, YMM: 2000}, now)
		}
		standing = m.Check(now, start, up, keyboard)
		if len(standing) > 0 && raisedAt == 0 {
			raisedAt = now
		}
	}
	if len(standing) != 1 {
		t.Fatalf("standing %+v: only lane 3 is silent (lane 2 is in keyboard mode)", standing)
	}
	if AlarmTouchSilent != "touch_silent" || AlarmTouchLost != "touch_lost" {
		t.Fatal("the alarm codes are a contract (issue 12): touch_silent, touch_lost")
	}
	a := standing[0]
	if a.Code != AlarmTouchSilent || a.Lane != 2 ||
		raisedAt <= start+2_000_000 || raisedAt > start+2_100_000 || !strings.Contains(a.Reason, "press 3 then T") {
		t.Fatalf("alarm %+v raised at %d: want touch_silent on lane index 2 since just after 2 s of silence, with the takeover keys", a, raisedAt)
	}
	if m.Inputs(2) != 0 || m.Inputs(3) == 0 || m.LastInput(0) != start+3_000_000 {
		t.Fatalf("inputs: lane 3 %d (want 0), lane 4 %d, lane 1 last %d", m.Inputs(2), m.Inputs(3), m.LastInput(0))
	}
	// Lane 2 leaves keyboard mode with nothing reaching it: its silence is an alarm now.
	now := int64(start + 3_100_000)
	st := m.Check(now, start, up, []bool{false, false, false, false})
	if len(st) != 2 || st[0].Lane != 1 || st[0].Code != AlarmTouchSilent || st[1].Lane != 2 {
		t.Fatalf("standing %+v: want lane index 1's silence besides lane index 2's", st)
	}
	// The left frame is lost: touch_lost on lanes 1 and 2 (in place of lane 2's silence), also on
	// a lane in keyboard mode, which says so instead of the takeover keys.
	now += 100_000
	st = m.Check(now, start, []Health{{Name: "left"}, {Name: "right", Connected: true}}, []bool{true})
	if len(st) != 3 || st[0].Code != AlarmTouchLost || st[0].Lane != 0 || st[1].Code != AlarmTouchLost || st[1].Lane != 1 ||
		!strings.Contains(st[0].Reason, "keyboard mode") || !strings.Contains(st[1].Reason, "press 2 then T") {
		t.Fatalf("standing %+v", st)
	}
	if st[2].Code != AlarmTouchSilent || st[2].Lane != 2 {
		t.Fatalf("standing %+v: lane index 2's silence still stands", st)
	}
}
