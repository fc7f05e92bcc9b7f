package netsync

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
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
	// WriteWait bounds one write; a stalled connection is dropped and redialled.
	WriteWait = 5 * time.Second
	// PongWait is how long a silent connection is kept: three missed pings.
	PongWait = 60 * time.Second
	// PingPeriod is how often the client pings.
	PingPeriod = 20 * time.Second
	// DefaultSyncEvery is how often the client asks the time: the first eight a tenth of that apart.
	DefaultSyncEvery = time.Second
	// sendBatch is how many events the writer takes from the outbox at a time.
	sendBatch = 256
)

// ClientConfig configures a Client.
type ClientConfig struct {
	URL    string // ws://host:port/ws or wss://...
	Wall   string
	Token  string
	Outbox *Outbox
	Log    zerolog.Logger
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

// Status is the link's state for the HUD.
type Status struct {
	Connected  bool
	RTT        time.Duration // of the best time-sync sample
	OffsetUS   int64         // show clock minus local clock
	ClockOK    bool          // a time-sync sample exists
	Depth      int           // events not yet acknowledged
	OldestAge  time.Duration // how long the oldest unacknowledged event has waited
	Reconnects int64
	LastError  string
}

// Client streams the outbox to the backend over one WebSocket at a time, with one reader and one
// writer goroutine per connection (gorilla/websocket allows one of each), and reconnects with
// jittered exponential backoff after any failure, resending every unacknowledged event in order.
// It also keeps the show clock (time sync) and passes the backend's show commands on. Run blocks;
// Status, Commands and Offset are safe to call from any goroutine. It never blocks the game: the
// game only ever calls Outbox.Submit.
type Client struct {
	cfg        ClientConfig
	clock      ClockSync
	cmds       chan Message
	connected  atomic.Bool
	reconnects atomic.Int64
	mu         sync.Mutex
	lastErr    string
	start      time.Time
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
	c := &Client{cfg: cfg, cmds: make(chan Message, 64), start: time.Now()}
	if c.cfg.Local == nil {
		c.cfg.Local = func() int64 { return time.Since(c.start).Microseconds() }
	}
	return c, nil
}

// Commands delivers the backend's show commands (start, abort) in order.
func (c *Client) Commands() <-chan Message { return c.cmds }

// Clock returns the time-sync estimate.
func (c *Client) Clock() *ClockSync { return &c.clock }

// Status returns the link's state.
func (c *Client) Status() Status {
	off, delay, ok := c.clock.Offset()
	c.mu.Lock()
	last := c.lastErr
	c.mu.Unlock()
	return Status{Connected: c.connected.Load(), RTT: time.Duration(delay) * time.Microsecond, OffsetUS: off, ClockOK: ok,
		Depth: c.cfg.Outbox.Depth(), OldestAge: c.cfg.Outbox.OldestAge(), Reconnects: c.reconnects.Load(), LastError: last}
}

// Run connects, streams and reconnects until ctx is cancelled. It blocks.
func (c *Client) Run(ctx context.Context) error {
	backoff := minBackoff
	for {
		connected, err := c.session(ctx)
		c.connected.Store(false)
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if connected {
			backoff = minBackoff
		}
		c.mu.Lock()
		c.lastErr = err.Error()
		c.mu.Unlock()
		c.reconnects.Add(1)
		wait := backoff/2 + time.Duration(rand.Int64N(int64(backoff/2)+1)) // jitter: walls do not reconnect in step
		c.cfg.Log.Warn().Err(err).Dur("retry_in", wait).Msg("backend link down; scores wait in the outbox")
		select {
		case <-c.cfg.After(wait):
		case <-ctx.Done():
			return ctx.Err()
		}
		backoff = min(2*backoff, c.cfg.MaxBackoff)
	}
}

// session runs one connection; connected reports whether the hello was accepted.
func (c *Client) session(ctx context.Context) (connected bool, err error) {
	d := websocket.Dialer{HandshakeTimeout: WriteWait, TLSClientConfig: c.cfg.TLS}
	conn, _, err := d.DialContext(ctx, c.cfg.URL, nil)
	if err != nil {
		return false, fmt.Errorf("dial %s: %w", c.cfg.URL, err)
	}
	defer conn.Close()
	conn.SetReadLimit(MaxMessage)
	conn.SetWriteDeadline(time.Now().Add(WriteWait))
	if err := conn.WriteJSON(Message{Type: TypeHello, Version: ProtocolVersion, Wall: c.cfg.Wall, Token: c.cfg.Token,
		Acked: c.cfg.Outbox.AckedList(c.cfg.Wall)}); err != nil {
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
		return false, fmt.Errorf("%w: %s: %s", ErrRejected, w.Code, w.Message)
	}
	if w.Type != TypeWelcome {
		return false, fmt.Errorf("expected welcome, got %q", w.Type)
	}
	for _, a := range w.Acked {
		c.cfg.Outbox.Ack(c.cfg.Wall, a.Round, a.Seq)
	}
	c.connected.Store(true)
	c.cfg.Log.Info().Str("url", c.cfg.URL).Int("pending", c.cfg.Outbox.Depth()).Msg("backend link up; resending what is unacknowledged")

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
			c.cfg.Log.Error().Str("code", m.Code).Str("message", m.Message).Msg("backend refused a message")
			if m.Code == CodeGap || m.Code == CodeStore {
				select {
				case resend <- struct{}{}:
				default:
				}
			}
		}
	}
}

// write is the connection's only writer: events, time requests, pings and the close.
func (c *Client) write(ctx context.Context, conn *websocket.Conn, done <-chan struct{}, resend <-chan struct{}) error {
	ping := time.NewTicker(PingPeriod)
	defer ping.Stop()
	sync := time.NewTimer(0)
	defer sync.Stop()
	syncs := 0
	var cursor uint64
	var lastResend time.Time
	buf := make([]Event, 0, sendBatch)
	send := func(m Message) error {
		conn.SetWriteDeadline(time.Now().Add(WriteWait))
		return conn.WriteJSON(m)
	}
	for {
		buf, cursor = c.cfg.Outbox.After(cursor, sendBatch, buf[:0])
		for _, e := range buf {
			if err := send(ScoreMessage(e)); err != nil {
				return fmt.Errorf("send: %w", err)
			}
		}
		if len(buf) == sendBatch {
			continue
		}
		select {
		case <-c.cfg.Outbox.Notify():
		case <-resend:
			if time.Since(lastResend) > 200*time.Millisecond { // one resend per burst of gap errors
				cursor, lastResend = 0, time.Now()
			}
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

// WaitAcked blocks until the outbox is empty (everything acknowledged) or ctx ends; it returns
// how many events are still outstanding.
func (o *Outbox) WaitAcked(ctx context.Context) int {
	t := time.NewTicker(5 * time.Millisecond)
	defer t.Stop()
	for {
		if n := o.Depth(); n == 0 {
			return 0
		}
		select {
		case <-ctx.Done():
			return o.Depth()
		case <-t.C:
		}
	}
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
