package main

import (
	"context"
	"fmt"
	"time"

	"github.com/rs/zerolog"

	"tapwall/game"
	"tapwall/input"
	"tapwall/render"
)

// operatorFeeder is the keyboard override: the window's keys and the desk keyboards go through
// the keymap into game inputs (journaled like touches) and window requests; it also raises the
// touch-failure alarms. It runs on the frame goroutine.
type operatorFeeder struct {
	op      *input.Operator
	keys    *input.KeyReader // nil: no desk keyboards configured
	mon     *input.Monitor
	touch   *touchFeeder // nil: no touch frames read
	app     *render.App
	cfg     *game.Config
	log     zerolog.Logger
	pending []input.KeyEvent // window keys since the last frame
	out     []game.Input
	alarms  []string
	adjust  [game.MaxLanes]input.Adjustment
	running int64 // show time the current round started running (0: not running)
	round   *game.Round
	rates   rates
	kb      [game.MaxLanes]bool // lanes in keyboard mode: no silence alarm
}

func newOperatorFeeder(ctx context.Context, cfg *game.Config, op *input.Operator, wall *input.Wall, touch *touchFeeder,
	epoch int64, dir string, log zerolog.Logger) *operatorFeeder {
	f := &operatorFeeder{op: op, touch: touch, cfg: cfg, log: log}
	f.mon = input.NewMonitor(cfg, wall, f.op.TakeoverHint)
	f.op.Adjusted = func(a input.Adjustment) { f.adjust[a.Lane] = a }
	if len(cfg.Keyboard.Devices) > 0 {
		f.keys = input.NewKeyReader(cfg.Keyboard.Devices, cfg.Keyboard.Grab, time.Duration(cfg.Input.ReopenMS)*time.Millisecond,
			input.ReaderOptions{Opener: input.EvdevOpener{Dir: dir}, Log: log, EpochUS: epoch})
		go f.keys.Run(ctx)
	}
	return f
}

// windowKey queues a key of the window (render.Options.Keys).
func (f *operatorFeeder) windowKey(key string, pressed bool, now int64) {
	f.pending = append(f.pending, input.KeyEvent{Key: key, Pressed: pressed, TimeUS: now, Source: "window"})
}

func (f *operatorFeeder) key(ev input.KeyEvent) {
	var ui input.UI
	f.out, ui = f.op.Key(ev, f.out)
	switch ui {
	case input.UIToggleHUD:
		f.app.ToggleHUD()
	case input.UIQuit:
		f.log.Warn().Str("key", ev.Key).Str("source", ev.Source).Msg("quit confirmed by operator")
		f.app.Quit()
	}
}

// Feed turns this frame's keys into inputs and window requests, and checks the alarms (render.Feeder).
func (f *operatorFeeder) Feed(now int64, push func(game.Input)) {
	r := f.app.Show().Round()
	if r != f.round {
		f.round, f.running = r, 0
	}
	if r != nil {
		for lane := range f.cfg.Lanes {
			f.op.SetTakeover(lane, r.Takeover(lane))
			f.kb[lane] = r.Takeover(lane)
		}
		f.op.SetPaused(r.Phase() == game.PhasePaused)
		switch {
		case r.Phase() == game.PhaseRunning && f.running == 0:
			f.running = now
		case r.Phase() != game.PhaseRunning && r.Phase() != game.PhasePaused:
			f.running = 0
		}
	}
	f.out = f.out[:0]
	for _, ev := range f.pending {
		f.key(ev)
	}
	f.pending = f.pending[:0]
	if f.keys != nil {
		for drained := false; !drained; {
			select {
			case ev := <-f.keys.Events():
				f.key(ev)
			default:
				drained = true
			}
		}
	}
	f.op.Move(now)
	for _, in := range f.out {
		if in.Kind != game.KindStart && in.Kind != game.KindGame {
			f.mon.Input(int(in.Lane), now)
		}
		push(in)
	}
	var health []input.Health
	if f.touch != nil {
		for _, e := range f.touch.out {
			f.mon.Input(int(e.Lane), e.TimeUS)
		}
		health = f.touch.reader.Health()
	}
	standing, raised := f.mon.Check(now, f.running, health, f.kb[:len(f.cfg.Lanes)])
	for _, a := range raised {
		f.log.Error().Int("lane", a.Lane).Str("alarm", a.Reason).Msg("touch failure alarm")
	}
	f.alarms = f.alarms[:0]
	for _, a := range standing {
		f.alarms = append(f.alarms, a.String())
	}
}

// onScore logs operator adjustments with the key, the source, and the score before and after.
func (f *operatorFeeder) onScore(e game.ScoreEvent) {
	if e.Reason != game.ReasonOperator {
		return
	}
	a := f.adjust[e.Lane]
	f.log.Warn().Uint32("round", e.Round).Int64("tick", e.Tick).Int("lane", e.Lane).Int64("delta", e.Delta).
		Int64("before", e.Total-e.Delta).Int64("after", e.Total).Str("key", a.Key).Str("source", a.Source).
		Uint64("seq", e.Seq).Msg("score adjusted by operator")
}

func (f *operatorFeeder) view(now int64) render.OperatorView {
	v := render.OperatorView{Selected: f.op.Selected(), Prompt: f.op.Prompt(now), Help: f.op.Keymap().Help(), Alarms: f.alarms}
	for lane := range f.cfg.Lanes {
		x, y := f.op.Cursor(lane)
		v.Cursors = append(v.Cursors, [2]int32{x, y})
	}
	return v
}

// HUD reports every lane's input rate and last input, and the desk keyboards.
func (f *operatorFeeder) HUD() []string {
	var lines []string
	now := f.app.Clock()
	counts := map[string]int64{}
	for lane := range f.cfg.Lanes {
		counts[fmt.Sprint(lane)] = f.mon.Inputs(lane)
	}
	f.rates.tick(now, counts)
	for lane := range f.cfg.Lanes {
		age := "never"
		if t := f.mon.LastInput(lane); t > 0 {
			age = fmt.Sprintf("%.1f s ago", float64(now-t)/1e6)
		}
		mode := ""
		if r := f.app.Show().Round(); r != nil && r.Takeover(lane) {
			mode = "  KEYBOARD"
		}
		lines = append(lines, fmt.Sprintf("lane %d: %.0f inputs/s  last %s%s", lane+1, f.rates.per[fmt.Sprint(lane)], age, mode))
	}
	if f.keys != nil {
		for name, up := range f.keys.Connected() {
			lines = append(lines, fmt.Sprintf("desk keyboard %q connected %v", name, up))
		}
	}
	return lines
}
