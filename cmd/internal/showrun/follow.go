package showrun

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"

	"tapwall/cmd/internal/control"
	"tapwall/game"
	"tapwall/netsync"
)

// Roles of a show, as /status reports them.
const (
	RolePrimary  = "primary"
	RoleStandby  = "standby"
	RoleDiverged = "diverged"
	RoleFenced   = "fenced"
)

// FollowRing is how many tick records wait for one standby's writer: seconds of ticks at any
// tick rate a show uses; a standby further behind is dropped (and rejoins with a fresh snapshot).
const FollowRing = 4096

// showView is the config's show view (game.ShowView) with the content of the theme's files, as
// a standby's config is compared with its primary's.
func showView(cfg *game.Config) (map[string]any, []byte, error) {
	v := game.ShowView(cfg)
	files := map[string]any{}
	for key, p := range map[string]string{"background_image": cfg.Theme.BackgroundImage, "font": cfg.Theme.Font,
		"logo": cfg.Theme.Logo, "target": cfg.Theme.Target, "packet": cfg.Theme.Packet, "golden": cfg.Theme.Golden} {
		if p == "" {
			continue
		}
		if !filepath.IsAbs(p) {
			p = filepath.Join(cfg.Dir, p)
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return nil, nil, fmt.Errorf("theme.%s: %w", key, err)
		}
		sum := sha256.Sum256(b)
		files[key] = hex.EncodeToString(sum[:])
	}
	v["theme_files"] = files
	b, err := json.Marshal(v)
	return v, b, err
}

// follower is one standby attached to this primary: a bounded ring of encoded tick records that
// its own writer goroutine sends, and the last tick it acknowledged.
type follower struct {
	mu      sync.Mutex
	ring    [FollowRing][]byte
	atUS    [FollowRing]int64 // show time each record was stepped at
	head, n int
	wake    chan struct{}
	acked   atomic.Int64
	drop    atomic.Value // string: why it was dropped
	gone    chan struct{}
	// abandoned: its handler gave up waiting for the snapshot (the frames were frozen); the frame
	// goroutine must not attach it. Guarded by follows.mu.
	abandoned bool
}

// push queues a record; it reports false when the follower must be dropped (its ring is full, or
// its oldest record has waited longer than maxLag for its writer). Frame goroutine; it allocates
// only to grow a slot.
func (f *follower) push(rec []byte, at, maxLag int64) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.n == len(f.ring) || (f.n > 0 && at-f.atUS[f.head] > maxLag) {
		return false
	}
	i := (f.head + f.n) % len(f.ring)
	f.ring[i] = append(f.ring[i][:0], rec...)
	f.atUS[i] = at
	f.n++
	select {
	case f.wake <- struct{}{}:
	default:
	}
	return true
}

// pop copies the waiting records into out, one message an element (reusing the elements'
// buffers), and empties the ring.
func (f *follower) pop(out [][]byte) [][]byte {
	f.mu.Lock()
	defer f.mu.Unlock()
	for f.n > 0 {
		k := len(out)
		if k < cap(out) {
			out = out[:k+1]
		} else {
			out = append(out, nil)
		}
		out[k] = append(out[k][:0], f.ring[f.head]...)
		f.head = (f.head + 1) % len(f.ring)
		f.n--
	}
	return out
}

// follows is the primary's side of the follow stream: its standbys, the records since the show's
// base (for a joiner's snapshot), and the score gate.
type follows struct {
	mu        sync.Mutex
	followers []*follower
	snap      chan snapReq
	lastTick  atomic.Int64
	refused   atomic.Int64
	viewJSON  []byte
	view      map[string]any
}

type snapReq struct {
	f     *follower
	reply chan []byte // the snapshot, or nil when the show is not a primary
}

// attached reports whether any standby is attached.
func (fs *follows) attached() bool {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	return len(fs.followers) > 0
}

// minAcked returns the lowest tick every attached standby has acknowledged, and whether any is
// attached.
func (fs *follows) minAcked() (int64, bool) {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	if len(fs.followers) == 0 {
		return 0, false
	}
	m := int64(1<<63 - 1)
	for _, f := range fs.followers {
		m = min(m, f.acked.Load())
	}
	return m, true
}

