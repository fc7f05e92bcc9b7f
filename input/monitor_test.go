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
	step := func() ([]Alarm, []Alarm) {
		now += frameUS
		round.Step(nil)
		return m.Check(now, start, r.Health())
	}
	if st, _ := step(); len(st) != 0 {
		t.Fatalf("alarms with every frame up: %v", st)
	}
	op.unplug("/dev/input/event1") // the left frame dies mid-round
	next(t, r.Events(), "left frame lost", func(fe FrameEvent) bool { return fe.Detached })
	st, raised := step()
	if len(st) != 2 || len(raised) != 2 || st[0].Lane != 0 || st[1].Lane != 1 {
		t.Fatalf("alarms %v: lanes 1 and 2 sit on the lost frame", st)
	}
	if !strings.Contains(st[0].String(), `LANE 1: touch frame "left" lost`) || !strings.Contains(st[0].String(), "press 1 then T") {
		t.Fatalf("alarm %q must name the lane, the frame and the takeover keys", st[0])
	}
	if _, again := step(); len(again) != 0 {
		t.Fatalf("an alarm standing is raised (logged) once, not every frame: %v", again)
	}
	if round.Phase() != game.PhaseRunning || round.RunTick() != 4 { // start + 3 frames
		t.Fatalf("the round stopped: %v at run tick %d", round.Phase(), round.RunTick())
	}
	// The right frame's lanes go silent: after alarm_silence_ms their alarm is raised too.
	for lane := 2; lane < 4; lane++ {
		m.Input(lane, now)
	}
	var silent []Alarm
	for i := 0; i < 4000/16+2 && len(silent) == 0; i++ {
		_, raised := step()
		for _, a := range raised {
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
