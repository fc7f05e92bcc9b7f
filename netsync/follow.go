package netsync

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"
	"github.com/rs/zerolog"

	"tapwall/game"
)

// FollowVersion is the version of the follow stream from a primary to its hot standby
// (GET /follow on the primary's control server; docs/protocol.md, "Follow stream").
const FollowVersion = 1

// Follow message types. A standby sends hello, then acks; the primary answers with a snapshot
// (or refused), then one tick record per stepped tick and a beat at least every HeartbeatEvery.
const (
	FollowHello    = "hello"    // standby → primary: version and config view
	FollowAck      = "ack"      // standby → primary: every tick up to Tick received
	FollowSnapshot = "snapshot" // primary → standby: the show's base and every tick since
	FollowTick     = "tick"     // primary → standby: one stepped tick
	FollowBeat     = "beat"     // primary → standby: the last tick stepped, at least every 100 ms
	FollowRefused  = "refused"  // primary → standby: a wrong version or config; then close
	FollowDropped  = "dropped"  // primary → standby: it fell behind; rejoin with a fresh snapshot
)

// Follow refusal codes.
const (
	FollowCodeVersion = "version" // another follow version
	FollowCodeConfig  = "config"  // the show's config differs (Message names the first key)
	FollowCodeRole    = "role"    // the show asked is not a primary
	FollowCodeBusy    = "busy"    // the primary cannot take a snapshot now (frames frozen)
)

// HeartbeatEvery is how often the primary tells its standbys the last tick it stepped: a standby
// counts the primary as silent when that tick stops advancing.
const HeartbeatEvery = 100 * time.Millisecond

// MaxFollowMessage bounds a follow message: a snapshot holds every tick since the round began.
const MaxFollowMessage = 256 << 20

// Errors of the follow stream.
var (
	// ErrFollowRefused is returned by the standby's client when the primary refuses it: a wrong
	// version or a different config (the error names the first key that differs).
	ErrFollowRefused = errors.New("netsync: primary refused this standby")
	// ErrFollowDropped is returned when the primary dropped the standby (it fell behind).
	ErrFollowDropped = errors.New("netsync: primary dropped this standby")
)

// FollowMsg is every message of the follow stream; Type says which fields are set.
type FollowMsg struct {
	Type    string          `json:"type"`
	Version int             `json:"version,omitempty"`
	View    json.RawMessage `json:"view,omitempty"` // hello, snapshot: the config's show view
	Code    string          `json:"code,omitempty"`
	Message string          `json:"message,omitempty"`
	Tick    int64           `json:"tick,omitempty"`    // ack, beat: a tick; tick: the tick stepped
	SentUS  int64           `json:"sent_us,omitempty"` // the primary's show clock when it sent this
	// Snapshot.
	Wall     string         `json:"wall,omitempty"`
	ShowID   string         `json:"show_id,omitempty"` // the show followed: a primary restarted is another show
	Epoch    uint64         `json:"epoch,omitempty"`
	Rate     int            `json:"rate,omitempty"`
	OriginUS int64          `json:"origin_us,omitempty"` // the primary's show time of tick 0
	Base     *game.ShowBase `json:"base,omitempty"`
	Ticks    []FollowMsg    `json:"ticks,omitempty"` // the tick records since the base
	// Tick record (Type tick): the record itself.
	TickRecord
}

// TickRecord is one stepped tick as the primary stepped it: the inputs it applied (input lines,
// with their tick), the round it began (and whether a backend start scheduled it), and the show's
// hash after it.
type TickRecord struct {
	T      int64             `json:"t,omitempty"`
	Skip   int64             `json:"skip,omitempty"` // in a snapshot's log: the Skip ticks before T had no inputs
	Inputs []json.RawMessage `json:"in,omitempty"`
	Began  *game.RoundParams `json:"began,omitempty"`
	Sched  bool              `json:"sched,omitempty"`
	Hash   string            `json:"hash,omitempty"`
}

// AppendTickRecord appends tick's record as the primary sends it: {"type":"tick",...}; skip > 0
// says the skip ticks before it had no inputs (a snapshot's compacted log). It allocates nothing
// when b has room (began is rare and marshalled).
func AppendTickRecord(b []byte, tick, sentUS, skip int64, in []game.Input, began *game.RoundParams, sched bool, hash uint64) []byte {
	b = append(b, `{"type":"tick","t":`...)
	b = strconv.AppendInt(b, tick, 10)
	b = append(b, `,"sent_us":`...)
	b = strconv.AppendInt(b, sentUS, 10)
	if skip > 0 {
		b = append(b, `,"skip":`...)
		b = strconv.AppendInt(b, skip, 10)
	}
	if len(in) > 0 {
		b = append(b, `,"in":[`...)
		for i := range in {
			if i > 0 {
				b = append(b, ',')
			}
			b = game.AppendInputJSON(b, tick, &in[i])
		}
		b = append(b, ']')
	}
	if began != nil {
		p, _ := json.Marshal(began)
		b = append(append(b, `,"began":`...), p...)
		if sched {
			b = append(b, `,"sched":true`...)
		}
	}
	b = append(b, `,"hash":"`...)
	b = game.AppendHash(b, hash)
	return append(b, `"}`...)
}