func (fs *follows) remove(f *follower) {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	if i := slices.Index(fs.followers, f); i >= 0 {
		fs.followers = slices.Delete(fs.followers, i, i+1)
	}
}

// upgrader takes the standbys' WebSockets: the control server has checked the host and the token;
// a standby is not a browser and sends no Origin.
var upgrader = websocket.Upgrader{ReadBufferSize: 4096, WriteBufferSize: 64 << 10,
	CheckOrigin: func(r *http.Request) bool { return r.Header.Get("Origin") == "" }}

// FollowHandler serves GET /follow for standbys (mount it as control.Config.Follow).
func (r *Runner) FollowHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		conn, err := upgrader.Upgrade(w, req, nil)
		if err != nil {
			return
		}
		r.serveFollower(req.Context(), conn, req.RemoteAddr)
	})
}

func (r *Runner) serveFollower(ctx context.Context, conn *websocket.Conn, remote string) {
	defer conn.Close()
	fs := r.follows
	log := r.log.With().Str("standby", remote).Logger()
	conn.SetReadLimit(1 << 20)
	refuse := func(code, msg string) {
		fs.refused.Add(1)
		log.Error().Str("code", code).Msg("standby refused: " + msg)
		b, _ := json.Marshal(netsync.FollowMsg{Type: netsync.FollowRefused, Code: code, Message: msg})
		conn.SetWriteDeadline(time.Now().Add(netsync.WriteWait))
		conn.WriteMessage(websocket.TextMessage, b)
		conn.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.ClosePolicyViolation, code), time.Now().Add(time.Second))
	}
	conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	typ, b, err := conn.ReadMessage()
	if err != nil {
		log.Warn().Err(err).Msg("standby sent no hello")
		return
	}
	hello, err := netsync.DecodeFollow(b)
	switch {
	case typ != websocket.TextMessage || err != nil || hello.Type != netsync.FollowHello:
		refuse("hello", fmt.Sprintf("the first message must be a follow hello, got %.60q", b))
		return
	case hello.Version != netsync.FollowVersion:
		refuse(netsync.FollowCodeVersion, fmt.Sprintf("the primary speaks follow version %d, the standby %d: run the same tapwall on both", netsync.FollowVersion, hello.Version))
		return
	}
	var theirs map[string]any
	if err := json.Unmarshal(hello.View, &theirs); err != nil {
		refuse(netsync.FollowCodeConfig, "the standby sent no config view")
		return
	}
	if key := game.FirstDifference(fs.view, theirs); key != "" {
		refuse(netsync.FollowCodeConfig, fmt.Sprintf("config key %s differs between the primary and the standby: give both PCs the same show config (only frames, input, render, standby and desk keyboards may differ)", key))
		return
	}
	f := &follower{wake: make(chan struct{}, 1), gone: make(chan struct{})}
	req := snapReq{f: f, reply: make(chan []byte, 1)}
	select {
	case fs.snap <- req:
	case <-time.After(2 * time.Second):
		refuse(netsync.FollowCodeBusy, "the primary's frame loop did not answer in 2 s: is it frozen?")
		return
	}
	var snap []byte
	select {
	case snap = <-req.reply:
	case <-time.After(2 * time.Second):
		fs.mu.Lock() // the frame goroutine may still take the request: it must not attach it
		f.abandoned = true
		fs.mu.Unlock()
		fs.remove(f)
		refuse(netsync.FollowCodeBusy, "the primary's frame loop did not answer in 2 s: is it frozen?")
		return
	}
	if snap == nil {
		refuse(netsync.FollowCodeRole, "this show is not a primary: follow the primary")
		return
	}
	defer fs.remove(f)
	maxLag := time.Duration(r.cfg.Standby.MaxLagMS) * time.Millisecond
	conn.SetWriteDeadline(time.Now().Add(max(maxLag, 10*time.Second)))
	if err := conn.WriteMessage(websocket.TextMessage, snap); err != nil {
		log.Warn().Err(err).Msg("standby lost while sending its snapshot")
		return
	}
	log.Info().Int("snapshot_bytes", len(snap)).Msg("standby joined")
	readerDone := make(chan struct{})
	go func() { // the connection's only reader: acks
		defer close(readerDone)
		for {
			conn.SetReadDeadline(time.Now().Add(netsync.PongWait))
			_, b, err := conn.ReadMessage()
			if err != nil {
				return
			}
			m, err := netsync.DecodeFollow(b)
			if err != nil || m.Type != netsync.FollowAck {
				log.Warn().Msg("standby sent something other than an ack; dropped")
				conn.Close()
				return
			}
			f.acked.Store(m.Tick)
			if r.gate != nil {
				r.gate.poke()
			}
		}
	}()
	beat := time.NewTicker(netsync.HeartbeatEvery)
	defer beat.Stop()
	var out [][]byte
	bb := make([]byte, 0, 96)
	for {
		select {
		case <-f.wake:
		case <-beat.C:
			bb = append(bb[:0], `{"type":"beat","tick":`...)
			bb = appendInt(bb, fs.lastTick.Load())
			bb = append(bb, `,"sent_us":`...)
			bb = appendInt(bb, r.opt.Clock())
			bb = append(bb, '}')
			out = append(out[:0], bb)
			if !r.write(conn, out, maxLag) {
				log.Warn().Msg("standby stopped reading (write deadline): dropped")
				return
			}
			out = out[:0]
		case <-readerDone:
			log.Info().Msg("standby left")
			return
		case <-ctx.Done():
			return
		case <-f.gone:
			why, _ := f.drop.Load().(string)
			log.Warn().Str("why", why).Msg("standby dropped: it must rejoin with a fresh snapshot")
			b, _ := json.Marshal(netsync.FollowMsg{Type: netsync.FollowDropped, Message: why})
			conn.SetWriteDeadline(time.Now().Add(time.Second))
			conn.WriteMessage(websocket.TextMessage, b)
			return
		}
		out = f.pop(out[:0])
		if !r.write(conn, out, maxLag) {
			log.Warn().Msg("standby stopped reading (write deadline): dropped")
			return
		}
	}
}

