package netsync

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/rs/zerolog"
)

// fakePrimary is a primary's /follow on a real loopback WebSocket that speaks the follow stream as
// the test scripts it: session(n, conn) runs the n-th connection (from 0) after the hello.
type fakePrimary struct {
	url     string
	srv     *httptest.Server
	session func(n int, conn *websocket.Conn)

	mu sync.Mutex
	n  int
	wg sync.WaitGroup
}

func startFakePrimary(t *testing.T, session func(n int, conn *websocket.Conn)) *fakePrimary {
	t.Helper()
	fp := &fakePrimary{session: session}
	fp.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		conn, err := (&websocket.Upgrader{}).Upgrade(w, r, nil)
		if err != nil {
			return
		}
		fp.wg.Add(1)
		defer fp.wg.Done()
		defer conn.Close()
		conn.SetReadDeadline(time.Now().Add(5 * time.Second))
		if _, _, err := conn.ReadMessage(); err != nil { // the hello
			return
		}
		fp.mu.Lock()
		n := fp.n
		fp.n++
		fp.mu.Unlock()
		fp.session(n, conn)
	}))
	t.Cleanup(func() { fp.srv.Close(); fp.wg.Wait() })
	fp.url = "ws" + strings.TrimPrefix(fp.srv.URL, "http") + "/follow"
	return fp
}

func sendFollow(t *testing.T, conn *websocket.Conn, m string) bool {
	conn.SetWriteDeadline(time.Now().Add(5 * time.Second))
	return conn.WriteMessage(websocket.TextMessage, []byte(m)) == nil
}

// readAck reads the standby's next message until deadline; ok false when none came (or the
// connection ended).
func readAck(conn *websocket.Conn, deadline time.Time) (tick int64, ok bool) {
	conn.SetReadDeadline(deadline)
	_, b, err := conn.ReadMessage()
	if err != nil {
		return 0, false
	}
	var m FollowMsg
	if json.Unmarshal(b, &m) != nil || m.Type != FollowAck {
		return -1, true
	}
	return m.Tick, true
}

const fakeSnapshot = `{"type":"snapshot","version":1,"wall":"wall-1","epoch":1,"rate":60,"origin_us":1000,"sent_us":%d,"tick":%d,"base":{"tick":0,"number":0,"game":"targets","attract_on":false,"attract_n":0,"autoplay":false}}`

// TestFollowAcksNothingOfAnEarlierSession: a standby that was dropped (or lost its link) rejoins;
// in the new session it acknowledges only ticks it received in that session. An ack left over
// from the earlier session would tell a restarted primary (ticks from 0 again) that ticks it has
// not even stepped yet are safe to release to the backend, and would make a primary measure a
// rejoined standby by a stale tick and drop it again at once.
func TestFollowAcksNothingOfAnEarlierSession(t *testing.T) {
	acked := make(chan int64, 16)
	fp := startFakePrimary(t, func(n int, conn *websocket.Conn) {
		switch n {
		case 0: // ticks 100..149, then dropped
			sendFollow(t, conn, strings.Replace(strings.Replace(fakeSnapshot, "%d", "5000", 1), "%d", "100", 1))
			for tick := 100; tick < 150; tick++ {
				sendFollow(t, conn, `{"type":"tick","t":`+itoa(tick)+`,"sent_us":5000,"hash":"0"}`)
			}
			deadline := time.Now().Add(5 * time.Second)
			for {
				a, ok := readAck(conn, deadline)
				if !ok {
					return
				}
				if a == 149 {
					break
				}
			}
			sendFollow(t, conn, `{"type":"dropped","message":"test"}`)
		case 1: // a primary whose ticks start again: snapshot at tick 5, nothing stepped since
			sendFollow(t, conn, strings.Replace(strings.Replace(fakeSnapshot, "%d", "7000", 1), "%d", "5", 1))
			// The ack writer's ticker runs every second: 1.5 s lets a stale ack out.
			deadline := time.Now().Add(1500 * time.Millisecond)
			for {
				a, ok := readAck(conn, deadline)
				if !ok {
					close(acked)
					return
				}
				acked <- a
			}
		}
	})
	var local atomic.Int64
	c := NewFollowClient(fp.url, "", []byte(`{}`), local.Load, zerolog.Nop())
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { c.Run(ctx); close(done) }()
	defer func() { cancel(); <-done }()
	go func() { // the show's side: take the messages
		for {
			select {
			case <-c.Messages():
			case <-ctx.Done():
				return
			}
		}
	}()
	deadline := time.After(20 * time.Second)
	for {
		select {
		case a, ok := <-acked:
			if !ok {
				return
			}
			if a > 4 {
				t.Fatalf("in the session that began at tick 5 the standby acknowledged tick %d, which it never received there", a)
			}
		case <-deadline:
			t.Fatal("the second session never ended")
		}
	}
}

