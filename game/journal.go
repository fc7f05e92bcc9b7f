package game

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
)

// JournalFormat is the version written in a journal header; replay refuses other versions.
const JournalFormat = 1

// ErrMismatch is returned by Replay when a recorded hash or the summary differs from the re-run.
var ErrMismatch = errors.New("game: replay mismatch")

// JournalHeader is the first line of a round journal: everything needed to rebuild the round.
type JournalHeader struct {
	Type      string   `json:"type"` // "header"
	Format    int      `json:"format"`
	Game      string   `json:"game"`
	Seed      uint64   `json:"seed"`
	TickRate  int      `json:"tick_rate"`
	Wall      string   `json:"wall"`
	Round     uint32   `json:"round"`
	Running   bool     `json:"running"`
	Countdown int64    `json:"countdown,omitempty"`
	StartUS   int64    `json:"start_us,omitempty"`
	Names     []string `json:"names,omitempty"`
	HashEvery int      `json:"hash_every"`
	Config    Config   `json:"config"`
}

// LaneScore is one lane's score in a Summary.
type LaneScore struct {
	Lane  int   `json:"lane"`
	Score int64 `json:"score"`
}

// Summary is the outcome of a round, printed by `tapwall sim` and `tapwall replay` and written as
// the journal's last line (with "type":"summary").
type Summary struct {
	Type   string      `json:"type,omitempty"`
	Game   string      `json:"game"`
	Seed   uint64      `json:"seed"`
	Ticks  int64       `json:"ticks"`
	Hash   string      `json:"hash"`
	Scores []LaneScore `json:"scores"`
	Events int         `json:"events"`
}

// FormatHash renders a state hash as 16 lower-case hex digits, as journals and summaries show it.
func FormatHash(h uint64) string { return string(AppendHash(nil, h)) }

// AppendHash appends h as FormatHash renders it; it allocates nothing when b has room.
func AppendHash(b []byte, h uint64) []byte {
	const digits = "0123456789abcdef"
	for shift := 60; shift >= 0; shift -= 4 {
		b = append(b, digits[(h>>uint(shift))&0xf])
	}
	return b
}

// Recorder steps a Round and writes its journal: header, every applied input with its tick, the
// state hash every hashEvery ticks, and a summary on Close. A nil writer records nothing but still
// counts events. Step allocates nothing. Write errors are kept and returned by Err and Close; the
// round goes on regardless, because the show must.
type Recorder struct {
	r      *Round
	w      *bufio.Writer
	every  int64
	events int
	buf    []byte
	err    error
	flush  bool
}

// NewRecorder writes the journal header for r to w (nil: no journal) and returns the recorder.
// With live, what each tick journals is flushed to w at the end of the tick (a live show's w is an
// in-memory queue that its own goroutine writes out, so this costs a copy), so a process that dies
// loses at most the lines its writer had not yet written; otherwise the journal is flushed on Close
// (sim).
func NewRecorder(w io.Writer, r *Round, hashEvery int, live bool) (*Recorder, error) {
	if hashEvery < 1 {
		hashEvery = 1
	}
	rec := &Recorder{r: r, every: int64(hashEvery), buf: make([]byte, 0, 512), flush: live}
	if w == nil {
		return rec, nil
	}
	rec.w = bufio.NewWriterSize(w, 64*1024)
	p := r.Params()
	h := JournalHeader{Type: "header", Format: JournalFormat, Game: r.GameName(), Seed: p.Seed,
		TickRate: r.TickRate(), Wall: p.Wall, Round: p.Round, Running: p.Running, Countdown: p.Countdown, StartUS: p.StartUS, Names: r.Names(), HashEvery: hashEvery,
		Config: *r.Config()}
	line, err := json.Marshal(h)
	if err != nil {
		return nil, fmt.Errorf("game: journal header: %w", err)
	}
	rec.write(append(line, '\n'))
	return rec, rec.err
}

func (rec *Recorder) write(b []byte) {
	if rec.w == nil || rec.err != nil {
		return
	}
	if _, err := rec.w.Write(b); err != nil {
		rec.err = fmt.Errorf("game: journal write: %w", err)
	}
}

