package hub

import (
	"context"
	"crypto/subtle"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"sync"
	"tapwall/netsync"
	"time"

	"github.com/gorilla/websocket"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/rs/zerolog"
)

//go:embed page.html
var pageHTML []byte

// HubConfig configures a Hub.
type HubConfig struct {
	// Token, if set, is required in every wall's hello and on POST /api/start.
	Token string
	Log   zerolog.Logger
	// Now is the show clock in microseconds; nil: Unix time.
	Now func() int64
}

type wallConn struct {
	wall string
	conn *websocket.Conn
	out  chan netsync.Message
	done chan struct{}
	once sync.Once
}

func (w *wallConn) send(m netsync.Message) {
	select {
	case w.out <- m:
	case <-w.done:
	}
}

func (w *wallConn) stop() { w.once.Do(func() { close(w.done) }) }

type commitReq struct {
	ev netsync.Event
	wc *wallConn
}

// Hub is the reference scoring backend behind scorehub: it accepts walls over WebSocket, commits
// their events to the Store in group commits and acknowledges only what is committed, drops
// duplicates, refuses gaps, relays show commands, and serves totals, health, metrics and a live
// page. Run its committer with Run and serve Handler. Safe for concurrent use.
type Hub struct {
	cfg   HubConfig
	store *Store
	in    chan commitReq
	mu    sync.Mutex
	walls map[string]*wallConn
	pages map[*websocket.Conn]chan []byte
	reg   *prometheus.Registry

	mEvents, mDups, mGaps prometheus.Counter
	mErrors               *prometheus.CounterVec
	mConns                prometheus.Gauge
	mCommit               prometheus.Histogram
}

// NewHub returns a hub over store.
func NewHub(store *Store, cfg HubConfig) *Hub {
	if cfg.Now == nil {
		cfg.Now = func() int64 { return time.Now().UnixMicro() }
	}
	h := &Hub{cfg: cfg, store: store, in: make(chan commitReq, 8192), walls: map[string]*wallConn{},
		pages: map[*websocket.Conn]chan []byte{}, reg: prometheus.NewRegistry()}
	h.mEvents = prometheus.NewCounter(prometheus.CounterOpts{Name: "scorehub_events_stored_total", Help: "Score events committed."})
	h.mDups = prometheus.NewCounter(prometheus.CounterOpts{Name: "scorehub_events_duplicate_total", Help: "Score events received again and dropped."})
	h.mGaps = prometheus.NewCounter(prometheus.CounterOpts{Name: "scorehub_events_gap_total", Help: "Score events refused for a gap in seq."})
	h.mErrors = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "scorehub_errors_total", Help: "Error messages sent, by code."}, []string{"code"})
	h.mConns = prometheus.NewGauge(prometheus.GaugeOpts{Name: "scorehub_walls_connected", Help: "Walls connected now."})
	h.mCommit = prometheus.NewHistogram(prometheus.HistogramOpts{Name: "scorehub_commit_seconds", Help: "Time to commit a batch (fsync included).",
		Buckets: prometheus.ExponentialBuckets(0.0001, 2, 14)})
	h.reg.MustRegister(h.mEvents, h.mDups, h.mGaps, h.mErrors, h.mConns, h.mCommit)
	return h
}

