package netsync

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"
	"github.com/rs/zerolog"
)

// Connection defaults (gorilla's chat example's values, with a shorter ping for a stage network).
const (
	// DefaultMaxBackoff caps the reconnect backoff: a backend that comes back is found within ~2 s.
	DefaultMaxBackoff = 2 * time.Second
	// minBackoff is the first reconnect wait.
	minBackoff = 50 * time.Millisecond
	// WallInUseBackoff is the wait (jittered) after the backend refused the hello because another
	// show is connected as this wall at the same epoch: long, so the two do not knock each other
	// off; the one connected first keeps the link.
	WallInUseBackoff = 5 * time.Second
	// WriteWait bounds one write; a stalled connection is dropped and redialled.
	WriteWait = 5 * time.Second
	// PongWait is how long a silent connection is kept: three missed pings.
	PongWait = 60 * time.Second
	// PingPeriod is how often the client pings.
	PingPeriod = 20 * time.Second
	// DefaultSyncEvery is how often the client asks the time: the first eight a tenth of that apart.
	DefaultSyncEvery = time.Second
	// StatusEvery is the longest the backend goes without the wall's status (SetStatus): the
	// overlay and director pages show a wall as stale after it.
	StatusEvery = time.Second
	// statusMinGap is the shortest time between two status messages: a status set every frame
	// goes out ten times a second, the latest each time.
	statusMinGap = 100 * time.Millisecond
	// PermanentGapAfter is how many resends in a row the backend may refuse a round with gap
	// (or conflict), with no event of the round acknowledged, before the refusal is taken as
	// permanent: an AlarmGap is raised and the round is only retried every StuckRetry.
	PermanentGapAfter = 3
	// StuckRetry is how often the events of a round refused for good are sent again.
	StuckRetry = 5 * time.Second
	// resendGap is the shortest time between two resends asked for by the backend's errors.
	resendGap = 200 * time.Millisecond
	// sendBatch is how many events the writer takes from the outbox at a time.
	sendBatch = 256
)

// Link states, Status.State.
const (
	// LinkDown: not connected; scores wait in the outbox (LastError says why).
	LinkDown = "down"
	// LinkUp: connected, scores flowing.
	LinkUp = "up"
	// LinkGap: connected, but the backend refuses a round for good (an AlarmGap names it).
	LinkGap = "gap"
	// LinkWallInUse: the backend refused the hello: another show is connected as this wall.
	LinkWallInUse = "wall_in_use"
	// LinkFenced: another machine is primary with a higher epoch; this client sends nothing.
	LinkFenced = "fenced"
)

// ClientConfig configures a Client.
type ClientConfig struct {
	URL    string // ws://host:port/ws or wss://...
	Wall   string
	Token  string
	Outbox *Outbox
	Log    zerolog.Logger
	// Epoch is the fencing epoch the hello carries; 0: the outbox's (Outbox.Epoch), read at every
	// connect, so a promotion (Outbox.SetEpoch) takes effect at the next connect.
	Epoch uint64
	// Local is the local clock in microseconds (monotonic); nil: time since NewClient.
	Local func() int64
	// MaxBackoff caps the reconnect backoff; 0: DefaultMaxBackoff.
	MaxBackoff time.Duration
	// SyncEvery is the time-sync period; 0: DefaultSyncEvery.
	SyncEvery time.Duration
	// TLS configures wss:// (a CA to trust, for a backend with its own certificate).
	TLS *tls.Config
	// OnAck, if set, is called by the reader goroutine for every acknowledgement received.
	OnAck func(wall string, round uint32, seq uint64)
	// After waits between reconnects; nil: time.After. Tests inject a fake.
	After func(time.Duration) <-chan time.Time
}

