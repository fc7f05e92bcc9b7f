package netsync

import (
	"bytes"
	"context"
	"encoding/json"
	"net"
	"net/http"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/rs/zerolog"

	"tapwall/game"
)

// genEvent is the seq-th event of a deterministic round: lane seq%4, delta seq%7+1.
func genEvent(wall string, round uint32, seq uint64) Event {
	return game.ScoreEvent{Wall: wall, Round: round, Seq: seq, Tick: int64(seq), Lane: int(seq % 4),
		Delta: int64(seq%7 + 1), Reason: game.ReasonTarget, ShowUS: int64(seq) * 1000}
}

// AdjustRound plays round `round` of wall for ticks ticks (at most the default round's 3600) with
// an operator adjustment of every one of the 4 lanes in every tick, so 4 events a tick, writes its
// journal to path (fsynced), and returns the events in seq order as the round made them. The
// round's StartUS is a real show time, so show_us is not trivially the tick.
func AdjustRound(t testing.TB, path, wall string, round uint32, ticks int64) []Event {
	t.Helper()
	cfg := game.DefaultConfig()
	r, err := game.NewRound(&cfg, game.RoundParams{Wall: wall, Round: round, Seed: 9, Running: true, StartUS: 1_760_000_000_123_456})
	if err != nil {
		t.Fatal(err)
	}
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rec, err := game.NewRecorder(f, r, cfg.Loop.HashEvery, true)
	if err != nil {
		t.Fatal(err)
	}
	var evs []Event
	in := make([]game.Input, 4)
	for tick := int64(0); tick < ticks; tick++ {
		for lane := range in {
			in[lane] = game.Input{Kind: game.KindAdjust, Source: game.SourceKeyboard, Lane: int8(lane), Value: int32(tick%7+1) * int32(lane+1)}
		}
		rec.Step(in)
		evs = append(evs, r.Events()...)
	}
	if err := rec.Close(); err != nil {
		t.Fatal(err)
	}
	if err := f.Sync(); err != nil {
		t.Fatal(err)
	}
	return evs
}

// SetSegmentBytes makes o start a new segment every n bytes (tests: many segments, few events).
func SetSegmentBytes(o *Outbox, n int64) { o.segBytes = n }

// Pending returns every sendable event o holds, in sending order.
func Pending(o *Outbox) []Event {
	evs, _ := o.After(0, 1<<30, nil)
	return evs
}

// runOutbox runs o until the test ends (or stop is called) and returns stop, which returns Run's error.
func runOutbox(t testing.TB, o *Outbox) (stop func() error) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- o.Run(ctx) }()
	var once sync.Once
	var err error
	stop = func() error {
		once.Do(func() { cancel(); err = <-done })
		return err
	}
	t.Cleanup(func() { stop() })
	return stop
}

// logBuffer is a logger whose output the test reads.
type logBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func (l *logBuffer) logger() zerolog.Logger { return zerolog.New(l) }

// fakeBackend is a backend on a real loopback WebSocket that speaks the protocol as the test
// scripts it, for the wall-side behaviours the reference hub (netsync/hub) does not produce on
// its own (wall_in_use, fenced, max_round, status): hellos and statuses are recorded, scores are
// stored and acknowledged like scorehub does.
type fakeBackend struct {
	url string
	// reply answers the n-th hello (from 0): a welcome or an error; nil: a welcome.
	reply func(n int, hello Message) Message
	// afterWelcome, if set, may send messages on the n-th connection after the welcome.
	afterWelcome func(n int, send func(Message))

	mu       sync.Mutex
	hellos   []Message
	statuses []WallStatus
	stored   map[uint32]uint64
}

func startFake(t testing.TB, reply func(n int, hello Message) Message) *fakeBackend {
	t.Helper()
	fb := &fakeBackend{reply: reply, stored: map[uint32]uint64{}}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		wg.Add(1)
		defer wg.Done()
		fb.serve(w, r)
	})}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close(); wg.Wait() })
	fb.url = "ws://" + ln.Addr().String() + "/ws"
	return fb
}

func (fb *fakeBackend) serve(w http.ResponseWriter, r *http.Request) {
	conn, err := (&websocket.Upgrader{}).Upgrade(w, r, nil)
	if err != nil {
		return
	}
	defer conn.Close()
	var hello Message
	if err := conn.ReadJSON(&hello); err != nil {
		return
	}
	fb.mu.Lock()
	n := len(fb.hellos)
	fb.hellos = append(fb.hellos, hello)
	fb.mu.Unlock()
	reply := Message{Type: TypeWelcome, Version: ProtocolVersion}
	if fb.reply != nil {
		reply = fb.reply(n, hello)
	}
	var wmu sync.Mutex
	send := func(m Message) {
		wmu.Lock()
		defer wmu.Unlock()
		conn.SetWriteDeadline(time.Now().Add(time.Second))
		conn.WriteJSON(m)
	}
	send(reply)
	if reply.Type == TypeError {
		conn.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.ClosePolicyViolation, reply.Code), time.Now().Add(time.Second))
		return
	}
	if fb.afterWelcome != nil {
		go fb.afterWelcome(n, send)
	}
	for {
		_, b, err := conn.ReadMessage()
		if err != nil {
			return
		}
		var m Message
		if json.Unmarshal(b, &m) != nil {
			continue
		}
		switch m.Type {
		case TypeScore:
			fb.mu.Lock()
			if m.Seq == fb.stored[m.Round]+1 {
				fb.stored[m.Round] = m.Seq
			}
			seq := fb.stored[m.Round]
			fb.mu.Unlock()
			send(Message{Type: TypeAck, Wall: m.Wall, Round: m.Round, Seq: seq})
		case TypeStatus:
			fb.mu.Lock()
			if m.Status != nil {
				fb.statuses = append(fb.statuses, *m.Status)
			}
			fb.mu.Unlock()
		case TypeTimeReq:
			send(Message{Type: TypeTimeResp, T1: m.T1, T2: time.Now().UnixMicro(), T3: time.Now().UnixMicro()})
		}
	}
}

func (fb *fakeBackend) helloList() []Message {
	fb.mu.Lock()
	defer fb.mu.Unlock()
	return append([]Message(nil), fb.hellos...)
}

func (fb *fakeBackend) statusList() []WallStatus {
	fb.mu.Lock()
	defer fb.mu.Unlock()
	return append([]WallStatus(nil), fb.statuses...)
}

// startClient runs a client of o against url until the test ends; stop ends it earlier.
func startClient(t testing.TB, cfg ClientConfig) (*Client, func()) {
	t.Helper()
	if cfg.MaxBackoff == 0 {
		cfg.MaxBackoff = 100 * time.Millisecond
	}
	cl, err := NewClient(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { cl.Run(ctx); close(done) }()
	var once sync.Once
	stop := func() { once.Do(func() { cancel(); <-done }) }
	t.Cleanup(stop)
	return cl, stop
}

func hasAlarm(as []Alarm, code string, round uint32) (Alarm, bool) {
	for _, a := range as {
		if a.Code == code && a.Round == round {
			return a, true
		}
	}
	return Alarm{}, false
}
