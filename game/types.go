// Package game is tapwall's deterministic core: rounds, the games played in them, score events,
// the state hash, the round journal and the clock-driven tick loop.
//
// It is a pure function of (config, seed, inputs per tick): it imports no other tapwall package, no
// Ebiten, never reads the clock, starts no goroutine, never ranges over a map and keeps no floats in
// its state. Wall coordinates are integer millimetres (origin top-left, x right, y down); time is a
// tick number. Nothing in this package is safe for concurrent use: one goroutine owns a Round.
package game

import "fmt"

// Kind is what an input does: a touch phase or an operator action.
type Kind uint8

// Input kinds. Touch kinds carry a contact and a wall position; actions carry neither.
const (
	KindDown Kind = iota + 1
	KindMove
	KindUp
	KindCancel
	KindStart
	KindPause
	KindResume
	KindAbort
	// KindTakeover turns keyboard mode of lane Lane on (Value 1) or off (Value 0): while on, touches
	// from the wall in that lane are ignored (config keyboard.ignore_touch) and the operator taps.
	KindTakeover
	// KindZoneTap taps the centre of zone Value (1..9, laid out as a numeric keypad: 7 8 9 on top)
	// of lane Lane: a touch down and up there, scored like any touch.
	KindZoneTap
	// KindAdjust changes lane Lane's score by Value: a ScoreEvent with reason "operator".
	KindAdjust
	// KindGame chooses the game of the next round: Value indexes Games. Rounds ignore it.
	KindGame
	// KindNames sets the contestants' names, lane by lane (Names), for the round in play and the
	// rounds after it. Names are shown on the wall and journaled; they never change a score.
	KindNames
	// KindAttract puts the attract screen on the wall (title, next game, autoplay) once no round is
	// in play; the next start takes it off.
	KindAttract
	// NumKinds is the number of kinds, for per-kind counters.
	NumKinds
)

var kindNames = [...]string{"", "down", "move", "up", "cancel", "start", "pause", "resume", "abort",
	"takeover", "zone_tap", "adjust", "game", "names", "attract"}

// String returns the name used in input files and journals ("down", "start", ...).
func (k Kind) String() string {
	if int(k) < len(kindNames) && k != 0 {
		return kindNames[k]
	}
	return fmt.Sprintf("kind(%d)", k)
}

// IsTouch reports whether k is a touch phase (down, move, up, cancel).
func (k Kind) IsTouch() bool { return k >= KindDown && k <= KindCancel }

// ParseKind maps a name from an input file to its Kind; ok is false for an unknown name.
func ParseKind(s string) (Kind, bool) {
	for i := 1; i < len(kindNames); i++ {
		if kindNames[i] == s {
			return Kind(i), true
		}
	}
	return 0, false
}

// Source is where an input came from. It is journaled and counted but never changes the outcome.
type Source uint8

// Input sources.
const (
	SourceScript   Source = iota // a scripted input file (sim, --inputs)
	SourceMouse                  // the window's mouse, standing in for a touch
	SourceTouch                  // a touch frame read through evdev
	SourceKeyboard               // an operator's keyboard
	SourceBackend                // a show command from the scoring backend
	SourceBot                    // the built-in autoplay player (--autoplay, the attract screen)
	SourceConsole                // the operator console (POST /api/input)
	NumSources                   // number of sources, for per-source counters
)

var sourceNames = [...]string{"script", "mouse", "touch", "keyboard", "backend", "bot", "console"}

// String returns the source's name as journaled.
func (s Source) String() string {
	if int(s) < len(sourceNames) {
		return sourceNames[s]
	}
	return fmt.Sprintf("source(%d)", s)
}

// ParseSource maps a journaled source name back to its Source.
func ParseSource(s string) (Source, bool) {
	for i, n := range sourceNames {
		if n == s {
			return Source(i), true
		}
	}
	return 0, false
}

// Input is one thing that happens in a tick: a touch phase of a contact at a wall position, or an
// operator action. TimeUS is the show-clock timestamp in microseconds that the Loop maps to a tick;
// the Round itself ignores it. Lane and Value are the arguments of the lane actions (see the Kinds);
// Names is the argument of KindNames (nil for every other kind, so inputs stay allocation-free).
type Input struct {
	Kind    Kind
	Source  Source
	Lane    int8
	Contact int32
	XMM     int32
	YMM     int32
	Value   int32
	TimeUS  int64
	Names   []string
}

// KeyboardContact is the contact id of keyboard taps in lane: above every id a touch frame or an
// input file uses, so a tap never ends a finger's contact.
func KeyboardContact(lane int) int32 { return 1<<30 + int32(lane) }

// BotContact is the contact id of the autoplay player's taps in lane: apart from touches and keys.
func BotContact(lane int) int32 { return 1<<30 + 1<<20 + int32(lane) }

// MaxNameLen bounds one contestant's name, in bytes: it must fit a lane header read from 10 m.
const MaxNameLen = 40

// MaxAdjust bounds one operator score adjustment.
const MaxAdjust = 1_000_000

// TickInput is an input tagged with the tick it is applied in: a line of an input file or journal.
type TickInput struct {
	Tick int64
	Input
}

// Phase is where a round is in its life.
type Phase uint8

// Round phases: idle -> countdown -> running -> finished, plus paused and aborted.
const (
	PhaseIdle Phase = iota
	PhaseCountdown
	PhaseRunning
	PhasePaused
	PhaseFinished
	PhaseAborted
)

var phaseNames = [...]string{"idle", "countdown", "running", "paused", "finished", "aborted"}

// String returns the phase's lower-case name.
func (p Phase) String() string {
	if int(p) < len(phaseNames) {
		return phaseNames[p]
	}
	return fmt.Sprintf("phase(%d)", p)
}

// Over reports whether the round has ended, finished or aborted.
func (p Phase) Over() bool { return p == PhaseFinished || p == PhaseAborted }

// Score reasons, as carried by ScoreEvent.Reason.
const (
	ReasonTarget   = "target"   // a target hit in the targets game
	ReasonPacket   = "packet"   // a red packet caught in the rain game
	ReasonGolden   = "golden"   // a golden packet caught in the rain game
	ReasonOperator = "operator" // an operator's score adjustment
)

// ScoreEvent is one change of one lane's score. (Wall, Round, Seq) is its unique key; Seq is gapless
// per round starting at 1. Total is the lane's score after Delta. ShowUS is the show time of its
// tick: the round's StartUS (fixed when the round began, journaled in its header) plus the tick's
// offset, so a round's events are a pure function of its journal, byte for byte.
type ScoreEvent struct {
	Wall   string `json:"wall"`
	Round  uint32 `json:"round"`
	Seq    uint64 `json:"seq"`
	Tick   int64  `json:"tick"`
	Lane   int    `json:"lane"`
	Delta  int64  `json:"delta"`
	Total  int64  `json:"total"`
	Reason string `json:"reason"`
	ShowUS int64  `json:"show_us"`
}