// Status is the link's state for the HUD and the operator console.
type Status struct {
	Connected  bool          // a backend accepted the hello and the connection lives
	State      string        // LinkUp, LinkDown, LinkGap, LinkWallInUse or LinkFenced
	RTT        time.Duration // of the best time-sync sample
	OffsetUS   int64         // show clock minus local clock
	ClockOK    bool          // a time-sync sample exists
	Depth      int           // events not yet acknowledged
	OldestAge  time.Duration // how long the oldest unacknowledged event has waited
	Reconnects int64
	LastError  string
	Epoch      uint64 // the epoch the hello carries
	FencedBy   uint64 // when fenced: the wall's epoch at the backend, if it said (0: unknown)
	// MaxRound is the highest round of the wall the backend holds or has started (its welcome's
	// max_round, raised by the acks since); MaxRoundKnown says a welcome has arrived.
	MaxRound      uint32
	MaxRoundKnown bool
	// Alarms are the standing alarms of the outbox and the link, oldest first.
	Alarms []Alarm
}

// Client streams the outbox to the backend over one WebSocket at a time, with one reader and one
// writer goroutine per connection (gorilla/websocket allows one of each), and reconnects with
// jittered exponential backoff after any failure, resending every unacknowledged event in order.
// It also keeps the show clock (time sync), passes the backend's show commands on, and sends the
// wall's status. A hello refused with wall_in_use waits WallInUseBackoff; a client fenced by a
// higher epoch stops sending and never says hello with that epoch again.
//
// Run blocks; every other method is safe to call from any goroutine and never blocks. It never
// blocks the game: the game only ever calls Outbox.Submit (and SetStatus).
type Client struct {
	cfg         ClientConfig
	clock       ClockSync
	cmds        chan Message
	connected   atomic.Bool
	reconnects  atomic.Int64
	cycle       atomic.Int64 // resend passes: a refusal counts once per pass
	statusCh    chan struct{}
	welcomed    chan struct{}
	welcomeOnce sync.Once
	start       time.Time

	mu         sync.Mutex
	lastErr    string
	state      string
	alarms     []Alarm
	maxRound   uint32
	maxRoundOK bool
	fencedAt   uint64 // the epoch this client was fenced at (0: not fenced)
	fencedBy   uint64
	refusals   map[uint32]*refusal // rounds the backend refuses
	status     WallStatus
	statusGen  uint64
	statusSet  bool

	// The writer's own (one writer at a time).
	sent      WallStatus
	sentGen   uint64
	sentAt    time.Time
	sentLanes []LaneStatus
}

// refusal counts the backend's refusals of one round.
type refusal struct {
	passes   int   // resend passes with a refusal and no ack of the round
	lastPass int64 // the pass last counted
	stuck    bool
	code     string
}

// NewClient returns a client for cfg.
func NewClient(cfg ClientConfig) (*Client, error) {
	if cfg.URL == "" || cfg.Wall == "" || cfg.Outbox == nil {
		return nil, errors.New("netsync: a client needs a URL, a wall id and an outbox")
	}
	if cfg.MaxBackoff <= 0 {
		cfg.MaxBackoff = DefaultMaxBackoff
	}
	if cfg.SyncEvery <= 0 {
		cfg.SyncEvery = DefaultSyncEvery
	}
	if cfg.After == nil {
		cfg.After = time.After
	}
	c := &Client{cfg: cfg, cmds: make(chan Message, 64), start: time.Now(), statusCh: make(chan struct{}, 1),
		welcomed: make(chan struct{}), state: LinkDown, refusals: map[uint32]*refusal{}}
	if c.cfg.Local == nil {
		c.cfg.Local = func() int64 { return time.Since(c.start).Microseconds() }
	}
	return c, nil
}

// Commands delivers the backend's show commands (start, abort) in order.
func (c *Client) Commands() <-chan Message { return c.cmds }

// Clock returns the time-sync estimate.
func (c *Client) Clock() *ClockSync { return &c.clock }

// Welcomed is closed when the first welcome arrives: from then on MaxRound is known.
func (c *Client) Welcomed() <-chan struct{} { return c.welcomed }

// MaxRound returns the highest round of this wall the backend holds or has started, as its
// latest welcome said (max_round, and the rounds it listed), raised by the acks since; ok is
// false until a welcome has arrived.
func (c *Client) MaxRound() (round uint32, ok bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.maxRound, c.maxRoundOK
}