// DecodeFollow parses one follow message, refusing unknown fields.
func DecodeFollow(b []byte) (FollowMsg, error) {
	var m FollowMsg
	d := json.NewDecoder(bytes.NewReader(b))
	d.DisallowUnknownFields()
	if err := d.Decode(&m); err != nil {
		return m, fmt.Errorf("not a follow message: %v", err)
	}
	if m.Type == "" {
		return m, errors.New(`not a follow message: no "type"`)
	}
	return m, nil
}

// FollowClient is the standby's side of the follow stream: it dials the primary's /follow, says
// hello, hands the snapshot and every tick record to the show (Messages), acknowledges every tick
// as soon as its reader has it, and tracks the primary's heartbeat and clock. After a drop or a
// lost connection it dials again (a rejoin gets a fresh snapshot) until its context ends. Run
// blocks; the other methods are safe from any goroutine and never block.
type FollowClient struct {
	url   string
	token string
	view  []byte
	log   zerolog.Logger
	msgs  chan FollowMsg
	acked atomic.Int64

	mu        sync.Mutex
	lastTick  int64 // the primary's last stepped tick, by its beats and records
	tickAt    int64 // local show time that tick was last seen advancing
	offsets   [64]offsetSample
	noff      int
	state     string // "connecting", "following", "dropped: ...", "down: ..."
	dropped   bool   // the primary dropped this standby and no fresh snapshot has come since
	fatal     error
	connected bool
	local     func() int64
	ackWake   chan struct{}
}

type offsetSample struct{ at, off int64 }

// FollowBuffer is how many messages the standby's reader may hold for its show: seconds of ticks.
const FollowBuffer = 8192

// NewFollowClient returns a client of the primary's follow stream at url (ws://HOST:PORT/follow),
// presenting token and the standby's config view; local is the standby's show clock (µs).
func NewFollowClient(url, token string, view []byte, local func() int64, log zerolog.Logger) *FollowClient {
	return &FollowClient{url: url, token: token, view: view, log: log, local: local, msgs: make(chan FollowMsg, FollowBuffer),
		state: "connecting", ackWake: make(chan struct{}, 1)}
}

// Messages delivers the snapshot (first after every connect) and the tick records, in order.
func (c *FollowClient) Messages() <-chan FollowMsg { return c.msgs }

// Fatal returns the error that ended the client for good (a refusal), or nil.
func (c *FollowClient) Fatal() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.fatal
}

// State says how the follow link is: connecting, following, dropped (rejoining), down.
func (c *FollowClient) State() (state string, connected bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.state, c.connected
}

// Dropped reports whether the primary dropped this standby and no fresh snapshot has come since:
// such a standby must rejoin, and never promotes itself.
func (c *FollowClient) Dropped() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.dropped
}

// Primary returns the primary's last stepped tick and the local show time it was last seen to
// advance (0: never).
func (c *FollowClient) Primary() (tick, at int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.lastTick, c.tickAt
}

// Offset estimates the standby's show clock minus the primary's from the messages' send times:
// the smallest difference seen in the 5 s up to the newest message (the message with the least
// delay). A primary gone silent leaves the last estimate standing: a promotion decided long after
// its last message still continues on its clock.
func (c *FollowClient) Offset() (off int64, ok bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := min(c.noff, len(c.offsets))
	if n == 0 {
		return 0, false
	}
	newest := c.offsets[(c.noff-1)%len(c.offsets)].at
	off, ok = 0, false
	for _, s := range c.offsets[:n] {
		if newest-s.at > 5_000_000 {
			continue
		}
		if !ok || s.off < off {
			off, ok = s.off, true
		}
	}
	return off, ok
}

func (c *FollowClient) setState(s string, connected bool) {
	c.mu.Lock()
	c.state, c.connected = s, connected
	c.mu.Unlock()
}

// Run follows until ctx ends or the primary refuses this standby; it blocks.
func (c *FollowClient) Run(ctx context.Context) error {
	backoff := 50 * time.Millisecond
	for {
		err := c.session(ctx)
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if errors.Is(err, ErrFollowRefused) {
			c.mu.Lock()
			c.fatal = err
			c.state = "refused: " + err.Error()
			c.connected = false
			c.mu.Unlock()
			return err
		}
		state := "down: " + err.Error()
		if errors.Is(err, ErrFollowDropped) {
			state = "dropped: " + err.Error()
			backoff = 50 * time.Millisecond
			c.mu.Lock()
			c.dropped = true
			c.mu.Unlock()
		}
		c.setState(state, false)
		c.log.Warn().Err(err).Str("primary", c.url).Msg("follow link lost; rejoining")
		select {
		case <-time.After(backoff):
		case <-ctx.Done():
			return ctx.Err()
		}
		backoff = min(2*backoff, time.Second)
	}
}