// Round returns the recorded round.
func (rec *Recorder) Round() *Round { return rec.r }

// Events returns how many ScoreEvents the round has produced so far.
func (rec *Recorder) Events() int { return rec.events }

// Err returns the first journal write error, if any.
func (rec *Recorder) Err() error { return rec.err }

// Step journals in, steps the round with it and journals the hash when due.
func (rec *Recorder) Step(in []Input) {
	t := rec.r.Tick()
	if rec.w != nil {
		for i := range in {
			b := append(rec.buf[:0], `{"type":"input",`...)
			b = appendInputFields(b, t, &in[i])
			b = append(b, "}\n"...)
			rec.buf = b
			rec.write(b)
		}
	}
	rec.r.Step(in)
	rec.events += len(rec.r.Events())
	if rec.w != nil && (t+1)%rec.every == 0 {
		b := append(rec.buf[:0], `{"type":"hash","tick":`...)
		b = strconv.AppendInt(b, t, 10)
		b = append(b, `,"hash":"`...)
		b = AppendHash(b, rec.r.Hash())
		b = append(b, "\"}\n"...)
		rec.buf = b
		rec.write(b)
	}
	if rec.flush && rec.w != nil && rec.err == nil && rec.w.Buffered() > 0 {
		if err := rec.w.Flush(); err != nil {
			rec.err = fmt.Errorf("game: journal flush: %w", err)
		}
	}
}

// Summary returns the round's outcome so far.
func (rec *Recorder) Summary() Summary {
	r := rec.r
	s := Summary{Game: r.GameName(), Seed: r.Params().Seed, Ticks: r.Tick(), Hash: FormatHash(r.Hash()), Events: rec.events}
	s.Scores = make([]LaneScore, len(r.Config().Lanes))
	for i := range s.Scores {
		s.Scores[i] = LaneScore{Lane: i, Score: r.Score(i)}
	}
	return s
}

// Close writes the summary line and flushes. It does not close the underlying writer. The round
// may go on being stepped (its animations play out) but nothing more is journaled.
func (rec *Recorder) Close() error {
	if rec.w == nil {
		return nil
	}
	s := rec.Summary()
	s.Type = "summary"
	line, _ := json.Marshal(s)
	rec.write(append(line, '\n'))
	if rec.err == nil {
		if err := rec.w.Flush(); err != nil {
			rec.err = fmt.Errorf("game: journal flush: %w", err)
		}
	}
	rec.w = nil
	return rec.err
}

// ErrTruncated is returned by Replay, with the summary of what it replayed, for a journal that
// ends before its summary: cut by a crash, perhaps in the middle of a line. Everything up to the
// last whole line was replayed and checked; the error says where it stopped.
var ErrTruncated = errors.New("game: journal cut short")

// ReplayMarginSeconds is how far beyond its countdown and running length a journal's ticks may go,
// in seconds of ticks: a round paused for up to a day still replays, while a line claiming a tick
// near 2^63 is refused instead of stepping for ever.
const ReplayMarginSeconds = 24 * 3600

// maxJournalLine bounds one journal line (a header holds the whole config).
const maxJournalLine = 16 << 20

// Replay re-runs a round journal: it rebuilds the round from the header, applies every journaled
// input in its tick, and checks every recorded hash and the summary (hash, event count and every
// lane's score). It returns the re-run's summary; at the first difference it returns an error
// wrapping ErrMismatch that names the tick. A malformed journal gives an error wrapping ErrInput
// with name and line; a journal cut short replays as far as its last whole line and returns its
// summary with an error wrapping ErrTruncated.
func Replay(r io.Reader, name string) (Summary, error) {
	return replay(r, name, nil)
}