// Run commits received events in batches until ctx is cancelled. It blocks.
func (h *Hub) Run(ctx context.Context) {
	batch := make([]commitReq, 0, 4096)
	evs := make([]netsync.Event, 0, 4096)
	for {
		batch = batch[:0]
		select {
		case r := <-h.in:
			batch = append(batch, r)
		case <-ctx.Done():
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
		evs = evs[:0]
		for _, r := range batch {
			evs = append(evs, r.ev)
		}
		t0 := time.Now()
		res, err := h.store.Commit(evs)
		h.mCommit.Observe(time.Since(t0).Seconds())
		if err != nil {
			h.cfg.Log.Error().Err(err).Int("events", len(evs)).Msg("commit failed; walls will resend")
			for _, r := range batch {
				h.sendError(r.wc, netsync.CodeStore, "the backend could not store the event; resend")
			}
			continue
		}
		type key struct {
			wc    *wallConn
			round uint32
		}
		acks := map[key]bool{}
		for i, r := range batch {
			switch res[i] {
			case Stored:
				h.mEvents.Inc()
				acks[key{r.wc, r.ev.Round}] = true
			case Duplicate:
				h.mDups.Inc()
				acks[key{r.wc, r.ev.Round}] = true
			case Gap:
				h.mGaps.Inc()
				h.sendError(r.wc, netsync.CodeGap, fmt.Sprintf("round %d: got seq %d, expected %d; resend from your first unacknowledged event",
					r.ev.Round, r.ev.Seq, h.store.StoredSeq(r.ev.Wall, r.ev.Round)+1))
			}
		}
		for k := range acks { // cumulative: the highest seq committed, which is all before it too
			k.wc.send(netsync.Message{Type: netsync.TypeAck, Wall: k.wc.wall, Round: k.round, Seq: h.store.StoredSeq(k.wc.wall, k.round)})
		}
		h.pushTotals()
	}
}

func (h *Hub) sendError(wc *wallConn, code, msg string) {
	h.mErrors.WithLabelValues(code).Inc()
	wc.send(netsync.Message{Type: netsync.TypeError, Code: code, Message: msg})
}

// Handler serves /ws (walls), /api/totals, /api/start, /healthz, /metrics, /live and / (the page).
func (h *Hub) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/ws", h.serveWall)
	mux.HandleFunc("/live", h.serveLive)
	mux.HandleFunc("GET /api/totals", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(h.store.Totals())
	})
	mux.HandleFunc("POST /api/start", h.serveStart)
	mux.HandleFunc("POST /api/abort", h.serveAbort)
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain")
		fmt.Fprintln(w, "ok")
	})
	mux.Handle("GET /metrics", promhttp.HandlerFor(h.reg, promhttp.HandlerOpts{}))
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Write(pageHTML)
	})
	return mux
}

// hardReadLimit is where gorilla itself cuts a message off.
const hardReadLimit = 4 * netsync.MaxMessage

var wallUpgrader = websocket.Upgrader{ReadBufferSize: 4096, WriteBufferSize: 4096}

func (h *Hub) closeWith(conn *websocket.Conn, code int, text string) {
	conn.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(code, text), time.Now().Add(time.Second))
	conn.Close()
}

func (h *Hub) serveWall(w http.ResponseWriter, r *http.Request) {
	conn, err := wallUpgrader.Upgrade(w, r, nil)
	if err != nil {
		return // the upgrader has answered
	}
	// gorilla closes at its read limit without a word; a message between MaxMessage and this hard
	// limit gets the protocol's too_big error first.
	conn.SetReadLimit(hardReadLimit)
	log := h.cfg.Log.With().Str("remote", r.RemoteAddr).Logger()
	conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	_, b, err := conn.ReadMessage()
	if err != nil {
		conn.Close()
		return
	}
	hello, err := netsync.Decode(b)
	fail := func(code string, close int, msg string) {
		h.mErrors.WithLabelValues(code).Inc()
		conn.SetWriteDeadline(time.Now().Add(netsync.WriteWait))
		conn.WriteJSON(netsync.Message{Type: netsync.TypeError, Code: code, Message: msg})
		h.closeWith(conn, close, msg)
	}
	switch {
	case err != nil || hello.Type != netsync.TypeHello:
		fail(netsync.CodeNeedHello, websocket.CloseProtocolError, "the first message must be a hello")
		return
	case hello.Version != netsync.ProtocolVersion:
		fail(netsync.CodeBadVersion, websocket.CloseProtocolError, fmt.Sprintf("protocol version %d; this backend speaks %d", hello.Version, netsync.ProtocolVersion))
		return
	case h.cfg.Token != "" && subtle.ConstantTimeCompare([]byte(hello.Token), []byte(h.cfg.Token)) != 1:
		log.Warn().Str("wall", hello.Wall).Msg("wall refused: wrong token")
		fail(netsync.CodeBadToken, websocket.ClosePolicyViolation, "wrong token")
		return
	case hello.Wall == "":
		fail(netsync.CodeNeedHello, websocket.CloseProtocolError, "hello without a wall id")
		return
	}
	wc := &wallConn{wall: hello.Wall, conn: conn, out: make(chan netsync.Message, 1024), done: make(chan struct{})}
	conn.SetWriteDeadline(time.Now().Add(netsync.WriteWait))
	if err := conn.WriteJSON(netsync.Message{Type: netsync.TypeWelcome, Version: netsync.ProtocolVersion, Acked: h.store.Acked(hello.Wall)}); err != nil {
		conn.Close()
		return
	}
	h.mu.Lock()
	if old := h.walls[hello.Wall]; old != nil {
		old.stop() // a wall reconnecting replaces its old connection
		old.conn.Close()
	}
	h.walls[hello.Wall] = wc
	h.mu.Unlock()
	h.mConns.Inc()
	log = log.With().Str("wall", hello.Wall).Logger()
	log.Info().Msg("wall connected")
	writerDone := make(chan struct{})
	go h.writeWall(wc, writerDone)
	if h.readWall(wc, log) { // let the writer send the too_big error and close
		select {
		case <-writerDone:
		case <-time.After(netsync.WriteWait):
		}
	}
	wc.stop()
	<-writerDone
	conn.Close()
	h.mu.Lock()
	if h.walls[hello.Wall] == wc {
		delete(h.walls, hello.Wall)
	}
	h.mu.Unlock()
	h.mConns.Dec()
	log.Info().Msg("wall disconnected")
}