// NextRound returns the number the show's next round must take: one after the larger of the
// backend's MaxRound and the outbox's (Outbox.MaxRound), so no round key is used twice even on a
// fresh or wiped outbox. known is false until a welcome has arrived: the number then rests on the
// outbox alone, and the show should wait for Welcomed before numbering its first round if it can.
func (c *Client) NextRound() (round uint32, known bool) {
	m, ok := c.MaxRound()
	return max(m, c.cfg.Outbox.MaxRound(c.cfg.Wall)) + 1, ok
}

// CheckStart returns nil when the show may start round, or an error wrapping ErrRoundUsed when
// the backend holds that round (or has started it) or the outbox has seen it: a start command for
// such a round must be refused, since its scores would be dropped as duplicates.
func (c *Client) CheckStart(round uint32) error {
	if round < 1 {
		return fmt.Errorf("%w: round 0 does not exist", ErrRoundUsed)
	}
	m, _ := c.MaxRound()
	if round <= m {
		return fmt.Errorf("%w: round %d of wall %s: the backend already holds rounds up to %d", ErrRoundUsed, round, c.cfg.Wall, m)
	}
	if ob := c.cfg.Outbox.MaxRound(c.cfg.Wall); round <= ob {
		return fmt.Errorf("%w: round %d of wall %s: the outbox already has rounds up to %d", ErrRoundUsed, round, c.cfg.Wall, ob)
	}
	return nil
}

// SetStatus hands the wall's status to the writer, which sends it to the backend on change (at
// most ten times a second, the latest each time) and at least every StatusEvery. It never blocks
// and copies s (its Lanes too), so the caller may reuse s; the latest call wins.
func (c *Client) SetStatus(s WallStatus) {
	c.mu.Lock()
	lanes := append(c.status.Lanes[:0], s.Lanes...)
	c.status = s
	c.status.Lanes = lanes
	c.statusGen++
	c.statusSet = true
	c.mu.Unlock()
	signal(c.statusCh)
}

// Status returns the link's state.
func (c *Client) Status() Status {
	off, delay, ok := c.clock.Offset()
	alarms := c.cfg.Outbox.Alarms()
	c.mu.Lock()
	s := Status{Connected: c.connected.Load(), State: c.state, RTT: time.Duration(delay) * time.Microsecond, OffsetUS: off, ClockOK: ok,
		Reconnects: c.reconnects.Load(), LastError: c.lastErr, Epoch: c.epoch(), FencedBy: c.fencedBy,
		MaxRound: c.maxRound, MaxRoundKnown: c.maxRoundOK}
	alarms = append(alarms, c.alarms...)
	c.mu.Unlock()
	sort.SliceStable(alarms, func(i, j int) bool { return alarms[i].Since.Before(alarms[j].Since) })
	s.Alarms = alarms
	s.Depth, s.OldestAge = c.cfg.Outbox.Depth(), c.cfg.Outbox.OldestAge()
	return s
}

// epoch is the epoch the next hello carries.
func (c *Client) epoch() uint64 {
	if c.cfg.Epoch != 0 {
		return c.cfg.Epoch
	}
	return c.cfg.Outbox.Epoch()
}

// rejection is an error message from the backend.
type rejection struct {
	code, msg string
	epoch     uint64
}

func (r *rejection) Error() string { return fmt.Sprintf("%v: %s: %s", ErrRejected, r.code, r.msg) }
func (r *rejection) Unwrap() error { return ErrRejected }

