package hub

import (
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"tapwall/netsync"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"tapwall/game"
)

// testHub is a real hub on a real loopback listener with a real store.
type testHub struct {
	hub   *Hub
	store *Store
	url   string // ws://127.0.0.1:PORT/ws
	http  string // http://127.0.0.1:PORT
	stop  func()
}

func startHub(t testing.TB, cfg HubConfig) *testHub {
	t.Helper()
	st, err := OpenStore(filepath.Join(t.TempDir(), "scores.db"))
	if err != nil {
		t.Fatal(err)
	}
	return serveHub(t, st, cfg)
}

// serveHub serves a hub over st on a loopback listener until the test ends (or stop).
func serveHub(t testing.TB, st *Store, cfg HubConfig) *testHub {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	h := NewHub(st, cfg)
	ctx, cancel := context.WithCancel(context.Background())
	srv := h.Server()
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { defer wg.Done(); h.Run(ctx) }()
	go func() { defer wg.Done(); srv.Serve(ln) }()
	th := &testHub{hub: h, store: st, url: "ws://" + ln.Addr().String() + "/ws", http: "http://" + ln.Addr().String()}
	stopped := false
	th.stop = func() {
		if stopped {
			return
		}
		stopped = true
		cancel()
		srv.Close()
		wg.Wait()
		st.Close()
	}
	t.Cleanup(th.stop)
	return th
}

// testClient is an outbox and a client running against url.
type testClient struct {
	outbox *netsync.Outbox
	client *netsync.Client
	stop   func()
}

func startClient(t testing.TB, url, wall, token string, dir string, tweak func(*netsync.ClientConfig)) *testClient {
	t.Helper()
	ob, err := netsync.OpenOutbox(dir, 0, zerolog.Nop())
	if err != nil {
		t.Fatal(err)
	}
	cfg := netsync.ClientConfig{URL: url, Wall: wall, Token: token, Outbox: ob, Log: zerolog.Nop(), MaxBackoff: 200 * time.Millisecond}
	if tweak != nil {
		tweak(&cfg)
	}
	cl, err := netsync.NewClient(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { defer wg.Done(); ob.Run(ctx) }()
	go func() { defer wg.Done(); cl.Run(ctx) }()
	tc := &testClient{outbox: ob, client: cl}
	stopped := false
	tc.stop = func() {
		if stopped {
			return
		}
		stopped = true
		cancel()
		wg.Wait()
		ob.Close()
	}
	t.Cleanup(tc.stop)
	return tc
}

// genEvent is the seq-th event of a deterministic round: lane seq%4, delta seq%7+1.
func genEvent(wall string, round uint32, seq uint64) netsync.Event {
	return game.ScoreEvent{Wall: wall, Round: round, Seq: seq, Tick: int64(seq), Lane: int(seq % 4),
		Delta: int64(seq%7 + 1), Reason: game.ReasonTarget, ShowUS: int64(seq) * 1000}
}

// wantTotals is what the backend must hold after events 1..n of genEvent.
func wantTotals(n uint64) (lanes [4]int64) {
	for s := uint64(1); s <= n; s++ {
		lanes[s%4] += int64(s%7 + 1)
	}
	return lanes
}

func checkTotals(t testing.TB, st *Store, wall string, round uint32, n uint64) {
	t.Helper()
	want := wantTotals(n)
	for _, w := range st.Totals().Walls {
		if w.Wall != wall {
			continue
		}
		for _, r := range w.Rounds {
			if r.Round != round {
				continue
			}
			if r.Events != int(n) {
				t.Fatalf("backend holds %d events of round %d, want %d", r.Events, round, n)
			}
			for _, l := range r.Lanes {
				if l.Score != want[l.Lane] {
					t.Fatalf("lane %d total %d, want %d (sum of the events)", l.Lane, l.Score, want[l.Lane])
				}
			}
			return
		}
	}
	t.Fatalf("backend has no round %d of wall %s", round, wall)
}

// waitFor polls cond until it holds or the deadline passes (a bounded loop, not a sleep).
func waitFor(t testing.TB, what string, d time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", d, what)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// startHubAt is startHub over the store file db.
func startHubAt(t testing.TB, db string, cfg HubConfig) *testHub {
	t.Helper()
	st, err := OpenStore(db)
	if err != nil {
		t.Fatal(err)
	}
	return serveHub(t, st, cfg)
}

func zerologTo(w io.Writer) zerolog.Logger { return zerolog.New(w) }

func mustReq(t testing.TB, method, url, body string, hdr map[string]string) *http.Request {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	return req
}

func decodeJSON(t testing.TB, resp *http.Response, v any) {
	t.Helper()
	defer resp.Body.Close()
	if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
		t.Fatal(err)
	}
}