func (c *FollowClient) session(ctx context.Context) error {
	u, err := url.Parse(c.url)
	if err != nil {
		return fmt.Errorf("%w: --follow %q: %v", ErrFollowRefused, c.url, err)
	}
	h := http.Header{}
	if c.token != "" {
		h.Set("Authorization", "Bearer "+c.token)
	}
	d := websocket.Dialer{HandshakeTimeout: WriteWait}
	conn, resp, err := d.DialContext(ctx, u.String(), h)
	if err != nil {
		if resp != nil && (resp.StatusCode == http.StatusUnauthorized || resp.StatusCode == http.StatusForbidden) {
			return fmt.Errorf("%w: %s answered %s: check --control-token", ErrFollowRefused, c.url, resp.Status)
		}
		return fmt.Errorf("dial %s: %w", c.url, err)
	}
	defer conn.Close()
	// The reader stops at once when ctx ends (a promotion, a divergence): it acknowledges nothing
	// more to a primary whose ticks this show will no longer step.
	defer context.AfterFunc(ctx, func() { conn.Close() })()
	// Acks count from this session's snapshot on: a tick acknowledged in an earlier session says
	// nothing about this primary's stream (it may have restarted, its ticks from 0 again).
	c.acked.Store(-1)
	conn.SetReadLimit(MaxFollowMessage)
	conn.SetWriteDeadline(time.Now().Add(WriteWait))
	hello, _ := json.Marshal(FollowMsg{Type: FollowHello, Version: FollowVersion, View: c.view})
	if err := conn.WriteMessage(websocket.TextMessage, hello); err != nil {
		return fmt.Errorf("follow hello: %w", err)
	}
	c.setState("joining", true)
	done := make(chan struct{})
	defer close(done)
	go c.writeAcks(conn, done)
	first := true
	for {
		conn.SetReadDeadline(time.Now().Add(PongWait))
		typ, b, err := conn.ReadMessage()
		if err != nil {
			return fmt.Errorf("follow read: %w", err)
		}
		if typ != websocket.TextMessage {
			return fmt.Errorf("%w: the primary sent a binary frame: is %s a tapwall /follow?", ErrFollowRefused, c.url)
		}
		m, err := DecodeFollow(b)
		if err != nil {
			return fmt.Errorf("%w: %s sent garbage (%v): is it a tapwall primary's /follow?", ErrFollowRefused, c.url, err)
		}
		now := c.local()
		if m.SentUS != 0 {
			c.mu.Lock()
			c.offsets[c.noff%len(c.offsets)] = offsetSample{at: now, off: now - m.SentUS}
			c.noff++
			c.mu.Unlock()
		}
		switch m.Type {
		case FollowRefused:
			if m.Code == FollowCodeBusy { // the primary's frames were stalled: a passing state, rejoin
				return fmt.Errorf("the primary was busy: %s", m.Message)
			}
			return fmt.Errorf("%w: %s: %s", ErrFollowRefused, m.Code, m.Message)
		case FollowDropped:
			return fmt.Errorf("%w: %s", ErrFollowDropped, m.Message)
		case FollowSnapshot:
			if m.Version != FollowVersion {
				return fmt.Errorf("%w: the primary speaks follow version %d, this standby %d", ErrFollowRefused, m.Version, FollowVersion)
			}
			first = false
			c.seen(m.Tick-1, now)
			c.mu.Lock()
			c.state, c.connected, c.dropped = "following", true, false
			c.mu.Unlock()
		case FollowTick:
			if first {
				return fmt.Errorf("%w: a tick before the snapshot", ErrFollowRefused)
			}
			m.Tick = m.T
			c.seen(m.T, now)
		case FollowBeat:
			c.seen(m.Tick, now)
			continue
		default:
			return fmt.Errorf("%w: %s sent a %q message: is it a tapwall primary's /follow?", ErrFollowRefused, c.url, m.Type)
		}
		select {
		case c.msgs <- m:
		case <-ctx.Done():
			return ctx.Err()
		}
		if m.Type == FollowTick { // acknowledged once it is in the show's queue: every tick acked is stepped
			c.acked.Store(m.T)
			select {
			case c.ackWake <- struct{}{}:
			default:
			}
		}
	}
}

// seen notes the primary's tick; it counts as advancing only when it grows.
func (c *FollowClient) seen(tick, now int64) {
	c.mu.Lock()
	if tick > c.lastTick || c.tickAt == 0 {
		c.lastTick, c.tickAt = tick, now
	}
	c.mu.Unlock()
}

// writeAcks is the connection's only writer: the latest tick received, as soon as it arrives.
func (c *FollowClient) writeAcks(conn *websocket.Conn, done <-chan struct{}) {
	var sent int64 = -1
	t := time.NewTicker(time.Second)
	defer t.Stop()
	buf := make([]byte, 0, 64)
	for {
		select {
		case <-c.ackWake:
		case <-t.C:
		case <-done:
			return
		}
		a := c.acked.Load()
		if a == sent || a < 0 {
			continue
		}
		buf = append(buf[:0], `{"type":"ack","tick":`...)
		buf = strconv.AppendInt(buf, a, 10)
		buf = append(buf, '}')
		conn.SetWriteDeadline(time.Now().Add(WriteWait))
		if err := conn.WriteMessage(websocket.TextMessage, buf); err != nil {
			conn.Close()
			return
		}
		sent = a
	}
}