func (r *Runner) write(conn *websocket.Conn, msgs [][]byte, maxLag time.Duration) bool {
	for _, m := range msgs {
		conn.SetWriteDeadline(time.Now().Add(maxLag))
		if err := conn.WriteMessage(websocket.TextMessage, m); err != nil {
			return false
		}
	}
	return true
}

func appendInt(b []byte, v int64) []byte { return strconv.AppendInt(b, v, 10) }

// recordTick keeps a stepped tick's record (frame goroutine) in the log a joiner's snapshot is
// built from (a standby keeps it too: once promoted, it takes standbys itself) and, on a primary,
// hands it to every attached standby; a standby whose ring is full or too far behind is dropped,
// never waited for.
func (r *Runner) recordTick(tick int64, in []game.Input, scheduled bool) {
	fs := r.follows
	fs.lastTick.Store(tick)
	var began *game.RoundParams
	if p, ok := r.show.Began(); ok {
		r.beganRec = p // a field: a local whose address is taken would be allocated every tick
		began = &r.beganRec
	}
	if b, ok := r.show.Before(); ok { // a new base: the log restarts at this tick
		r.base = b
		r.since, r.sinceEnds = r.since[:0], r.sinceEnds[:0]
		r.emptyRun = 0
	}
	at := r.loop.TimeOf(tick)
	hash := r.show.Hash()
	r.lastHash = hash // a standby checks it against its primary's
	r.recBuf = netsync.AppendTickRecord(r.recBuf[:0], tick, r.opt.Clock(), 0, in, began, scheduled, hash)
	// The log keeps a run of ticks with nothing in them as one record (the last of them, with
	// "skip": how many empty ticks come before it): a show waiting hours between rounds keeps a
	// log of a few bytes, and a joiner steps the empty ticks at a microsecond each.
	if len(in) == 0 && began == nil && !scheduled {
		r.emptyRun++
		r.emptyTick, r.emptyHash = tick, hash
	} else {
		r.flushEmpty()
		r.since = append(r.since, r.recBuf...)
		r.sinceEnds = append(r.sinceEnds, len(r.since))
	}
	if r.role != RolePrimary {
		return
	}
	maxLag := int64(r.cfg.Standby.MaxLagMS) * 1000
	lagTicks := maxLag * int64(r.cfg.Round.TickRate) / 1_000_000
	fs.mu.Lock()
	for _, f := range fs.followers {
		if f.drop.Load() != nil {
			continue
		}
		// Behind is measured by what the standby acknowledged, not by what the socket took: the
		// kernel's buffers would hide a stopped standby for minutes.
		if !f.push(r.recBuf, at, maxLag) || tick-f.acked.Load() > lagTicks {
			f.drop.Store(fmt.Sprintf("%d ticks behind: more than standby.max_lag_ms (%d)", tick-f.acked.Load(), r.cfg.Standby.MaxLagMS))
			close(f.gone)
		}
	}
	fs.mu.Unlock()
}

