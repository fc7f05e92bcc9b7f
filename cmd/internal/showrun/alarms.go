package showrun

import (
	"github.com/rs/zerolog"

	"tapwall/cmd/internal/control"
)

// Alarm codes, stable for scripts that read /status.
const (
	AlarmTouchLost      = "touch_lost"      // a lane's touch frame is lost
	AlarmTouchSilent    = "touch_silent"    // a running lane has seen no input for alarm_silence_ms
	AlarmLowFPS         = "low_fps"         // frame rate under render.min_fps for a second
	AlarmFrameStale     = "frame_stale"     // no frame drawn for 500 ms (raised by Status itself)
	AlarmJournal        = "journal"         // journal writes failing, or its queue over 64 MiB
	AlarmInputsDropped  = "inputs_dropped"  // the loop's input queue overflowed
	AlarmBackendDown    = "backend_down"    // the scoring backend does not answer
	AlarmOutboxFull     = "outbox_full"     // scores held in memory: the outbox queue is full
	AlarmDiskSpace      = "disk_space"      // under 1 GiB free where journals or the outbox go
	AlarmNumbering      = "round_numbering" // round numbers not confirmed by the backend
	AlarmStandby        = "standby"         // standby not following / diverged / dropped
	AlarmPlaybackEnded  = "playback_ended"  // an --evemu rehearsal has played to its end (info)
	AlarmBackendRefused = "backend_refused" // a start command from the backend was refused
)

// FrameStaleMS is how old the last drawn frame may be before /status raises frame_stale.
const FrameStaleMS = 500

// alarms is the set of standing alarms, owned by the frame goroutine; the control server sees a
// copy in the published status. Raising and clearing are logged once each.
type alarms struct {
	items []control.Alarm
	log   zerolog.Logger
	name  func(lane int) string // the lane's name, for the log
}

func (a *alarms) find(code string, lane int) int {
	for i := range a.items {
		if a.items[i].Code == code && a.items[i].Lane == lane {
			return i
		}
	}
	return -1
}

// set raises (or updates the message of) the alarm code for lane (-1: none) at show time now.
func (a *alarms) set(code string, lane int, msg string, now int64) {
	if i := a.find(code, lane); i >= 0 {
		a.items[i].Message = msg
		return
	}
	a.items = append(a.items, control.Alarm{Code: code, Lane: lane, Message: msg, SinceUS: now})
	ev := a.log.Error()
	if code == AlarmPlaybackEnded {
		ev = a.log.Info()
	}
	if lane >= 0 && a.name != nil {
		ev = ev.Str("lane_name", a.name(lane))
	}
	ev.Str("alarm", code).Int("lane", lane).Str("message", msg).Msg("alarm raised")
}

// clear ends the alarm code for lane, if it stands.
func (a *alarms) clear(code string, lane int) {
	if i := a.find(code, lane); i >= 0 {
		a.log.Info().Str("alarm", code).Int("lane", lane).Msg("alarm cleared")
		a.items = append(a.items[:i], a.items[i+1:]...)
	}
}

// setIf raises the alarm when on, and clears it otherwise.
func (a *alarms) setIf(on bool, code string, lane int, msg string, now int64) {
	if on {
		a.set(code, lane, msg, now)
	} else {
		a.clear(code, lane)
	}
}

// has reports whether the alarm code stands for lane.
func (a *alarms) has(code string, lane int) bool { return a.find(code, lane) >= 0 }