// ReplayEvents re-runs a round journal as Replay does (checking every recorded hash) and returns
// the ScoreEvents the round produced, in seq order: byte for byte those of the original run, show_us
// included. For a journal cut short (a crash) it returns the events up to its last whole tick: that
// tick's inputs may be cut too, so its events are left out. It is how a lost score event is rebuilt.
func ReplayEvents(r io.Reader, name string) ([]ScoreEvent, error) {
	var evs []ScoreEvent
	_, err := replay(r, name, func(e []ScoreEvent) { evs = append(evs, e...) })
	if err != nil && !errors.Is(err, ErrTruncated) {
		return nil, err
	}
	return evs, nil
}

// replay is Replay, handing every whole tick's ScoreEvents to onEvents when it is not nil.
func replay(r io.Reader, name string, onEvents func([]ScoreEvent)) (Summary, error) {
	br := bufio.NewReaderSize(r, 64*1024)
	var (
		rec     *Recorder
		pending []Input
		n       int
		maxTick int64
		done    bool // the summary has been read
	)
	bad := func(format string, args ...any) error {
		return fmt.Errorf("%w: %s:%d: %s", ErrInput, name, n, fmt.Sprintf(format, args...))
	}
	step := func(in []Input) {
		rec.Step(in)
		if onEvents != nil {
			if evs := rec.r.Events(); len(evs) > 0 {
				onEvents(evs)
			}
		}
	}
	stepTo := func(t int64) { // step until the round's next tick is t
		for rec.r.Tick() < t {
			step(pending)
			pending = pending[:0]
		}
	}
	checkTick := func(t int64) error {
		if t > maxTick {
			return bad("tick %d is beyond the round's countdown and length plus a day (%d): not a journal of this round", t, maxTick)
		}
		return nil
	}
	for n = 1; ; n++ {
		line, err := readLine(br)
		if err == io.EOF {
			break
		}
		if err != nil {
			return Summary{}, fmt.Errorf("%w: %s:%d: %v", ErrInput, name, n, err)
		}
		whole := len(line) > 0 && line[len(line)-1] == '\n'
		b := bytes.TrimSpace(line)
		if len(b) == 0 {
			continue
		}
		if done {
			return Summary{}, bad("a line after the summary: the summary must be the journal's last line")
		}
		var kind struct {
			Type string `json:"type"`
		}
		if err := json.Unmarshal(b, &kind); err != nil {
			if !whole && rec != nil { // the last line, cut by a crash
				onEvents = nil // the last tick's inputs may be cut: its events are not trusted
				stepTo(rec.r.Tick() + int64(min(1, len(pending))))
				return rec.Summary(), fmt.Errorf("%w: %s:%d: the last line is incomplete (cut by a crash?): replayed up to line %d, tick %d",
					ErrTruncated, name, n, n-1, rec.r.Tick()-1)
			}
			return Summary{}, bad("not a JSON object: %v", err)
		}
		if rec == nil && kind.Type != "header" {
			return Summary{}, bad("the first line must be the journal header")
		}
		switch kind.Type {
		case "header":
			if rec != nil {
				return Summary{}, bad("a second header")
			}
			var h JournalHeader
			if err := json.Unmarshal(b, &h); err != nil {
				return Summary{}, bad("bad header: %v", err)
			}
			if h.Format != JournalFormat {
				return Summary{}, bad("journal format %d; this tapwall reads format %d", h.Format, JournalFormat)
			}
			cfg := h.Config
			if err := cfg.Validate(); err != nil {
				return Summary{}, bad("config in header: %v", err)
			}
			if h.Countdown < 0 || h.Countdown > ReplayMarginSeconds*int64(cfg.Round.TickRate) {
				return Summary{}, bad("countdown %d ticks is out of range", h.Countdown)
			}
			if err := CheckNames(h.Names, len(cfg.Lanes)); err != nil {
				return Summary{}, bad("names in header: %v", err)
			}
			round, err := NewRound(&cfg, RoundParams{Wall: h.Wall, Round: h.Round, Seed: h.Seed, Game: h.Game, Running: h.Running,
				Countdown: h.Countdown, StartUS: h.StartUS, Names: h.Names})
			if err != nil {
				return Summary{}, bad("%v", err)
			}
			rate := int64(cfg.Round.TickRate)
			maxTick = h.Countdown + int64(cfg.Round.CountdownSeconds)*rate + round.Length() + ReplayMarginSeconds*rate
			rec, _ = NewRecorder(nil, round, h.HashEvery, false)
		case "input":
			var l inputLine
			if err := decodeStrict(b, &l); err != nil {
				return Summary{}, bad("%v", err)
			}
			ti, err := l.toInput(rec.r.Config())
			if err != nil {
				return Summary{}, bad("%v", err)
			}
			if err := checkTick(ti.Tick); err != nil {
				return Summary{}, err
			}
			if ti.Tick < rec.r.Tick() {
				return Summary{}, bad("input for tick %d after tick %d was recorded", ti.Tick, rec.r.Tick()-1)
			}
			stepTo(ti.Tick)
			pending = append(pending, ti.Input)
		case "hash":
			var h struct {
				Tick *int64 `json:"tick"`
				Hash string `json:"hash"`
			}
			if err := json.Unmarshal(b, &h); err != nil || h.Tick == nil || *h.Tick < rec.r.Tick() {
				return Summary{}, bad("bad hash line: want {\"type\":\"hash\",\"tick\":T,\"hash\":\"16 hex digits\"} in tick order")
			}
			if err := checkTick(*h.Tick); err != nil {
				return Summary{}, err
			}
			stepTo(*h.Tick + 1)
			if got := FormatHash(rec.r.Hash()); got != h.Hash {
				return rec.Summary(), fmt.Errorf("%w at tick %d: journal has hash %s, replay gives %s (%s:%d)",
					ErrMismatch, *h.Tick, h.Hash, got, name, n)
			}
		case "summary":
			var s Summary
			if err := json.Unmarshal(b, &s); err != nil {
				return Summary{}, bad("bad summary: %v", err)
			}
			if err := checkTick(s.Ticks); err != nil {
				return Summary{}, err
			}
			if s.Ticks < rec.r.Tick() {
				return Summary{}, bad("summary at tick %d after tick %d was replayed", s.Ticks, rec.r.Tick())
			}
			stepTo(s.Ticks)
			got := rec.Summary()
			if got.Hash != s.Hash || got.Events != s.Events {
				return got, fmt.Errorf("%w at tick %d: summary has hash %s and %d events, replay gives %s and %d",
					ErrMismatch, s.Ticks-1, s.Hash, s.Events, got.Hash, got.Events)
			}
			if !sameScores(got.Scores, s.Scores) {
				return got, fmt.Errorf("%w at tick %d: summary has scores %v, replay gives %v", ErrMismatch, s.Ticks-1, s.Scores, got.Scores)
			}
			done = true
		default:
			return Summary{}, bad("unknown line type %q: want header, input, hash or summary", kind.Type)
		}
	}
	if rec == nil {
		return Summary{}, fmt.Errorf("%w: %s: empty journal", ErrInput, name)
	}
	if done {
		return rec.Summary(), nil
	}
	// A journal cut short (the show was killed) replays as far as it goes.
	onEvents = nil // the last tick's inputs may be cut: its events are not trusted
	stepTo(rec.r.Tick() + int64(min(1, len(pending))))
	return rec.Summary(), fmt.Errorf("%w: %s: no summary after line %d: replayed up to tick %d", ErrTruncated, name, n-1, rec.r.Tick()-1)
}

// readLine returns the next line with its newline ("" and io.EOF at the end); a line longer than
// maxJournalLine is an error.
func readLine(br *bufio.Reader) ([]byte, error) {
	var line []byte
	for {
		frag, err := br.ReadSlice('\n')
		line = append(line, frag...)
		if len(line) > maxJournalLine {
			return nil, fmt.Errorf("a line longer than %d bytes", maxJournalLine)
		}
		switch {
		case err == bufio.ErrBufferFull:
			continue
		case err == io.EOF && len(line) > 0:
			return line, nil
		default:
			return line, err
		}
	}
}

func sameScores(a, b []LaneScore) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
