package netsync

import (
	"encoding/json"
	"errors"
	"fmt"

	"tapwall/game"
)

// ProtocolVersion is the version spoken (docs/protocol.md).
const ProtocolVersion = 1

// MaxMessage is the largest message either side accepts: a score is ~200 bytes, a hello with a
// thousand rounds ~40 KiB.
const MaxMessage = 64 << 10

// Message types.
const (
	TypeHello    = "hello"
	TypeWelcome  = "welcome"
	TypeScore    = "score"
	TypeAck      = "ack"
	TypeTimeReq  = "time_req"
	TypeTimeResp = "time_resp"
	TypeStart    = "start"
	TypeAbort    = "abort"
	TypeError    = "error"
	// TypeStatus is the wall's state for the backend's pages (overlay, director): sent on every
	// change and at least every second.
	TypeStatus = "status"
)

// Error codes of an error message.
const (
	CodeBadToken   = "bad_token"
	CodeBadVersion = "bad_version"
	CodeNeedHello  = "need_hello"
	CodeBadJSON    = "bad_json"
	CodeBadEvent   = "bad_event"
	CodeGap        = "gap"
	CodeTooBig     = "too_big"
	CodeStore      = "store"
	// CodeRoundUsed refuses a start for a round number the backend already holds or has started.
	CodeRoundUsed = "round_used"
	// CodeWallInUse refuses a second connection of a wall at the same epoch while the first lives.
	CodeWallInUse = "wall_in_use"
	// CodeFenced refuses a hello or score with an epoch lower than the highest the wall has had.
	CodeFenced = "fenced"
	// CodeConflict refuses an event whose key is stored with different content.
	CodeConflict = "conflict"
)

// Errors of the netsync package.
var (
	// ErrOutboxFull is returned by Submit when the outbox's queue is full; the caller keeps the event.
	ErrOutboxFull = errors.New("netsync: outbox queue full")
	// ErrCorrupt is wrapped by errors about an outbox file that cannot be read at all.
	ErrCorrupt = errors.New("netsync: outbox corrupt")
	// ErrRejected is wrapped by errors the backend sent.
	ErrRejected = errors.New("netsync: backend rejected")
	// ErrRoundUsed is wrapped by Client.CheckStart's error for a round number already used.
	ErrRoundUsed = errors.New("netsync: round number already used")
)

// RoundSeq is a round and a seq in it: what has been acknowledged.
type RoundSeq struct {
	Round uint32 `json:"round"`
	Seq   uint64 `json:"seq"`
}

// Message is every message of the protocol; Type says which fields are set.
type Message struct {
	Type    string     `json:"type"`
	Version int        `json:"version,omitempty"`
	Wall    string     `json:"wall,omitempty"`
	Token   string     `json:"token,omitempty"`
	Acked   []RoundSeq `json:"acked,omitempty"`
	Round   uint32     `json:"round,omitempty"`
	Seq     uint64     `json:"seq,omitempty"`
	Lane    *int       `json:"lane,omitempty"`
	Delta   int64      `json:"delta,omitempty"`
	Total   int64      `json:"total,omitempty"`
	Tick    int64      `json:"tick,omitempty"`
	Reason  string     `json:"reason,omitempty"`
	ShowUS  int64      `json:"show_us,omitempty"`
	T1      int64      `json:"t1,omitempty"`
	T2      int64      `json:"t2,omitempty"`
	T3      int64      `json:"t3,omitempty"`
	Game    string     `json:"game,omitempty"`
	Seed    uint64     `json:"seed,omitempty"`
	AtUS    int64      `json:"at_us,omitempty"`
	Code    string     `json:"code,omitempty"`
	Message string     `json:"message,omitempty"`
	// Epoch is the wall's fencing epoch in a hello (absent: 1); a promoted standby has a higher one.
	Epoch uint64 `json:"epoch,omitempty"`
	// MaxRound, in a welcome, is the highest round of the wall the backend holds or has started.
	MaxRound uint32 `json:"max_round,omitempty"`
	// Names, in a start, are the contestants' names per lane (optional).
	Names []string `json:"names,omitempty"`
	// Replace, in a start, allows it to end a round that is still running.
	Replace bool `json:"replace,omitempty"`
	// Status is the wall's state, in a status message.
	Status *WallStatus `json:"status,omitempty"`
}

// WallStatus is what a wall reports of its show in a status message: enough for a broadcast
// overlay and a director's page to show names, scores, phase and timer without the wall's window.
type WallStatus struct {
	Role        string       `json:"role"`         // primary, standby, fenced, diverged
	Epoch       uint64       `json:"epoch"`        // the wall's fencing epoch
	Round       uint32       `json:"round"`        // 0 before the first round
	Phase       string       `json:"phase"`        // idle|countdown|running|paused|finished|aborted, or attract
	Game        string       `json:"game"`         // the round's game
	NextGame    string       `json:"next_game"`    // the game the next round will play
	Tick        int64        `json:"tick"`         // show tick
	ShowUS      int64        `json:"show_us"`      // show time of that tick (the backend's clock)
	CountdownMS int64        `json:"countdown_ms"` // countdown left
	LeftMS      int64        `json:"left_ms"`      // running time left
	LengthMS    int64        `json:"length_ms"`    // the round's running length
	Lanes       []LaneStatus `json:"lanes"`
}

// LaneStatus is one lane in a WallStatus.
type LaneStatus struct {
	Name     string `json:"name"`               // the contestant's name, or the lane's
	Score    int64  `json:"score"`              // as the wall shows it
	Rank     int    `json:"rank,omitempty"`     // when the round is finished (ties share a rank)
	Keyboard bool   `json:"keyboard,omitempty"` // driven by the keyboard override
}

// Event is a ScoreEvent as the outbox stores it and the wire carries it: the game's event exactly,
// show time of its tick included, so a round's events can be rebuilt from its journal.
type Event = game.ScoreEvent

// ScoreMessage returns the score message for e.
func ScoreMessage(e Event) Message {
	lane := e.Lane
	return Message{Type: TypeScore, Wall: e.Wall, Round: e.Round, Seq: e.Seq, Lane: &lane, Delta: e.Delta,
		Total: e.Total, Tick: e.Tick, Reason: e.Reason, ShowUS: e.ShowUS}
}

// EventOf returns the event a score message carries.
func EventOf(m *Message) (Event, error) {
	if m.Lane == nil || m.Round < 1 || m.Seq < 1 || *m.Lane < 0 || *m.Lane >= game.MaxLanes || m.Wall == "" {
		return Event{}, fmt.Errorf("score needs wall, round >= 1, seq >= 1 and lane 0..%d", game.MaxLanes-1)
	}
	return Event{Wall: m.Wall, Round: m.Round, Seq: m.Seq, Tick: m.Tick, Lane: *m.Lane,
		Delta: m.Delta, Total: m.Total, Reason: m.Reason, ShowUS: m.ShowUS}, nil
}

// Decode parses one message, refusing unknown fields so a typo is an error, not a silent zero.
func Decode(b []byte) (Message, error) {
	var m Message
	if err := json.Unmarshal(b, &m); err != nil {
		return m, fmt.Errorf("not a protocol message: %v", err)
	}
	if m.Type == "" {
		return m, errors.New(`not a protocol message: no "type"`)
	}
	return m, nil
}
