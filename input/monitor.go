package input

import (
	"fmt"

	"tapwall/game"
)

// Alarm is a touch failure the operator must see: which lane, why, and what to press.
type Alarm struct {
	Lane   int
	Reason string
}

// String renders the alarm for the HUD and the log.
func (a Alarm) String() string { return fmt.Sprintf("LANE %d: %s", a.Lane+1, a.Reason) }

// Monitor watches every lane's touch health: the frames that cover it and the last input it saw.
// A lane whose frame is lost, or that has seen no input for keyboard.alarm_silence_ms while its
// round runs, raises an alarm naming the lane and the takeover keys. Not safe for concurrent use.
type Monitor struct {
	cfg     *game.Config
	frames  [][]int // per lane: indexes of the frames that cover it
	names   []string
	last    [game.MaxLanes]int64
	count   [game.MaxLanes]int64
	raised  [game.MaxLanes]string
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

// Input records that lane saw an input at show time now.
func (m *Monitor) Input(lane int, now int64) {
	if lane >= 0 && lane < len(m.frames) {
		m.last[lane] = max(m.last[lane], now)
		m.count[lane]++
	}
}

// Check returns the alarms standing at show time now and, separately, those raised by this call
// (to log once). runningSince is the show time the round started running (0: not running);
// health is the Reader's (nil: no frames are read).
func (m *Monitor) Check(now, runningSince int64, health []Health) (standing, raised []Alarm) {
	for lane := range m.frames {
		reason := ""
		for _, f := range m.frames[lane] {
			if f < len(health) && !health[f].Connected {
				reason = fmt.Sprintf("touch frame %q lost", m.names[f]) // the HUD and the log say why
				break
			}
		}
		if reason == "" && runningSince > 0 && now-max(m.last[lane], runningSince) > m.silence {
			reason = fmt.Sprintf("no touch for %d s", (now-max(m.last[lane], runningSince))/1_000_000)
		}
		if reason == "" {
			m.raised[lane] = ""
			continue
		}
		a := Alarm{Lane: lane, Reason: reason + " — takeover: " + m.hint(lane)}
		standing = append(standing, a)
		if m.raised[lane] == "" {
			raised = append(raised, a)
		}
		m.raised[lane] = reason
	}
	return standing, raised
}

// Inputs returns how many inputs lane has seen.
func (m *Monitor) Inputs(lane int) int64 { return m.count[lane] }

// LastInput returns the show time of lane's last input (0: none yet).
func (m *Monitor) LastInput(lane int) int64 { return m.last[lane] }
