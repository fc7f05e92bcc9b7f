package hub

import (
	_ "embed"
	"encoding/json"
	"net/http"
	"sort"
	"tapwall/netsync"
	"time"

	"github.com/gorilla/websocket"
)

//go:embed page.html
var pageHTML []byte

//go:embed overlay.html
var overlayHTML []byte

//go:embed director.html
var directorHTML []byte

// WallsInfo is the JSON of GET /api/walls: every wall the hub knows, sorted by id.
type WallsInfo struct {
	NowUS int64      `json:"now_us"` // the hub's show clock
	Walls []WallInfo `json:"walls"`
}

// WallInfo is one wall in WallsInfo.
type WallInfo struct {
	Wall           string              `json:"wall"`
	Link           string              `json:"link"`              // "up" or "down"
	Remote         string              `json:"remote"`            // the address of its connection, or of its last one
	Epoch          uint64              `json:"epoch"`             // the highest epoch the hub holds for it (0: none)
	Role           string              `json:"role"`              // from its latest status ("" before one)
	MaxRound       uint32              `json:"max_round"`         // its highest round stored or started
	LastEventAgeMS *int64              `json:"last_event_age_ms"` // since its last stored event; null: none since scorehub started
	StatusAgeMS    *int64              `json:"status_age_ms"`     // since its latest status; null: none since scorehub started
	Status         *netsync.WallStatus `json:"status"`            // its latest status, null before one
	Totals         *RoundTotals        `json:"totals"`            // the stored totals of its current round, null when there is none
}

// LiveMessage is what the live pages (/, /overlay, /director) receive over /live: the walls and
// every round's totals, on every change (at most ten a second) and every second.
type LiveMessage struct {
	WallsInfo
	Totals Totals `json:"totals"`
}

// Walls returns what GET /api/walls serves. The current round is the one the wall's status names,
// or its highest stored round.
func (h *Hub) Walls() WallsInfo {
	now := time.Now()
	names := map[string]bool{}
	for _, w := range h.store.Walls() {
		names[w] = true
	}
	type snap struct {
		up                  bool
		remote              string
		status              *netsync.WallStatus
		statusAt, lastEvent time.Time
	}
	snaps := map[string]snap{}
	h.mu.Lock()
	for w := range h.walls {
		names[w] = true
	}
	for w := range h.info {
		names[w] = true
	}
	for w := range names {
		s := snap{up: h.walls[w] != nil}
		if in := h.info[w]; in != nil {
			s.remote, s.status, s.statusAt, s.lastEvent = in.remote, in.status, in.statusAt, in.lastEvent
		}
		snaps[w] = s
	}
	h.mu.Unlock()
	out := WallsInfo{NowUS: h.cfg.Now(), Walls: make([]WallInfo, 0, len(names))}
	for w, s := range snaps {
		wi := WallInfo{Wall: w, Link: "down", Remote: s.remote, Epoch: h.store.Epoch(w), MaxRound: h.store.MaxRound(w), Status: s.status}
		if s.up {
			wi.Link = "up"
		}
		round := h.store.MaxStoredRound(w)
		if s.status != nil {
			wi.Role = s.status.Role
			age := now.Sub(s.statusAt).Milliseconds()
			wi.StatusAgeMS = &age
			if s.status.Round > 0 {
				round = s.status.Round
			}
		}
		if !s.lastEvent.IsZero() {
			age := now.Sub(s.lastEvent).Milliseconds()
			wi.LastEventAgeMS = &age
		}
		if round > 0 {
			rt, _ := h.store.RoundTotals(w, round)
			wi.Totals = &rt
		}
		out.Walls = append(out.Walls, wi)
	}
	sort.Slice(out.Walls, func(i, j int) bool { return out.Walls[i].Wall < out.Walls[j].Wall })
	return out
}

// pageConn is one live page's WebSocket; the pusher hands it the latest message (a slow page
// skips to the newest).
type pageConn struct {
	conn *websocket.Conn
	ch   chan []byte
}

func (h *Hub) serveLive(w http.ResponseWriter, r *http.Request) {
	if err := checkOrigin(r, true); err != nil {
		h.apiError(w, r, http.StatusForbidden, CodeBadOrigin, err.Error())
		return
	}
	h.mu.Lock()
	full := len(h.pages) >= MaxPages
	h.mu.Unlock()
	if full {
		h.apiError(w, r, http.StatusServiceUnavailable, CodeTooManyPages, "too many live pages are open")
		return
	}
	up := websocket.Upgrader{HandshakeTimeout: netsync.WriteWait, CheckOrigin: func(*http.Request) bool { return true }} // checked above
	conn, err := up.Upgrade(w, r, nil)
	if err != nil {
		return
	}
	if !h.track(conn) {
		conn.Close()
		return
	}
	defer h.untrack(conn)
	conn.SetReadLimit(pageReadLimit) // a page sends nothing: gorilla closes with 1009 beyond this
	p := &pageConn{conn: conn, ch: make(chan []byte, 1)}
	h.mu.Lock()
	h.pages[p] = struct{}{}
	h.mu.Unlock()
	h.mPages.Inc()
	defer func() {
		h.mu.Lock()
		delete(h.pages, p)
		h.mu.Unlock()
		h.mPages.Dec()
	}()
	gone := make(chan struct{})
	go func() { // the page's only reader: pongs keep it alive; silence past PongWait ends it
		defer close(gone)
		extend := func() { conn.SetReadDeadline(time.Now().Add(h.cfg.PongWait)) }
		extend()
		conn.SetPongHandler(func(string) error { extend(); return nil })
		for {
			if _, _, err := conn.ReadMessage(); err != nil {
				conn.Close()
				return
			}
			extend()
		}
	}()
	defer func() { conn.Close(); <-gone }()
	ping := time.NewTicker(h.cfg.PingPeriod)
	defer ping.Stop()
	b := h.liveJSON()
	for {
		if b != nil {
			conn.SetWriteDeadline(time.Now().Add(netsync.WriteWait))
			if err := conn.WriteMessage(websocket.TextMessage, b); err != nil {
				return
			}
			b = nil
		}
		select {
		case b = <-p.ch:
		case <-ping.C:
			if conn.WriteControl(websocket.PingMessage, nil, time.Now().Add(netsync.WriteWait)) != nil {
				return
			}
		case <-gone:
			return
		case <-h.ctx.Done():
			goingAway(conn)
			return
		}
	}
}

// liveJSON is the message for the live pages now.
func (h *Hub) liveJSON() []byte {
	b, _ := json.Marshal(LiveMessage{WallsInfo: h.Walls(), Totals: h.store.Totals()})
	return b
}

// pushLoop sends the live pages the latest state on every change, at most every pushInterval,
// and every second (ages and link states). It returns when the hub stops.
func (h *Hub) pushLoop() {
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	pause := time.NewTimer(0)
	defer pause.Stop()
	for {
		select {
		case <-h.dirty:
		case <-tick.C:
		case <-h.ctx.Done():
			return
		}
		h.mu.Lock()
		n := len(h.pages)
		h.mu.Unlock()
		if n > 0 {
			b := h.liveJSON()
			h.mu.Lock()
			for p := range h.pages {
				select { // latest wins: a slow page skips to the newest
				case <-p.ch:
				default:
				}
				p.ch <- b
			}
			h.mu.Unlock()
		}
		pause.Reset(pushInterval)
		select {
		case <-pause.C:
		case <-h.ctx.Done():
			return
		}
	}
}
