package input

import (
	"fmt"

	"tapwall/game"
)

// Alarm codes: stable identifiers for scripts and the console (`/status` "alarms[].code").
const (
	// AlarmTouchLost: a touch frame that covers the lane is not connected.
	AlarmTouchLost = "touch_lost"
	// AlarmTouchSilent: the lane has seen no input for keyboard.alarm_silence_ms while its round runs.
	AlarmTouchSilent = "touch_silent"
)

// Alarm is a touch failure the operator must see: which lane, why, and what to press.
type Alarm struct {
	Code   string // AlarmTouchLost or AlarmTouchSilent
	Lane   int    // 0-based, as in the journal
	Reason string // for people: what is wrong and what to do
}

// String renders the alarm for the HUD and the log.
func (a Alarm) String() string { return fmt.Sprintf("LANE %d: %s", a.Lane+1, a.Reason) }

// Monitor watches every lane's touch health: the frames that cover it and the last input it saw.
// A lane whose frame is lost, or that has seen no input for keyboard.alarm_silence_ms while its
// round runs (and it is not in keyboard mode), raises an alarm naming the lane and the takeover
// keys. Not safe for concurrent use: the frame goroutine owns it.
type Monitor struct {
	cfg     *game.Config
	frames  [][]int // per lane: indexes of the frames that cover it
	names   []string
	last    [game.MaxLanes]int64
	count   [game.MaxLanes]int64
	silence int64
	hint    func(lane int) string
}

// NewMonitor returns a monitor of cfg's lanes over wall's frames; hint tells how to take a lane over.
func NewMonitor(cfg *game.Config, w *Wall, hint func(lane int) string) *Monitor {
	m := &Monitor{cfg: cfg, silence: int64(cfg.Keyboard.AlarmSilenceMS) * 1000, hint: hint}
	for _, l := range cfg.Lanes {
		var fs []int
		for i := 0; i < w.Frames(); i++ {
			f := &w.frames[i]
			if f.x < int64(l.XMM+l.WidthMM) && int64(l.XMM) < f.x+f.w && f.y < int64(l.YMM+l.HeightMM) && int64(l.YMM) < f.y+f.h {
				fs = append(fs, i)
			}
		}
		m.frames = append(m.frames, fs)
	}
	for i := 0; i < w.Frames(); i++ {
		m.names = append(m.names, w.frames[i].cfg.Name)
	}
	return m
}

// Input records that lane saw an input at show time now. Every input routed to a lane counts,
// whatever its source (touch frames, mouse, recordings, scripts, the keyboard's taps, takeovers and
// adjustments): the silence alarm asks whether anything reaches the lane. Show-wide actions (start,
// pause, resume, abort, quit, next game) are no lane's activity: the caller does not report them
// (Observe sorts inputs that way). A lane outside the config is ignored.
func (m *Monitor) Input(lane int, now int64) {
	if lane >= 0 && lane < len(m.frames) {
		m.last[lane] = max(m.last[lane], now)
		m.count[lane]++
	}
}

// Observe records in as activity of the lane it concerns at show time now, from any source:
// a touch (down, move, up, cancel) counts for the lane its position lies in, a takeover, zone tap
// or adjustment for its Lane. Show-wide actions (start, pause, resume, abort, next game) count
// for no lane. It allocates nothing.
func (m *Monitor) Observe(in game.Input, now int64) {
	switch {
	case in.Kind.IsTouch():
		m.Input(game.LaneAt(m.cfg, in.XMM, in.YMM), now)
	case in.Kind == game.KindTakeover || in.Kind == game.KindZoneTap || in.Kind == game.KindAdjust:
		m.Input(int(in.Lane), now)
	}
}

// Check returns the alarms standing at show time now, at most one per lane in lane order (the
// caller keeps when each was raised). runningSince is the show time the round started running (0:
// not running); health is the Reader's (nil: no frames are read); keyboard[lane] says the lane is
// in keyboard mode (nil or short: none), where silence is expected and raises nothing, while a
// lost frame is still reported. The slice returned is new.
func (m *Monitor) Check(now, runningSince int64, health []Health, keyboard []bool) []Alarm {
	var standing []Alarm
	for lane := range m.frames {
		kb := lane < len(keyboard) && keyboard[lane]
		code, reason := "", ""
		for _, f := range m.frames[lane] {
			if f < len(health) && !health[f].Connected {
				code, reason = AlarmTouchLost, fmt.Sprintf("touch frame %q lost", m.names[f]) // the HUD and the log say why
				break
			}
		}
		if code == "" && !kb && runningSince > 0 && now-max(m.last[lane], runningSince) > m.silence {
			code, reason = AlarmTouchSilent, fmt.Sprintf("no touch for %d s", (now-max(m.last[lane], runningSince))/1_000_000)
		}
		if code == "" {
			continue
		}
		if kb {
			reason += " — lane in keyboard mode"
		} else {
			reason += " — takeover: " + m.hint(lane)
		}
		standing = append(standing, Alarm{Code: code, Lane: lane, Reason: reason})
	}
	return standing
}

// Inputs returns how many inputs lane has seen.
func (m *Monitor) Inputs(lane int) int64 { return m.count[lane] }

// LastInput returns the show time of lane's last input (0: none yet).
func (m *Monitor) LastInput(lane int) int64 { return m.last[lane] }
