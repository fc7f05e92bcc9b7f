package hub

import (
	"context"
	"net/http"
	"path/filepath"
	"runtime"
	"strings"
	"sync/atomic"
	"syscall"
	"tapwall/netsync"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

// TestGapSpammerThatNeverReadsCannotStopAcks: a client that sends a gap in a new round with every
// message and never reads its errors fills its connection's buffers; the hub must drop it rather
// than block, so a second wall keeps getting every event acknowledged, and SIGTERM still stops
// scorehub promptly. A real scorehub process, real sockets.
func TestGapSpammerThatNeverReadsCannotStopAcks(t *testing.T) {
	addr, db := freePort(t), filepath.Join(t.TempDir(), "scores.db")
	hub := startScorehub(t, addr, db)
	exited := make(chan error, 1)
	go func() { exited <- hub.Wait() }()
	defer hub.Process.Signal(syscall.SIGKILL)
	url := "ws://" + addr + "/ws"

	good := startClient(t, url, "good", "", t.TempDir(), nil)
	seq := uint64(0)
	submit := func(n int) {
		for i := 0; i < n; i++ {
			seq++
			if err := good.outbox.SubmitWait(context.Background(), genEvent("good", 1, seq)); err != nil {
				t.Fatal(err)
			}
		}
	}
	acked := func(what string) {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if left := good.outbox.WaitAcked(ctx); left != 0 {
			t.Fatalf("%s: %d events of the good wall not acknowledged within 10 s", what, left)
		}
	}
	submit(20)
	acked("before the spammer")

	spam, _, err := websocket.DefaultDialer.Dial(url, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer spam.Close()
	spam.WriteJSON(netsync.Message{Type: netsync.TypeHello, Version: netsync.ProtocolVersion, Wall: "spammer"})
	var sent atomic.Int64
	spamDone := make(chan error, 1)
	go func() { // never reads: the welcome and every gap error pile up
		for r := uint32(1); ; r++ {
			spam.SetWriteDeadline(time.Now().Add(3 * time.Second))
			if err := spam.WriteJSON(netsync.ScoreMessage(genEvent("spammer", r, 2))); err != nil {
				spamDone <- err
				return
			}
			sent.Add(1)
		}
	}()
	// The good wall keeps streaming while the spammer floods; each burst must be acknowledged.
	deadline := time.Now().Add(40 * time.Second)
	stopped := false
	for rounds := 0; rounds < 200 && !stopped; rounds++ {
		submit(50)
		acked("during the gap flood")
		select {
		case err := <-spamDone:
			t.Logf("the spammer's connection ended after %d messages: %v", sent.Load(), err)
			stopped = true
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("the spammer was never dropped (%d messages sent)", sent.Load())
		}
	}
	if !stopped {
		t.Fatalf("the spammer was never dropped (%d messages sent)", sent.Load())
	}
	submit(50)
	acked("after the flood")
	good.stop()
	hub.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-exited:
		if err != nil {
			t.Fatalf("scorehub after SIGTERM: %v, want exit 0", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("scorehub ignored SIGTERM for 5 s")
	}
	st, err := OpenStore(db)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	checkTotals(t, st, "good", 1, seq)
}

// TestRunEndClosesEverythingAndLeaksNothing: when Run's context ends, every wall and page
// connection is closed (with 1001 where the peer listens), a stuck peer included, and every
// goroutine the hub started is gone.
func TestRunEndClosesEverythingAndLeaksNothing(t *testing.T) {
	before := runtime.NumGoroutine()
	h := startHub(t, HubConfig{})
	reading, _ := connectWall(t, h.url, "reading", netsync.Message{})
	stuck, _ := connectWall(t, h.url, "stuck", netsync.Message{}) // never reads again
	for r := uint32(1); r <= 2000; r++ {                          // gap errors pile up in its socket
		stuck.WriteJSON(netsync.ScoreMessage(genEvent("stuck", r, 2)))
	}
	page, _, err := websocket.DefaultDialer.Dial(strings.Replace(h.url, "/ws", "/live", 1), http.Header{"Origin": {h.http}})
	if err != nil {
		t.Fatal(err)
	}
	defer page.Close()
	waitFor(t, "the page connected", 5*time.Second, func() bool {
		h.hub.mu.Lock()
		defer h.hub.mu.Unlock()
		return len(h.hub.pages) == 1
	})
	start := time.Now()
	h.stop()
	if d := time.Since(start); d > 2*time.Second {
		t.Fatalf("stopping took %v", d)
	}
	if code := readClose(t, reading); code != websocket.CloseGoingAway {
		t.Fatalf("a wall at stop: close %d, want 1001", code)
	}
	if code := readClose(t, page); code != websocket.CloseGoingAway {
		t.Fatalf("a page at stop: close %d, want 1001", code)
	}
	reading.Close()
	stuck.Close()
	page.Close()
	http.DefaultClient.CloseIdleConnections()
	waitFor(t, "the hub's goroutines gone", 10*time.Second, func() bool { return runtime.NumGoroutine() <= before })
}
