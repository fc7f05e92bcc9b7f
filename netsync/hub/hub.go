package hub

import (
	"context"
	"errors"
	"fmt"
	stdlog "log"
	"net/http"
	"sync"
	"sync/atomic"
	"tapwall/netsync"
	"time"

	"github.com/gorilla/websocket"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"
)

// Defaults and limits. A connection that breaks one is dropped or refused, never waited on.
const (
	// DefaultSendBuffer is how many messages a wall connection may have unwritten: a healthy wall
	// reads an ack within milliseconds, so one this far behind is dead or stalled; it is dropped
	// and reconnects, resending what is unacknowledged.
	DefaultSendBuffer = 256
	// ProbeWait is how long a wall's open connection has to answer a ping when a second hello of
	// the same wall at the same epoch arrives: answered, the newcomer is refused (wall_in_use).
	ProbeWait = 2 * time.Second
	// HelloWait is how long a new connection has to send its hello.
	HelloWait = 10 * time.Second
	// DefaultReadTimeout bounds reading one HTTP request, body included: a stalled POST is closed.
	DefaultReadTimeout = 10 * time.Second
	// DefaultReadHeaderTimeout bounds reading a request's headers.
	DefaultReadHeaderTimeout = 5 * time.Second
	// DefaultWriteTimeout bounds writing one HTTP response (WebSockets set their own deadlines).
	DefaultWriteTimeout = 10 * time.Second
	// DefaultIdleTimeout closes a keep-alive connection idle this long.
	DefaultIdleTimeout = 60 * time.Second
	// MaxPages is how many live pages (/live: the totals page, overlays, director) may be open.
	MaxPages = 256
	// pageReadLimit is the most a page may send in one message (pages send nothing).
	pageReadLimit = 1024
	// closeGrace bounds the last writes (queued messages, the final error, the close frame) to a
	// connection being closed.
	closeGrace = time.Second
	// pushInterval is the shortest time between two pushes to the live pages.
	pushInterval = 100 * time.Millisecond
	// stallAfter is how long a store commit may take before /healthz reports the hub stalled.
	stallAfter = 10 * time.Second
	// inQueue is how many received events may wait for the committer.
	inQueue = 8192
	// maxBatch is the most events one commit takes.
	maxBatch = 4096
)

// Errors of the hub's commands (SendStart, SendAbort, ResetEpoch); the HTTP API maps them to its
// status codes and error codes.
var (
	// ErrBadRequest is wrapped by errors about a malformed command.
	ErrBadRequest = errors.New("hub: bad request")
	// ErrUnknownGame is returned for a start naming a game the walls do not have.
	ErrUnknownGame = errors.New("hub: unknown game")
	// ErrNotConnected is returned for a command to a wall that is not connected.
	ErrNotConnected = errors.New("hub: wall not connected")
	// ErrRoundUsed is returned for a start whose round number the wall has used already.
	ErrRoundUsed = errors.New("hub: round number already used")
	// ErrRoundRunning is returned for a start while the wall reports a running round, unless
	// the start has Replace set.
	ErrRoundRunning = errors.New("hub: the wall is running a round")
	// ErrWallInUse is returned by ResetEpoch while a connection of the wall is open.
	ErrWallInUse = errors.New("hub: the wall is connected")
)

// HubConfig configures a Hub.
type HubConfig struct {
	// Token, if set, is required in every wall's hello and on every state-changing API request.
	Token string
	// Log receives the hub's structured log.
	Log zerolog.Logger
	// Now is the show clock in microseconds; nil: Unix time at NewHub plus the monotonic time
	// since, so a step of the system clock (NTP) never moves the show clock.
	Now func() int64
	// Hosts are the Host header values requests may carry ("name" matches any port,
	// "name:port" that port only); anything else is refused (DNS rebinding). nil: localhost,
	// 127.0.0.1 and ::1, any port. The scorehub command lists its listen address and --allowed-host.
	Hosts []string
	// PingPeriod is how often the hub pings each WebSocket; 0: netsync.PingPeriod.
	PingPeriod time.Duration
	// PongWait is how long a silent WebSocket is kept; 0: netsync.PongWait.
	PongWait time.Duration
	// ReadTimeout bounds reading one HTTP request (Server); 0: DefaultReadTimeout.
	ReadTimeout time.Duration
	// SendBuffer is how many messages a wall connection may have unwritten; 0: DefaultSendBuffer.
	SendBuffer int
}

