// Package control is the show's control server (`tapwall run --control ADDR`): health, status,
// Prometheus metrics, the operator console page with its live data, and the console's actions.
// It runs on its own goroutines and only ever reads a published snapshot of the show, so it
// answers even while the frame loop is frozen.
package control

import (
	"context"
	"errors"
	"net/http"
)

// Status is GET /status: one JSON object describing the show now. The fields named by the issue
// "Operator console" are a contract (scripts read them); the console page reads the rest.
type Status struct {
	Role           string  `json:"role"`              // primary (a normal show), standby, diverged, fenced
	Wall           string  `json:"wall"`              // wall id
	Epoch          uint64  `json:"epoch"`             // fencing epoch; 1 for a normal show
	Round          uint32  `json:"round"`             // current round, 0 before the first
	Phase          string  `json:"phase"`             // idle|countdown|running|paused|finished|aborted
	Tick           int64   `json:"tick"`              // show tick (the next to be stepped)
	PID            int     `json:"pid"`               // the window process
	Outbox         int     `json:"outbox"`            // score events not yet acknowledged (0 without backend)
	LagTicks       int64   `json:"lag_ticks"`         // ticks the loop owes the show clock
	FPS            float64 `json:"fps"`               // frames drawn per second, last second
	FrameP99MS     float64 `json:"frame_p99_ms"`      // frame period, p99 of the recent frames
	LastFrameAgeMS int64   `json:"last_frame_age_ms"` // since the last frame was drawn: a frozen frame shows here
	Alarms         []Alarm `json:"alarms"`            // standing alarms, oldest first
	Frames         []Frame `json:"frames"`            // touch frames
	Backend        string  `json:"backend"`           // link state ("up", "down: why", ...) or "" without backend
	Control        string  `json:"control"`           // the control server's bound address

	// Standby (issue "Hot standby").
	Following      string `json:"following"`        // the primary's /follow URL ("" on a primary)
	FollowLagTicks int64  `json:"follow_lag_ticks"` // ticks behind the primary (0 on a primary)

	// The console's extras.
	Game          string           `json:"game"`      // the round's game
	NextGame      string           `json:"next_game"` // the game the next round plays
	TickRate      int              `json:"tick_rate"`
	TPS           float64          `json:"tps"`
	ShowUS        int64            `json:"show_us"`        // show clock now
	RenderScale   float64          `json:"render_scale"`   // the wall's current render scale
	LateInputs    int64            `json:"late_inputs"`    // inputs that arrived after their tick
	DroppedInputs int64            `json:"dropped_inputs"` // inputs dropped by a full loop queue
	Queued        int              `json:"queued"`         // inputs waiting for their tick
	Inputs        map[string]int64 `json:"inputs"`         // inputs per source since start
	InputRates    map[string]int64 `json:"input_rates"`    // inputs per source per second, last second
	Filters       map[string]int64 `json:"filters"`        // touch filters' counters
	WallMM        [2]int32         `json:"wall_mm"`        // wall width and height, for the map
	Lanes         []Lane           `json:"lanes"`          // every lane
	Selected      int              `json:"selected"`       // the keyboard's selected lane (0-based)
	Prompt        *Prompt          `json:"prompt"`         // a question waiting for confirmation, or null
	AdjustStep    int32            `json:"adjust_step"`    // keyboard.adjust_step: the console's score ± buttons use it
	Help          []string         `json:"help"`           // key help from the active keymap
	Link          *Link            `json:"link"`           // the backend link, or null without backend
	Journal       string           `json:"journal"`        // the journal being written, or its state
	Playback      string           `json:"playback"`       // --evemu rehearsal state, or ""
	Keyboards     map[string]bool  `json:"keyboards"`      // desk keyboards: connected?
	Attract       bool             `json:"attract"`        // the attract screen is on the wall
	OnWall        string           `json:"on_wall"`        // operator.on_wall
}

// Alarm is one standing alarm.
type Alarm struct {
	Code    string `json:"code"`     // stable identifier, e.g. "touch_lost", "low_fps"
	Lane    int    `json:"lane"`     // 0-based lane, or -1 when the alarm is not about a lane
	Message string `json:"message"`  // for people: what is wrong and what to do
	SinceUS int64  `json:"since_us"` // show time it was raised
}