// Run connects, streams and reconnects until ctx is cancelled. It blocks. Fenced, it sends
// nothing more and waits for ctx (or for the outbox's epoch to be raised above the fenced one).
func (c *Client) Run(ctx context.Context) error {
	backoff := minBackoff
	for {
		epoch := c.epoch()
		c.mu.Lock()
		fenced := c.fencedAt != 0 && epoch <= c.fencedAt
		c.mu.Unlock()
		if fenced {
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-c.cfg.Outbox.epochChanged():
				continue
			}
		}
		connected, err := c.session(ctx, epoch)
		c.connected.Store(false)
		if ctx.Err() != nil {
			c.setState(LinkDown, "")
			return ctx.Err()
		}
		if connected {
			backoff = minBackoff
		}
		c.reconnects.Add(1)
		wait := jitter(backoff)
		var rej *rejection
		errors.As(err, &rej)
		switch {
		case rej != nil && rej.code == CodeFenced:
			c.fence(epoch, rej.epoch)
			continue
		case rej != nil && rej.code == CodeWallInUse:
			wait = jitter(WallInUseBackoff)
			c.setState(LinkWallInUse, err.Error())
			c.raise(Alarm{Code: AlarmWallInUse, Wall: c.cfg.Wall, Message: fmt.Sprintf(
				"WALL IN USE: another show is connected to the backend as wall %s (epoch %d); this one waits and retries. "+
					"Give each PC its own wall id (--wall, wall.id), or stop the other one.", c.cfg.Wall, epoch)})
		case rej != nil && (rej.code == CodeBadToken || rej.code == CodeBadVersion):
			c.setState(LinkDown, err.Error())
			c.raise(Alarm{Code: AlarmRefused, Wall: c.cfg.Wall, Message: fmt.Sprintf(
				"BACKEND REFUSES THIS WALL (%s): %s. Scores wait in the outbox; fix --token or the versions.", rej.code, rej.msg)})
		default:
			c.setState(LinkDown, err.Error())
		}
		c.cfg.Log.Warn().Err(err).Dur("retry_in", wait).Msg("backend link down; scores wait in the outbox")
		select {
		case <-c.cfg.After(wait):
		case <-ctx.Done():
			return ctx.Err()
		}
		backoff = min(2*backoff, c.cfg.MaxBackoff)
	}
}

// jitter returns a wait in [d/2, d]: walls do not reconnect in step.
func jitter(d time.Duration) time.Duration {
	return d/2 + time.Duration(rand.Int64N(int64(d/2)+1))
}

func (c *Client) setState(state, lastErr string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.state = state
	if lastErr != "" {
		c.lastErr = lastErr
	}
}

// fence stops the client: the backend holds a higher epoch for the wall.
func (c *Client) fence(epoch, by uint64) {
	c.mu.Lock()
	c.fencedAt, c.fencedBy, c.state = epoch, by, LinkFenced
	c.lastErr = "fenced"
	c.mu.Unlock()
	who := fmt.Sprintf("epoch %d", by)
	if by == 0 {
		who = fmt.Sprintf("epoch above %d", epoch)
	}
	c.raise(Alarm{Code: AlarmFenced, Wall: c.cfg.Wall, Message: fmt.Sprintf(
		"FENCED: another machine is primary (%s). This show sends no scores; its journal and outbox are kept.", who)})
}

// raise adds a link alarm unless one with the same code and round stands.
func (c *Client) raise(a Alarm) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, b := range c.alarms {
		if b.Code == a.Code && b.Round == a.Round {
			return
		}
	}
	a.Since = time.Now()
	c.alarms = append(c.alarms, a)
	c.cfg.Log.Error().Str("alarm", a.Code).Str("wall", a.Wall).Uint32("round", a.Round).Uint64("seq", a.Seq).Msg(a.Message)
}

// clear drops the link alarms with one of codes (and round, when round > 0).
func (c *Client) clear(round uint32, codes ...string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	keep := c.alarms[:0]
	for _, a := range c.alarms {
		drop := round == 0 || a.Round == round
		if drop {
			drop = false
			for _, code := range codes {
				drop = drop || a.Code == code
			}
		}
		if drop {
			c.cfg.Log.Info().Str("alarm", a.Code).Uint32("round", a.Round).Msg("alarm cleared")
			continue
		}
		keep = append(keep, a)
	}
	c.alarms = keep
}

// noteRound raises MaxRound to round: the backend holds it.
func (c *Client) noteRound(round uint32, welcome bool) {
	c.mu.Lock()
	c.maxRound = max(c.maxRound, round)
	if welcome {
		c.maxRoundOK = true
	}
	c.mu.Unlock()
}