type commitReq struct {
	ev netsync.Event
	wc *wallConn
}

// Hub is the reference scoring backend behind scorehub: it accepts walls over WebSocket, commits
// their events to the Store in group commits and acknowledges only what is committed, drops
// duplicates, refuses gaps and conflicts, fences walls by epoch, relays show commands, keeps each
// wall's latest status, and serves totals, walls, health, metrics, the live page, the broadcast
// overlay and the director's page.
//
// Run its committer with Run and serve Handler (or Server). Nothing in the hub waits on one
// connection: a connection that cannot keep up is dropped. Safe for concurrent use.
type Hub struct {
	cfg    HubConfig
	store  *Store
	in     chan commitReq
	ctx    context.Context // ends when Run ends
	cancel context.CancelFunc
	dirty  chan struct{} // something the pages show changed
	admit  keyedMutex    // one admission (or epoch reset) per wall at a time
	start  sync.Mutex    // one start numbered at a time
	errLog logLimiter

	mu    sync.Mutex
	walls map[string]*wallConn
	info  map[string]*wallInfo
	pages map[*pageConn]struct{}
	conns map[*websocket.Conn]struct{} // every open WebSocket: closed when Run ends

	busySince atomic.Int64 // UnixNano when the running commit began, 0 when none runs

	reg                             *prometheus.Registry
	mEvents, mDups, mGaps, mConflic prometheus.Counter
	mErrors                         *prometheus.CounterVec
	mDropped                        *prometheus.CounterVec
	mConns, mPages                  prometheus.Gauge
	mCommit                         prometheus.Histogram
}

// wallInfo is what the hub knows of a wall beyond its store: its latest status and link.
type wallInfo struct {
	status      *netsync.WallStatus
	statusAt    time.Time
	lastEvent   time.Time
	reported    map[uint32]bool // the rounds the wall's last hello asked about
	reportedMax uint32
	remote      string
}

// NewHub returns a hub over store.
func NewHub(store *Store, cfg HubConfig) *Hub {
	if cfg.Now == nil {
		start := time.Now()
		cfg.Now = monotonicClock(func() time.Time { return start }, func() time.Duration { return time.Since(start) })
	}
	if cfg.PingPeriod <= 0 {
		cfg.PingPeriod = netsync.PingPeriod
	}
	if cfg.PongWait <= 0 {
		cfg.PongWait = netsync.PongWait
	}
	if cfg.ReadTimeout <= 0 {
		cfg.ReadTimeout = DefaultReadTimeout
	}
	if cfg.SendBuffer <= 0 {
		cfg.SendBuffer = DefaultSendBuffer
	}
	if cfg.Hosts == nil {
		cfg.Hosts = []string{"localhost", "127.0.0.1", "::1"}
	}
	h := &Hub{cfg: cfg, store: store, in: make(chan commitReq, inQueue), dirty: make(chan struct{}, 1),
		walls: map[string]*wallConn{}, info: map[string]*wallInfo{}, pages: map[*pageConn]struct{}{},
		conns: map[*websocket.Conn]struct{}{}, reg: prometheus.NewRegistry()}
	h.ctx, h.cancel = context.WithCancel(context.Background())
	h.mEvents = prometheus.NewCounter(prometheus.CounterOpts{Name: "scorehub_events_stored_total", Help: "Score events committed."})
	h.mDups = prometheus.NewCounter(prometheus.CounterOpts{Name: "scorehub_events_duplicate_total", Help: "Score events received again (same content) and dropped."})
	h.mGaps = prometheus.NewCounter(prometheus.CounterOpts{Name: "scorehub_events_gap_total", Help: "Score events refused for a gap in seq."})
	h.mConflic = prometheus.NewCounter(prometheus.CounterOpts{Name: "scorehub_events_conflict_total", Help: "Score events refused: their key is stored with different content."})
	h.mErrors = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "scorehub_errors_total", Help: "Errors sent to walls and refused API requests, by code."}, []string{"code"})
	h.mDropped = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "scorehub_connections_dropped_total", Help: "Connections the hub closed, by reason."}, []string{"reason"})
	h.mConns = prometheus.NewGauge(prometheus.GaugeOpts{Name: "scorehub_walls_connected", Help: "Walls connected now."})
	h.mPages = prometheus.NewGauge(prometheus.GaugeOpts{Name: "scorehub_pages_connected", Help: "Live pages (totals, overlay, director) connected now."})
	h.mCommit = prometheus.NewHistogram(prometheus.HistogramOpts{Name: "scorehub_commit_seconds", Help: "Time to commit a batch (fsync included).",
		Buckets: prometheus.ExponentialBuckets(0.0001, 2, 14)})
	h.reg.MustRegister(h.mEvents, h.mDups, h.mGaps, h.mConflic, h.mErrors, h.mDropped, h.mConns, h.mPages, h.mCommit)
	return h
}

