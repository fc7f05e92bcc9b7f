// Package hubtest runs the reference scoring backend (netsync/hub, as scorehub serves it) in a
// test's own process, on a loopback listener with a real bbolt store, for the tests of the wall
// side, the show runner and the commands that talk to a backend.
package hubtest

import (
	"context"
	"net"
	"path/filepath"
	"sync"
	"testing"

	"tapwall/netsync/hub"
)

// Hub is a running backend.
type Hub struct {
	Hub   *hub.Hub
	Store *hub.Store
	URL   string // the walls' WebSocket, ws://127.0.0.1:PORT/ws
}

// Start starts a backend with cfg (a zero Log logs nothing) and stops it when the test ends.
func Start(tb testing.TB, cfg hub.HubConfig) *Hub {
	tb.Helper()
	st, err := hub.OpenStore(filepath.Join(tb.TempDir(), "scores.db"))
	if err != nil {
		tb.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	h := hub.NewHub(st, cfg)
	ctx, cancel := context.WithCancel(context.Background())
	srv := h.Server() // scorehub's own server: its timeouts apply in the tests too
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { defer wg.Done(); h.Run(ctx) }()
	go func() { defer wg.Done(); srv.Serve(ln) }()
	tb.Cleanup(func() { cancel(); srv.Close(); wg.Wait(); st.Close() })
	return &Hub{Hub: h, Store: st, URL: "ws://" + ln.Addr().String() + "/ws"}
}

// Round returns what the backend holds of wall's round: its events and per-lane totals.
func (h *Hub) Round(wall string, round uint32) (events int, lanes map[int]int64) {
	lanes = map[int]int64{}
	for _, w := range h.Store.Totals().Walls {
		for _, r := range w.Rounds {
			if w.Wall == wall && r.Round == round {
				for _, l := range r.Lanes {
					lanes[l.Lane] = l.Score
				}
				return r.Events, lanes
			}
		}
	}
	return 0, lanes
}

// Events returns how many events of wall the backend holds, every round together.
func (h *Hub) Events(wall string) int {
	n := 0
	for _, w := range h.Store.Totals().Walls {
		if w.Wall == wall {
			for _, r := range w.Rounds {
				n += r.Events
			}
		}
	}
	return n
}