// session runs one connection; connected reports whether the hello was accepted.
func (c *Client) session(ctx context.Context, epoch uint64) (connected bool, err error) {
	d := websocket.Dialer{HandshakeTimeout: WriteWait, TLSClientConfig: c.cfg.TLS}
	conn, _, err := d.DialContext(ctx, c.cfg.URL, nil)
	if err != nil {
		return false, fmt.Errorf("dial %s: %w", c.cfg.URL, err)
	}
	defer conn.Close()
	conn.SetReadLimit(MaxMessage)
	conn.SetWriteDeadline(time.Now().Add(WriteWait))
	asked := c.cfg.Outbox.AckedList(c.cfg.Wall)
	if err := conn.WriteJSON(Message{Type: TypeHello, Version: ProtocolVersion, Wall: c.cfg.Wall, Token: c.cfg.Token,
		Acked: asked, Epoch: epoch}); err != nil {
		return false, fmt.Errorf("hello: %w", err)
	}
	conn.SetReadDeadline(time.Now().Add(WriteWait))
	_, b, err := conn.ReadMessage()
	if err != nil {
		return false, fmt.Errorf("waiting for welcome: %w", err)
	}
	w, err := Decode(b)
	if err != nil {
		return false, err
	}
	if w.Type == TypeError {
		return false, &rejection{code: w.Code, msg: w.Message, epoch: w.Epoch}
	}
	if w.Type != TypeWelcome {
		return false, fmt.Errorf("expected welcome, got %q", w.Type)
	}
	// What the backend holds of each round the hello asked about is the truth.
	c.cfg.Outbox.welcome(asked, w.Acked, c.cfg.Wall)
	c.noteRound(w.MaxRound, true)
	for _, a := range w.Acked {
		if a.Seq > 0 {
			c.noteRound(a.Round, false)
		}
	}
	c.welcomeOnce.Do(func() { close(c.welcomed) })
	c.connected.Store(true)
	c.mu.Lock()
	c.fencedBy = 0 // a welcome at a raised epoch (a promotion): no longer fenced; fencedAt stays, never used again
	c.mu.Unlock()
	c.clear(0, AlarmWallInUse, AlarmRefused, AlarmFenced)
	c.setState(LinkUp, "")
	c.updateState()
	c.cfg.Log.Info().Str("url", c.cfg.URL).Uint64("epoch", epoch).Uint32("max_round", w.MaxRound).Int("pending", c.cfg.Outbox.Depth()).
		Msg("backend link up; resending what is unacknowledged")

	var rerr error
	readerDone := make(chan struct{})
	resend := make(chan struct{}, 1)
	go func() {
		rerr = c.read(conn, resend)
		close(readerDone)
	}()
	err = c.write(ctx, conn, readerDone, resend)
	conn.Close() // unblocks the reader
	<-readerDone
	if err == nil {
		err = rerr
	}
	if err == nil {
		err = errors.New("connection closed")
	}
	return true, err
}

// read is the connection's only reader.
func (c *Client) read(conn *websocket.Conn, resend chan<- struct{}) error {
	conn.SetReadDeadline(time.Now().Add(PongWait))
	conn.SetPongHandler(func(string) error { return conn.SetReadDeadline(time.Now().Add(PongWait)) })
	for {
		_, b, err := conn.ReadMessage()
		if err != nil {
			return fmt.Errorf("read: %w", err)
		}
		conn.SetReadDeadline(time.Now().Add(PongWait))
		m, err := Decode(b)
		if err != nil {
			c.cfg.Log.Warn().Err(err).Msg("backend sent an unreadable message; ignored")
			continue
		}
		switch m.Type {
		case TypeAck:
			if m.Wall == c.cfg.Wall {
				c.cfg.Outbox.Ack(m.Wall, m.Round, m.Seq)
				c.noteRound(m.Round, false)
				c.progress(m.Round)
				if c.cfg.OnAck != nil {
					c.cfg.OnAck(m.Wall, m.Round, m.Seq)
				}
			}
		case TypeTimeResp:
			c.clock.Add(m.T1, m.T2, m.T3, c.cfg.Local())
		case TypeStart, TypeAbort:
			select {
			case c.cmds <- m:
			default:
				c.cfg.Log.Error().Str("type", m.Type).Uint32("round", m.Round).Msg("show command dropped: nobody reads commands")
			}
		case TypeError:
			switch m.Code {
			case CodeFenced, CodeWallInUse:
				return &rejection{code: m.Code, msg: m.Message, epoch: m.Epoch}
			case CodeGap, CodeConflict:
				c.refused(&m)
				signal(resend)
			case CodeStore:
				c.cfg.Log.Error().Str("code", m.Code).Str("message", m.Message).Msg("backend could not store; resending")
				signal(resend)
			default:
				c.cfg.Log.Error().Str("code", m.Code).Str("message", m.Message).Msg("backend refused a message")
			}
		}
	}
}