// monotonicClock returns a show clock in microseconds: the wall clock read once, plus the
// monotonic time elapsed since, so a later step of the system clock does not move it.
func monotonicClock(wallAtStart func() time.Time, elapsed func() time.Duration) func() int64 {
	base := wallAtStart().UnixMicro()
	return func() int64 { return base + elapsed().Microseconds() }
}

// Now returns the hub's show clock in microseconds.
func (h *Hub) Now() int64 { return h.cfg.Now() }

// Run commits received events in batches and pushes updates to the live pages until ctx is
// cancelled; then it closes every connection and returns. It blocks. It never waits on a
// connection: acks and errors are queued without blocking, and a connection whose queue is full
// is dropped.
func (h *Hub) Run(ctx context.Context) {
	stop := context.AfterFunc(ctx, h.cancel)
	defer stop()
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { defer wg.Done(); h.pushLoop() }()
	defer func() {
		h.cancel()
		h.closeAll()
		wg.Wait()
	}()
	batch := make([]commitReq, 0, maxBatch)
	sc := newScratch()
	for {
		batch = batch[:0]
		select {
		case r := <-h.in:
			batch = append(batch, r)
		case <-h.ctx.Done():
			return
		}
	drain:
		for len(batch) < cap(batch) {
			select {
			case r := <-h.in:
				batch = append(batch, r)
			default:
				break drain
			}
		}
		h.commit(batch, sc)
	}
}

// scratch is the committer's reusable bookkeeping for one batch.
type scratch struct {
	evs      []netsync.Event
	keep     []int
	epochs   map[string]uint64
	fenced   map[*wallConn]bool
	acks     map[connRound]bool // true: ack; false: a conflict in the batch, no ack
	gaps     map[connRound]bool // a gap error was sent
	conflict map[connRound]bool // a conflict error was sent
	failed   map[*wallConn]bool
	stored   map[string]bool
}

type connRound struct {
	wc    *wallConn
	round uint32
}

func newScratch() *scratch {
	return &scratch{evs: make([]netsync.Event, 0, maxBatch), keep: make([]int, 0, maxBatch), epochs: map[string]uint64{},
		fenced: map[*wallConn]bool{}, acks: map[connRound]bool{}, gaps: map[connRound]bool{}, conflict: map[connRound]bool{},
		failed: map[*wallConn]bool{}, stored: map[string]bool{}}
}