// flushEmpty appends the run of empty ticks pending in the snapshot log as one record.
func (r *Runner) flushEmpty() {
	if r.emptyRun == 0 {
		return
	}
	r.since = netsync.AppendTickRecord(r.since, r.emptyTick, r.opt.Clock(), r.emptyRun-1, nil, nil, false, r.emptyHash)
	r.sinceEnds = append(r.sinceEnds, len(r.since))
	r.emptyRun = 0
}

// snapshots answers the standbys waiting to join (frame goroutine): the show's base, every tick
// since, and from the next tick on, its records in the standby's ring.
func (r *Runner) snapshots(now int64) {
	for {
		select {
		case req := <-r.follows.snap:
			if r.role != RolePrimary || r.loop == nil {
				req.reply <- nil
				continue
			}
			r.flushEmpty()
			epoch := uint64(1)
			if r.backend != nil {
				epoch = r.backend.outbox.Epoch()
			}
			b := append([]byte(nil), `{"type":"snapshot","version":`...)
			b = appendInt(b, netsync.FollowVersion)
			b = append(b, `,"view":`...)
			b = append(b, r.follows.viewJSON...)
			head, _ := json.Marshal(struct {
				Wall     string         `json:"wall"`
				ShowID   string         `json:"show_id"`
				Epoch    uint64         `json:"epoch"`
				Rate     int            `json:"rate"`
				OriginUS int64          `json:"origin_us"`
				SentUS   int64          `json:"sent_us"`
				Tick     int64          `json:"tick"`
				Base     *game.ShowBase `json:"base"`
			}{r.cfg.Wall.ID, r.showID, epoch, r.cfg.Round.TickRate, r.loop.Origin(), now, r.loop.Next(), &r.base})
			b = append(b, ',')
			b = append(b, head[1:len(head)-1]...)
			b = append(b, `,"ticks":[`...)
			start := 0
			for i, end := range r.sinceEnds {
				if i > 0 {
					b = append(b, ',')
				}
				b = append(b, r.since[start:end]...)
				start = end
			}
			b = append(b, "]}"...)
			req.f.acked.Store(r.loop.Next() - 1) // nothing it is shown waits for its ack
			r.follows.mu.Lock()
			if !req.f.abandoned {
				r.follows.followers = append(r.follows.followers, req.f)
			}
			r.follows.mu.Unlock()
			req.reply <- b
		default:
			return
		}
	}
}

// gate holds score events while a standby is attached, until it has acknowledged their tick: the
// backend never holds an event the standby cannot produce. Its own goroutine releases them to the
// outbox (never the frame goroutine), at once when no standby is attached, and after
// standby.ack_timeout_ms anyway (counted: the "standby not following" alarm).
type gate struct {
	mu       sync.Mutex
	held     []gated
	wake     chan struct{}
	timeouts atomic.Int64
}

type gated struct {
	e    game.ScoreEvent
	tick int64 // show tick it was produced in
	at   time.Time
}

func newGate() *gate { return &gate{wake: make(chan struct{}, 1)} }

// add holds the events of show tick (frame goroutine: a short lock, no I/O).
func (g *gate) add(evs []game.ScoreEvent, tick int64) {
	now := time.Now()
	g.mu.Lock()
	for _, e := range evs {
		g.held = append(g.held, gated{e: e, tick: tick, at: now})
	}
	g.mu.Unlock()
	g.poke()
}

func (g *gate) poke() {
	select {
	case g.wake <- struct{}{}:
	default:
	}
}