// refused counts a gap or conflict refusal of a round; refused in PermanentGapAfter resend passes
// in a row (a conflict: at once) the round is stuck: an alarm is raised and its events are kept
// but only retried every StuckRetry.
func (c *Client) refused(m *Message) {
	round := m.Round
	if round == 0 { // scorehub says it in words: "round R: got seq S, expected E; ..."
		fmt.Sscanf(m.Message, "round %d:", &round)
	}
	c.cfg.Log.Warn().Str("code", m.Code).Uint32("round", round).Str("message", m.Message).Msg("backend refused an event")
	if round == 0 {
		return
	}
	pass := c.cycle.Load()
	c.mu.Lock()
	r := c.refusals[round]
	if r == nil {
		r = &refusal{lastPass: -1}
		c.refusals[round] = r
	}
	if r.lastPass != pass {
		r.passes, r.lastPass = r.passes+1, pass
	}
	newlyStuck := !r.stuck && (r.passes >= PermanentGapAfter || m.Code == CodeConflict)
	if newlyStuck {
		r.stuck, r.code = true, m.Code
	}
	c.mu.Unlock()
	if !newlyStuck {
		return
	}
	first, n := c.cfg.Outbox.firstPending(c.cfg.Wall, round)
	a := Alarm{Code: AlarmGap, Wall: c.cfg.Wall, Round: round, Seq: first, Message: fmt.Sprintf(
		"SCORES HELD: the backend refuses round %d from seq %d on (gap: it lacks earlier events of the round: %s); %d events kept in the outbox and retried every %v. Check the backend.",
		round, first, m.Message, n, StuckRetry)}
	if m.Code == CodeConflict {
		a.Code = AlarmConflict
		a.Message = fmt.Sprintf("SCORES HELD: the backend holds an event of round %d under the same key with different content (%s); %d events kept in the outbox. Check which machine scored the round.",
			round, m.Message, n)
	}
	c.raise(a)
	c.updateState()
}

// progress clears a round's refusals once the backend acknowledges events of it.
func (c *Client) progress(round uint32) {
	c.mu.Lock()
	r := c.refusals[round]
	delete(c.refusals, round)
	c.mu.Unlock()
	if r != nil && r.stuck {
		c.clear(round, AlarmGap, AlarmConflict)
		c.updateState()
	}
}

// stuckRounds returns the rounds refused for good (nil: none).
func (c *Client) stuckRounds() map[uint32]bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out map[uint32]bool
	for r, s := range c.refusals {
		if s.stuck {
			if out == nil {
				out = map[uint32]bool{}
			}
			out[r] = true
		}
	}
	return out
}

// updateState sets LinkGap or LinkUp while connected.
func (c *Client) updateState() {
	stuck := len(c.stuckRounds()) > 0
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.state != LinkUp && c.state != LinkGap {
		return
	}
	if stuck {
		c.state = LinkGap
	} else {
		c.state = LinkUp
	}
}

