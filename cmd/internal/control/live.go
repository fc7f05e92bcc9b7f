package control

import (
	"context"
	"encoding/json"
	"net/http"
	"time"

	"github.com/gorilla/websocket"
)

// page is one connected console page (or /live client). The publisher hands it the newest Status
// through a one-slot channel (latest wins: a slow page skips updates, and is dropped once a write
// takes longer than WriteWait); its own goroutine is its only writer.
type page struct {
	send chan []byte
}

var liveUpgrader = websocket.Upgrader{
	ReadBufferSize:  1024,
	WriteBufferSize: 16 << 10,
	CheckOrigin:     originOK,
}

// serveLive is GET /live: the console page's WebSocket. The server pushes a Status object (the
// JSON of GET /status) every LiveInterval and at once after a change; the page sends nothing.
func (s *Server) serveLive(w http.ResponseWriter, r *http.Request) {
	if !websocketUpgrade(r) {
		writeError(w, http.StatusBadRequest, apiError{Error: "websocket", Message: "/live is a WebSocket (the console page's live data)"})
		return
	}
	p := &page{send: make(chan []byte, 1)}
	s.pagesMu.Lock()
	full := len(s.pages) >= MaxPages
	if !full {
		s.pages[p] = struct{}{}
	}
	s.pagesMu.Unlock()
	if full {
		s.refuse(w, r, http.StatusServiceUnavailable, apiError{Error: "too_many_pages", Message: "too many console pages are open; close one"})
		return
	}
	defer func() {
		s.pagesMu.Lock()
		delete(s.pages, p)
		s.pagesMu.Unlock()
	}()
	if !s.track() {
		return
	}
	defer s.untrack()
	conn, err := liveUpgrader.Upgrade(w, r, nil)
	if err != nil {
		return // the upgrader has answered
	}
	defer conn.Close()
	s.cfg.Log.Debug().Str("remote", r.RemoteAddr).Msg("console page connected")

	conn.SetReadLimit(maxPageMessage)
	conn.SetReadDeadline(time.Now().Add(PongWait))
	conn.SetPongHandler(func(string) error { return conn.SetReadDeadline(time.Now().Add(PongWait)) })
	gone := make(chan struct{})
	go func() { // the only reader: pongs and the close frame; a message or silence ends the page
		defer close(gone)
		for {
			if _, _, err := conn.NextReader(); err != nil {
				return
			}
		}
	}()
	defer func() { conn.Close(); <-gone }()

	b, err := json.Marshal(s.status())
	if err != nil {
		return
	}
	ping := time.NewTicker(PingPeriod)
	defer ping.Stop()
	for {
		conn.SetWriteDeadline(time.Now().Add(WriteWait))
		if err := conn.WriteMessage(websocket.TextMessage, b); err != nil {
			s.cfg.Log.Warn().Err(err).Str("remote", r.RemoteAddr).Msg("console page dropped: too slow or gone")
			return
		}
	wait:
		select {
		case b = <-p.send:
		case <-ping.C:
			if err := conn.WriteControl(websocket.PingMessage, nil, time.Now().Add(WriteWait)); err != nil {
				return
			}
			goto wait
		case <-gone:
			return
		case <-s.ctx.Done():
			conn.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseGoingAway, "show stopping"),
				time.Now().Add(time.Second))
			return
		}
	}
}

// track registers a long-lived connection (a page, a follower) that Wait waits for; it returns
// false once the server is stopping, and the caller must then return at once.
func (s *Server) track() bool {
	s.pagesMu.Lock()
	defer s.pagesMu.Unlock()
	if s.closing {
		return false
	}
	s.conns.Add(1)
	return true
}

func (s *Server) untrack() { s.conns.Done() }

// changed asks the publisher to push a Status to the pages now (after a console action).
func (s *Server) changed() {
	select {
	case s.kick <- struct{}{}:
	default:
	}
}

// publish runs until ctx ends: every LiveInterval, and soon after a change, it takes one Status
// and hands it to every page without waiting on any of them. With no page open it calls nothing.
func (s *Server) publish(ctx context.Context) {
	tick := time.NewTicker(s.cfg.LiveInterval)
	defer tick.Stop()
	soon := time.NewTimer(time.Hour)
	soon.Stop()
	defer soon.Stop()
	armed := false
	var last time.Time
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		case <-soon.C:
			armed = false
		case <-s.kick:
		}
		if gap := time.Since(last); gap < liveMinGap {
			if !armed {
				soon.Reset(liveMinGap - gap)
				armed = true
			}
			continue
		}
		last = time.Now()
		s.pushAll()
	}
}

// pushAll sends the current Status to every page (latest wins).
func (s *Server) pushAll() {
	s.pagesMu.Lock()
	n := len(s.pages)
	s.pagesMu.Unlock()
	if n == 0 {
		return
	}
	b, err := json.Marshal(s.status())
	if err != nil {
		s.cfg.Log.Error().Err(err).Msg("control server: status does not encode")
		return
	}
	s.pagesMu.Lock()
	defer s.pagesMu.Unlock()
	for p := range s.pages {
		select {
		case <-p.send: // the page has not taken the previous one: it gets the newest instead
		default:
		}
		p.send <- b
	}
}