func itoa(n int) string { b, _ := json.Marshal(n); return string(b) }

// TestFollowOffsetOutlivesASilentPrimary: the clock offset the standby estimated stays known after
// the primary falls silent. A promotion decided later than 5 s after the primary's last message
// (promote_after_ms 0, the operator promotes by hand) must still continue on the primary's clock:
// with no offset it would put the primary's origin on the standby's own clock, whose show time 0
// is another moment (the two processes started at different times), and freeze the promoted wall
// or race it through the round.
func TestFollowOffsetOutlivesASilentPrimary(t *testing.T) {
	fp := startFakePrimary(t, func(n int, conn *websocket.Conn) {
		if n == 0 {
			sendFollow(t, conn, strings.Replace(strings.Replace(fakeSnapshot, "%d", "5000000", 1), "%d", "5", 1))
			conn.SetReadDeadline(time.Now().Add(5 * time.Second))
			conn.ReadMessage() // until the test ends the link
		}
	})
	var local atomic.Int64
	local.Store(605_000_000) // the standby's process started 600 s before the primary's
	c := NewFollowClient(fp.url, "", []byte(`{}`), local.Load, zerolog.Nop())
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { c.Run(ctx); close(done) }()
	select {
	case <-c.Messages():
	case <-time.After(10 * time.Second):
		t.Fatal("no snapshot")
	}
	cancel()
	<-done
	if off, ok := c.Offset(); !ok || off != 600_000_000 {
		t.Fatalf("offset just after the snapshot: %d %v", off, ok)
	}
	local.Add(10_000_000) // the primary has been silent for 10 s
	if off, ok := c.Offset(); !ok || off != 600_000_000 {
		t.Fatalf("offset 10 s after the primary's last message: %d (known %v), want 600000000", off, ok)
	}
}

// TestFollowRetriesAPrimaryThatWasBusy: "busy" says the primary's frames did not answer within
// 2 s (a GPU stall, a frozen window): a passing state of the primary, not a wrong standby, so the
// standby rejoins (it used to exit 2, gone for good during the very freeze it exists for).
func TestFollowRetriesAPrimaryThatWasBusy(t *testing.T) {

	fp := startFakePrimary(t, func(n int, conn *websocket.Conn) {
		if n == 0 {
			sendFollow(t, conn, `{"type":"refused","code":"busy","message":"the primary's frame loop did not answer in 2 s"}`)
			return
		}
		sendFollow(t, conn, strings.Replace(strings.Replace(fakeSnapshot, "%d", "5000", 1), "%d", "5", 1))
		conn.SetReadDeadline(time.Now().Add(5 * time.Second))
		conn.ReadMessage()
	})
	var local atomic.Int64
	c := NewFollowClient(fp.url, "", []byte(`{}`), local.Load, zerolog.Nop())
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go c.Run(ctx)
	select {
	case m := <-c.Messages():
		if m.Type != FollowSnapshot {
			t.Fatalf("got %s", m.Type)
		}
	case <-time.After(10 * time.Second):
		t.Fatalf("no snapshot after a busy primary: %v", c.Fatal())
	}
}