// readWall is a wall connection's only reader. It reports whether it stopped on a message too big.
func (h *Hub) readWall(wc *wallConn, log zerolog.Logger) (tooBig bool) {
	conn := wc.conn
	conn.SetReadDeadline(time.Now().Add(netsync.PongWait))
	conn.SetPongHandler(func(string) error { return conn.SetReadDeadline(time.Now().Add(netsync.PongWait)) })
	conn.SetPingHandler(func(data string) error {
		conn.SetReadDeadline(time.Now().Add(netsync.PongWait))
		return conn.WriteControl(websocket.PongMessage, []byte(data), time.Now().Add(netsync.WriteWait))
	})
	for {
		_, b, err := conn.ReadMessage()
		if err == nil && len(b) > netsync.MaxMessage {
			err = websocket.ErrReadLimit
		}
		if err != nil {
			if errors.Is(err, websocket.ErrReadLimit) {
				log.Warn().Int("bytes", len(b)).Msg("message over the size limit; connection closed")
				h.sendError(wc, netsync.CodeTooBig, fmt.Sprintf("message over %d bytes", netsync.MaxMessage))
				return true
			}
			return false
		}
		t2 := h.cfg.Now()
		conn.SetReadDeadline(time.Now().Add(netsync.PongWait))
		m, err := netsync.Decode(b)
		if err != nil {
			h.sendError(wc, netsync.CodeBadJSON, err.Error())
			continue
		}
		switch m.Type {
		case netsync.TypeScore:
			ev, err := netsync.EventOf(&m)
			if err == nil && ev.Wall != wc.wall {
				err = fmt.Errorf("score for wall %q on the connection of wall %q", ev.Wall, wc.wall)
			}
			if err != nil {
				h.sendError(wc, netsync.CodeBadEvent, err.Error())
				continue
			}
			select {
			case h.in <- commitReq{ev: ev, wc: wc}:
			case <-wc.done:
				return false
			}
		case netsync.TypeTimeReq:
			wc.send(netsync.Message{Type: netsync.TypeTimeResp, T1: m.T1, T2: t2}) // T3 is stamped by the writer
		default:
			h.sendError(wc, netsync.CodeBadJSON, fmt.Sprintf("unexpected message type %q", m.Type))
		}
	}
}

// writeWall is a wall connection's only writer: acks, errors, time responses, commands and pings.
func (h *Hub) writeWall(wc *wallConn, done chan<- struct{}) {
	defer close(done)
	ping := time.NewTicker(netsync.PingPeriod)
	defer ping.Stop()
	for {
		select {
		case m := <-wc.out:
			if m.Type == netsync.TypeTimeResp {
				m.T3 = h.cfg.Now()
			}
			wc.conn.SetWriteDeadline(time.Now().Add(netsync.WriteWait))
			if err := wc.conn.WriteJSON(m); err != nil {
				wc.conn.Close()
				return
			}
			if m.Type == netsync.TypeError && m.Code == netsync.CodeTooBig {
				h.closeWith(wc.conn, websocket.CloseMessageTooBig, "message too big")
				return
			}
		case <-ping.C:
			if err := wc.conn.WriteControl(websocket.PingMessage, nil, time.Now().Add(netsync.WriteWait)); err != nil {
				wc.conn.Close()
				return
			}
		case <-wc.done:
			return
		}
	}
}

// StartRequest is the body of POST /api/start.
type StartRequest struct {
	Wall  string `json:"wall"`
	Round uint32 `json:"round"` // 0: the next after the highest stored
	Game  string `json:"game"`
	Seed  uint64 `json:"seed"`
	AtUS  int64  `json:"at_us"` // show time of the round's tick 0
}