// write is the connection's only writer: events, time requests, status, pings and the close.
func (c *Client) write(ctx context.Context, conn *websocket.Conn, done <-chan struct{}, resend <-chan struct{}) error {
	ping := time.NewTicker(PingPeriod)
	defer ping.Stop()
	sync := time.NewTimer(0)
	defer sync.Stop()
	statusTick := time.NewTicker(statusMinGap)
	defer statusTick.Stop()
	retry := time.NewTicker(StuckRetry)
	defer retry.Stop()
	later := time.NewTimer(time.Hour) // a resend asked for too soon after the last
	later.Stop()
	defer later.Stop()
	laterArmed := false
	syncs := 0
	var cursor uint64
	var lastResend time.Time
	retrying := false // this pass sends the stuck rounds too
	buf := make([]Event, 0, sendBatch)
	send := func(m Message) error {
		conn.SetWriteDeadline(time.Now().Add(WriteWait))
		return conn.WriteJSON(m)
	}
	restart := func() {
		cursor = 0
		c.cycle.Add(1)
	}
	c.sentAt = time.Time{} // a new backend connection gets the status at once
	for {
		buf, cursor = c.cfg.Outbox.After(cursor, sendBatch, buf[:0])
		stuck := c.stuckRounds()
		for _, e := range buf {
			if stuck[e.Round] && !retrying {
				continue
			}
			if err := send(ScoreMessage(e)); err != nil {
				return fmt.Errorf("send: %w", err)
			}
		}
		if len(buf) == sendBatch {
			continue
		}
		retrying = false
		if err := c.sendStatus(send); err != nil {
			return err
		}
		select {
		case <-c.cfg.Outbox.Notify():
		case <-c.cfg.Outbox.Resend():
			c.mu.Lock()
			clear(c.refusals) // the outbox changed: every round gets its chance again
			c.mu.Unlock()
			c.clear(0, AlarmGap, AlarmConflict)
			c.updateState()
			restart()
		case <-resend:
			// One resend per burst of gap errors, at most every resendGap.
			if wait := resendGap - time.Since(lastResend); wait > 0 {
				if !laterArmed {
					later.Reset(wait)
					laterArmed = true
				}
				break
			}
			lastResend = time.Now()
			restart()
		case <-later.C:
			laterArmed = false
			lastResend = time.Now()
			restart()
		case <-retry.C:
			if len(c.stuckRounds()) > 0 {
				retrying = true
				restart()
			}
		case <-c.statusCh:
		case <-statusTick.C:
		case <-ping.C:
			if err := conn.WriteControl(websocket.PingMessage, nil, time.Now().Add(WriteWait)); err != nil {
				return fmt.Errorf("ping: %w", err)
			}
		case <-sync.C:
			if err := send(Message{Type: TypeTimeReq, T1: c.cfg.Local()}); err != nil {
				return fmt.Errorf("time sync: %w", err)
			}
			syncs++
			next := c.cfg.SyncEvery
			if syncs < 8 {
				next /= 10 // a quick burst first: a usable offset within a second of connecting
			}
			sync.Reset(next)
		case <-done:
			return nil // the reader's error says why
		case <-ctx.Done():
			conn.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseNormalClosure, "bye"),
				time.Now().Add(time.Second))
			return nil
		}
	}
}

// sendStatus sends the wall's latest status when it changed (at most every statusMinGap) or
// when StatusEvery has passed since the last one.
func (c *Client) sendStatus(send func(Message) error) error {
	c.mu.Lock()
	if !c.statusSet {
		c.mu.Unlock()
		return nil
	}
	since := time.Since(c.sentAt)
	due := since >= StatusEvery || (c.statusGen != c.sentGen && since >= statusMinGap)
	if !due {
		c.mu.Unlock()
		return nil
	}
	c.sent = c.status
	c.sentLanes = append(c.sentLanes[:0], c.status.Lanes...)
	c.sent.Lanes = c.sentLanes
	c.sentGen = c.statusGen
	c.mu.Unlock()
	c.sentAt = time.Now()
	if err := send(Message{Type: TypeStatus, Wall: c.cfg.Wall, Status: &c.sent}); err != nil {
		return fmt.Errorf("status: %w", err)
	}
	return nil
}

// TLSWithCA returns a TLS config that trusts the PEM certificate(s) in file caPath, for a wss://
// backend with its own certificate; "" returns nil (the system's roots).
func TLSWithCA(caPath string) (*tls.Config, error) {
	if caPath == "" {
		return nil, nil
	}
	pem, err := os.ReadFile(caPath)
	if err != nil {
		return nil, fmt.Errorf("netsync: backend CA: %w", err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("netsync: backend CA %s: no PEM certificate in it", caPath)
	}
	return &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}, nil
}