// Frame is one touch frame's health.
type Frame struct {
	Name      string `json:"name"`
	Connected bool   `json:"connected"`
	Events    int64  `json:"events"`
	Path      string `json:"path,omitempty"`
	Error     string `json:"error,omitempty"` // why it is not connected
	Rate      int64  `json:"rate"`            // events per second, last second
	LastAgoMS int64  `json:"last_ago_ms"`     // since its last event (-1: none yet)
}

// Lane is one lane for the console: its score, mode and health.
type Lane struct {
	Index     int      `json:"index"` // 0-based, as in the journal
	Name      string   `json:"name"`  // the contestant's name, or the lane's
	Score     int64    `json:"score"`
	Rank      int      `json:"rank,omitempty"` // when the round is finished
	Keyboard  bool     `json:"keyboard"`       // in keyboard mode
	Cursor    [2]int32 `json:"cursor"`         // the keyboard cursor, wall mm
	Rect      [4]int32 `json:"rect"`           // x, y, width, height in wall mm
	InputRate int64    `json:"input_rate"`     // inputs per second, last second
	LastAgoMS int64    `json:"last_ago_ms"`    // since its last input (-1: none yet)
	Latency   Latency  `json:"latency"`        // input-to-frame latency
}

// Latency is input-to-frame latency of one lane over its recent inputs, in milliseconds.
type Latency struct {
	P50   float64 `json:"p50_ms"`
	P99   float64 `json:"p99_ms"`
	Max   float64 `json:"max_ms"`
	Count int64   `json:"count"`
	// FrameP99 is the p99 of the frame periods (each the time since the frame before it) of the
	// frames that showed these inputs. An input waits at most for its tick to end and then for the
	// next frame: its latency is under its frame's period plus one tick, so P99 stays under
	// FrameP99 plus one tick; more says inputs wait beyond that (a frame's step budget ran out).
	FrameP99 float64 `json:"frame_p99_ms"`
}

// Prompt is a question waiting for confirmation.
type Prompt struct {
	Text   string `json:"text"`
	LeftMS int64  `json:"left_ms"`
	Action string `json:"action"` // abort, quit, adjust
}

// Link is the backend link's state.
type Link struct {
	State       string  `json:"state"` // up, down, fenced, wall_in_use...
	URL         string  `json:"url"`
	RTTMS       float64 `json:"rtt_ms"`
	OffsetUS    int64   `json:"offset_us"`
	Outbox      int     `json:"outbox"`
	OldestAgeMS int64   `json:"oldest_age_ms"`
	Reconnects  int64   `json:"reconnects"`
	LastError   string  `json:"last_error,omitempty"`
}

// Show is what the control server needs from the running show. Every method is safe to call from
// any goroutine and never waits on the frame loop, except Input, which waits (bounded by ctx) for
// the frame loop to take the input.
type Show interface {
	// Status returns the show's state now (last_frame_age_ms computed at the call).
	Status() Status
	// Input applies one console input at the next tick and returns that tick. line is one JSON
	// object, an input-file line without "tick" (e.g. {"action":"takeover","lane":2,"on":true,
	// "source":"console"}): the server has checked that it is an object with "action" (or "kind"),
	// has no "tick", removed "confirm" (destructive actions are confirmed before they get here)
	// and set "source":"console". Besides the input-file actions the console sends next_game,
	// quit, attract and names ({"action":"names","names":[...]}): the show decides which it takes.
	// A malformed line or an unknown action is an error wrapping ErrBadInput (answered 400); an
	// input the show refuses now (a standby) wraps ErrNotNow (409); when ctx ends first (the frame
	// loop did not take it) it returns ctx's error (503).
	Input(ctx context.Context, line []byte) (tick int64, err error)
	// Metrics serves the show's Prometheus metrics.
	Metrics() http.Handler
}

// ErrBadInput is wrapped by Show.Input's errors about a malformed console input (answered 400).
var ErrBadInput = errors.New("control: bad input")