// SendStart relays a start command to a connected wall and returns the round number sent.
func (h *Hub) SendStart(req StartRequest) (uint32, error) {
	h.mu.Lock()
	wc := h.walls[req.Wall]
	h.mu.Unlock()
	if wc == nil {
		return 0, fmt.Errorf("wall %q is not connected", req.Wall)
	}
	if req.Round == 0 {
		req.Round = h.store.MaxRound(req.Wall) + 1
	}
	wc.send(netsync.Message{Type: netsync.TypeStart, Round: req.Round, Game: req.Game, Seed: req.Seed, AtUS: req.AtUS})
	h.cfg.Log.Info().Str("wall", req.Wall).Uint32("round", req.Round).Str("game", req.Game).Int64("at_us", req.AtUS).Msg("start command sent")
	return req.Round, nil
}

// authorized checks the bearer token of an API request, answering 401 when it is wrong.
func (h *Hub) authorized(w http.ResponseWriter, r *http.Request) bool {
	if h.cfg.Token != "" && subtle.ConstantTimeCompare([]byte(r.Header.Get("Authorization")), []byte("Bearer "+h.cfg.Token)) != 1 {
		http.Error(w, "wrong token", http.StatusUnauthorized)
		return false
	}
	return true
}

// SendAbort relays an abort of round to a connected wall.
func (h *Hub) SendAbort(wall string, round uint32) error {
	h.mu.Lock()
	wc := h.walls[wall]
	h.mu.Unlock()
	if wc == nil {
		return fmt.Errorf("wall %q is not connected", wall)
	}
	wc.send(netsync.Message{Type: netsync.TypeAbort, Round: round})
	h.cfg.Log.Warn().Str("wall", wall).Uint32("round", round).Msg("abort command sent")
	return nil
}

func (h *Hub) serveAbort(w http.ResponseWriter, r *http.Request) {
	if !h.authorized(w, r) {
		return
	}
	var req struct {
		Wall  string `json:"wall"`
		Round uint32 `json:"round"`
	}
	r.Body = http.MaxBytesReader(w, r.Body, netsync.MaxMessage)
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil || req.Wall == "" || req.Round == 0 {
		http.Error(w, "want {\"wall\",\"round\"}", http.StatusBadRequest)
		return
	}
	if err := h.SendAbort(req.Wall, req.Round); err != nil {
		http.Error(w, err.Error(), http.StatusConflict)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(req)
}

func (h *Hub) serveStart(w http.ResponseWriter, r *http.Request) {
	if !h.authorized(w, r) {
		return
	}
	var req StartRequest
	r.Body = http.MaxBytesReader(w, r.Body, netsync.MaxMessage)
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil || req.Wall == "" || req.Game == "" {
		http.Error(w, "want {\"wall\",\"round\",\"game\",\"seed\",\"at_us\"}", http.StatusBadRequest)
		return
	}
	round, err := h.SendStart(req)
	if err != nil {
		http.Error(w, err.Error(), http.StatusConflict)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(map[string]any{"wall": req.Wall, "round": round, "at_us": req.AtUS})
}

// pageUpgrader accepts the live page only from the page's own origin.
var pageUpgrader = websocket.Upgrader{CheckOrigin: func(r *http.Request) bool {
	u, err := url.Parse(r.Header.Get("Origin"))
	return err == nil && u.Host == r.Host
}}

func (h *Hub) serveLive(w http.ResponseWriter, r *http.Request) {
	conn, err := pageUpgrader.Upgrade(w, r, nil)
	if err != nil {
		return
	}
	ch := make(chan []byte, 1)
	h.mu.Lock()
	h.pages[conn] = ch
	h.mu.Unlock()
	defer func() {
		h.mu.Lock()
		delete(h.pages, conn)
		h.mu.Unlock()
		conn.Close()
	}()
	gone := make(chan struct{})
	go func() { // the page's only reader: it notices the page going away
		defer close(gone)
		for {
			if _, _, err := conn.ReadMessage(); err != nil {
				return
			}
		}
	}()
	b, _ := json.Marshal(h.store.Totals())
	for {
		conn.SetWriteDeadline(time.Now().Add(netsync.WriteWait))
		if err := conn.WriteMessage(websocket.TextMessage, b); err != nil {
			return
		}
		select {
		case b = <-ch:
		case <-gone:
			return
		}
	}
}

// pushTotals sends the new totals to every live page (latest wins: a slow page skips updates).
func (h *Hub) pushTotals() {
	h.mu.Lock()
	defer h.mu.Unlock()
	if len(h.pages) == 0 {
		return
	}
	b, _ := json.Marshal(h.store.Totals())
	for _, ch := range h.pages {
		select {
		case <-ch:
		default:
		}
		ch <- b
	}
}