// run releases events until ctx ends, then releases everything held. It blocks.
func (g *gate) run(ctx context.Context, fs *follows, ob *netsync.Outbox, timeout time.Duration) {
	t := time.NewTicker(10 * time.Millisecond)
	defer t.Stop()
	for {
		select {
		case <-g.wake:
		case <-t.C:
		case <-ctx.Done():
			// Everything held goes to the outbox; a full queue is waited out (the outbox writer
			// runs until the gate is done), bounded, so no score is left behind at exit.
			for deadline := time.Now().Add(10 * time.Second); ; {
				g.release(ob, 1<<62, true, timeout)
				if g.heldN() == 0 || time.Now().After(deadline) {
					return
				}
				time.Sleep(5 * time.Millisecond)
			}
		}
		acked, any := fs.minAcked()
		if !any {
			acked = 1 << 62
		}
		g.release(ob, acked, false, timeout)
	}
}

func (g *gate) release(ob *netsync.Outbox, acked int64, all bool, timeout time.Duration) {
	g.mu.Lock()
	defer g.mu.Unlock()
	n := 0
	for _, h := range g.held {
		late := time.Since(h.at) > timeout
		if h.tick > acked && !late && !all {
			break // in order: an event waits for its tick's ack, and so do the ones after it
		}
		if err := ob.Submit(h.e); err != nil {
			break // the outbox's queue is full: they stay here, in order, and are retried
		}
		if h.tick > acked && late {
			g.timeouts.Add(1)
		}
		n++
	}
	g.held = append(g.held[:0], g.held[n:]...)
}

// heldN returns how many events the gate holds.
func (g *gate) heldN() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return len(g.held)
}

// Promote is control.Promoter: it promotes this standby at the next frame and waits for it.
func (r *Runner) Promote(ctx context.Context) error {
	req := consoleReq{ui: "promote", reply: make(chan consoleReply, 1)}
	select {
	case r.console <- req:
	case <-ctx.Done():
		return fmt.Errorf("the frame loop is not taking requests: %w", ctx.Err())
	}
	select {
	case rep := <-req.reply:
		return rep.err
	case <-ctx.Done():
		return fmt.Errorf("the frame loop did not promote in time: %w", ctx.Err())
	}
}

var errDiverged = errors.New("this standby diverged from its primary: it cannot take over (restart it with --follow to rejoin)")

// promote makes this standby the primary (frame goroutine): it continues from the last tick it
// stepped, on the primary's clock; opens its touch frames; connects to the backend with the next
// epoch; plays the script after the last followed tick; and takes standbys itself.
func (r *Runner) promote(now int64, why string) error {
	switch r.role {
	case RolePrimary, RoleFenced:
		return control.ErrNotStandby
	case RoleDiverged:
		return errDiverged
	}
	if r.loop == nil && len(r.fclient.Messages()) == 0 {
		return errors.New("this standby has no show yet: it never received its primary's snapshot")
	}
	r.stopFollow()
	// Every tick the standby acknowledged is stepped before it takes over: the primary may have
	// handed those ticks' scores to the backend already.
	for drained := false; !drained; {
		select {
		case m := <-r.fclient.Messages():
			r.follow(m, now)
		default:
			drained = true
		}
	}
	if r.role == RoleDiverged {
		return errDiverged
	}
	if r.loop == nil {
		return errors.New("this standby has no show yet: it never received its primary's snapshot")
	}
	off, _ := r.fclient.Offset()
	last := r.show.Tick() - 1
	r.primaryLoop(r.primaryOrigin+off, last+1)
	r.role = RolePrimary
	epoch := r.primaryEpoch + 1
	r.log.Warn().Str("why", why).Int64("tick", last+1).Uint64("epoch", epoch).Int64("offset_us", off).
		Int64("late_us", now-r.loop.TimeOf(last+1)).Msg("PROMOTED: this standby is the primary now")
	if r.touch != nil {
		go r.touch.run(r.ctx)
	}
	if r.backend != nil {
		b := r.backend
		go func() { // the epoch is fsynced before the first hello carries it
			if err := b.outbox.SetEpoch(epoch); err != nil {
				r.log.Error().Err(err).Msg("promotion: cannot persist the epoch; not connecting to the backend")
				return
			}
			b.startClient()
		}()
	}
	return nil
}