// commit stores one batch and answers it: one cumulative ack per connection and round, at most
// one gap and one conflict error per connection and round.
func (h *Hub) commit(batch []commitReq, sc *scratch) {
	sc.evs, sc.keep = sc.evs[:0], sc.keep[:0]
	clear(sc.epochs)
	clear(sc.fenced)
	clear(sc.acks)
	clear(sc.gaps)
	clear(sc.conflict)
	clear(sc.failed)
	clear(sc.stored)
	for i, r := range batch { // a connection fenced since it sent this stores nothing more
		hi, ok := sc.epochs[r.ev.Wall]
		if !ok {
			hi = h.store.Epoch(r.ev.Wall)
			sc.epochs[r.ev.Wall] = hi
		}
		if r.wc.epoch < hi {
			sc.fenced[r.wc] = true
			continue
		}
		sc.evs = append(sc.evs, r.ev)
		sc.keep = append(sc.keep, i)
	}
	for wc := range sc.fenced {
		h.fence(wc, wc.epoch, sc.epochs[wc.wall])
	}
	if len(sc.evs) == 0 {
		return
	}
	t0 := time.Now()
	h.busySince.Store(t0.UnixNano())
	res, err := h.store.Commit(sc.evs)
	h.busySince.Store(0)
	h.mCommit.Observe(time.Since(t0).Seconds())
	if err != nil {
		h.cfg.Log.Error().Err(err).Int("events", len(sc.evs)).Msg("commit failed; the walls will resend")
		for _, i := range sc.keep {
			if wc := batch[i].wc; !sc.failed[wc] {
				sc.failed[wc] = true
				h.sendError(wc, netsync.CodeStore, "the backend could not store the event; resend")
			}
		}
		return
	}
	for j, out := range res {
		r := batch[sc.keep[j]]
		k := connRound{r.wc, r.ev.Round}
		switch out {
		case Stored, Duplicate:
			if out == Stored {
				h.mEvents.Inc()
				sc.stored[r.ev.Wall] = true
			} else {
				h.mDups.Inc()
			}
			if _, seen := sc.acks[k]; !seen {
				sc.acks[k] = true
			}
		case Gap:
			h.mGaps.Inc()
			if !sc.gaps[k] {
				sc.gaps[k] = true
				h.sendErrorOf(r.wc, netsync.Message{Type: netsync.TypeError, Code: netsync.CodeGap, Round: r.ev.Round, Seq: r.ev.Seq,
					Message: fmt.Sprintf("round %d: got seq %d, expected %d; resend from your first unacknowledged event",
						r.ev.Round, r.ev.Seq, h.store.StoredSeq(r.ev.Wall, r.ev.Round)+1)})
			}
		case Conflict:
			h.mConflic.Inc()
			sc.acks[k] = false
			if !sc.conflict[k] {
				sc.conflict[k] = true
				h.sendErrorOf(r.wc, netsync.Message{Type: netsync.TypeError, Code: netsync.CodeConflict, Round: r.ev.Round, Seq: r.ev.Seq,
					Message: fmt.Sprintf("round %d seq %d: the backend holds a different event under this key; not stored", r.ev.Round, r.ev.Seq)})
			}
		}
	}
	for k, ok := range sc.acks { // cumulative: the highest seq committed, which is all before it too
		if ok {
			h.send(k.wc, netsync.Message{Type: netsync.TypeAck, Wall: k.wc.wall, Round: k.round, Seq: h.store.StoredSeq(k.wc.wall, k.round)})
		}
	}
	if len(sc.stored) > 0 {
		now := time.Now()
		h.mu.Lock()
		for w := range sc.stored {
			h.infoOf(w).lastEvent = now
		}
		h.mu.Unlock()
		h.markDirty()
	}
}

// infoOf returns wall's info, creating it. h.mu must be held.
func (h *Hub) infoOf(wall string) *wallInfo {
	in := h.info[wall]
	if in == nil {
		in = &wallInfo{}
		h.info[wall] = in
	}
	return in
}

// markDirty tells the page pusher that something the pages show changed.
func (h *Hub) markDirty() {
	select {
	case h.dirty <- struct{}{}:
	default:
	}
}

