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
)

// Errors of the netsync package.
var (
	// ErrOutboxFull is returned by Submit when the outbox's queue is full; the caller keeps the event.
	ErrOutboxFull = errors.New("netsync: outbox queue full")
	// ErrCorrupt is wrapped by errors about an outbox file that cannot be read at all.
	ErrCorrupt = errors.New("netsync: outbox corrupt")
	// ErrRejected is wrapped by errors the backend sent.
	ErrRejected = errors.New("netsync: backend rejected")
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
}

// Event is a ScoreEvent with the show time of its tick, as the outbox stores and the wire carries it.
type Event struct {
	game.ScoreEvent
	ShowUS int64 `json:"show_us"`
}

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
	return Event{ScoreEvent: game.ScoreEvent{Wall: m.Wall, Round: m.Round, Seq: m.Seq, Tick: m.Tick, Lane: *m.Lane,
		Delta: m.Delta, Total: m.Total, Reason: m.Reason}, ShowUS: m.ShowUS}, nil
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