// closeAll closes every WebSocket (walls and pages) with 1001 "going away", without waiting on
// any of them for more than closeGrace.
func (h *Hub) closeAll() {
	h.mu.Lock()
	conns := make([]*websocket.Conn, 0, len(h.conns))
	for c := range h.conns {
		conns = append(conns, c)
	}
	h.mu.Unlock()
	var wg sync.WaitGroup
	for _, c := range conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			goingAway(c)
			c.Close()
		}()
	}
	wg.Wait()
}

// goingAway sends c a close frame 1001 "scorehub is stopping", waiting at most a tenth of
// closeGrace (a peer that does not read gets none).
func goingAway(c *websocket.Conn) {
	c.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseGoingAway, "scorehub is stopping"),
		time.Now().Add(closeGrace/10))
}

// track registers an open WebSocket so that Run's end closes it; false when the hub has stopped.
func (h *Hub) track(c *websocket.Conn) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.ctx.Err() != nil {
		return false
	}
	h.conns[c] = struct{}{}
	return true
}

func (h *Hub) untrack(c *websocket.Conn) {
	h.mu.Lock()
	delete(h.conns, c)
	h.mu.Unlock()
	c.Close()
}

// Server returns an http.Server for Handler with the hub's timeouts: every request's headers and
// body must arrive within ReadTimeout, so a stalled POST is closed; WebSockets set their own
// deadlines once upgraded.
func (h *Hub) Server() *http.Server {
	return &http.Server{Handler: h.Handler(), ReadTimeout: h.cfg.ReadTimeout,
		ReadHeaderTimeout: min(DefaultReadHeaderTimeout, h.cfg.ReadTimeout), WriteTimeout: DefaultWriteTimeout,
		IdleTimeout: DefaultIdleTimeout, MaxHeaderBytes: 64 << 10,
		ErrorLog: stdlog.New(h.cfg.Log.With().Str("from", "http").Logger(), "", 0)}
}

// logLimiter lets through at most one log line a second per key, counting what it holds back.
type logLimiter struct {
	mu   sync.Mutex
	last map[string]*limited
}

type limited struct {
	at         time.Time
	suppressed int
}

// allow reports whether a line for key may be logged now, and how many were held back before it.
func (l *logLimiter) allow(key string, now time.Time) (ok bool, suppressed int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.last == nil || len(l.last) > 4096 {
		l.last = map[string]*limited{}
	}
	e := l.last[key]
	if e == nil {
		l.last[key] = &limited{at: now}
		return true, 0
	}
	if now.Sub(e.at) < time.Second {
		e.suppressed++
		return false, 0
	}
	s := e.suppressed
	e.at, e.suppressed = now, 0
	return true, s
}

// logRefusal logs an error sent or a request refused, rate-limited per who and code.
func (h *Hub) logRefusal(who, code, msg string) {
	if ok, suppressed := h.errLog.allow(who+"\x00"+code, time.Now()); ok {
		ev := h.cfg.Log.Warn().Str("who", who).Str("code", code)
		if suppressed > 0 {
			ev = ev.Int("suppressed", suppressed)
		}
		ev.Msg(msg)
	}
}

// keyedMutex is one mutex per key, alive while someone holds or waits for it.
type keyedMutex struct {
	mu sync.Mutex
	m  map[string]*keyed
}

type keyed struct {
	sync.Mutex
	n int
}

// lock locks key's mutex and returns its unlock.
func (k *keyedMutex) lock(key string) (unlock func()) {
	k.mu.Lock()
	if k.m == nil {
		k.m = map[string]*keyed{}
	}
	e := k.m[key]
	if e == nil {
		e = &keyed{}
		k.m[key] = e
	}
	e.n++
	k.mu.Unlock()
	e.Lock()
	return func() {
		e.Unlock()
		k.mu.Lock()
		if e.n--; e.n == 0 {
			delete(k.m, key)
		}
		k.mu.Unlock()
	}
}
