package netsync

import (
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/rs/zerolog"
)

func TestEverythingAckedOverLoopback(t *testing.T) {
	h := startHub(t, HubConfig{Token: "s3cret"})
	c := startClient(t, h.url, "wall-a", "s3cret", t.TempDir(), nil)
	const n = 2000
	for s := uint64(1); s <= n; s++ {
		if err := c.outbox.SubmitWait(context.Background(), genEvent("wall-a", 1, s)); err != nil {
			t.Fatal(err)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if left := c.outbox.WaitAcked(ctx); left != 0 {
		t.Fatalf("%d events not acknowledged", left)
	}
	checkTotals(t, h.store, "wall-a", 1, n)
	resp, err := http.Get(h.http + "/api/totals")
	if err != nil {
		t.Fatal(err)
	}
	var tot Totals
	json.NewDecoder(resp.Body).Decode(&tot)
	resp.Body.Close()
	if len(tot.Walls) != 1 || tot.Walls[0].Rounds[0].Events != n {
		t.Fatalf("GET /api/totals: %+v", tot)
	}
	for _, p := range []string{"/healthz", "/metrics", "/"} {
		resp, err := http.Get(h.http + p)
		if err != nil || resp.StatusCode != 200 {
			t.Fatalf("GET %s: %v %v", p, err, resp.Status)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if p == "/metrics" && !strings.Contains(string(b), "scorehub_events_stored_total 2000") {
			t.Fatalf("metrics do not count the stored events:\n%s", b)
		}
	}
}

func TestOutboxSurvivesRestartAndResendsUnacked(t *testing.T) {
	dir := t.TempDir()
	ob, err := OpenOutbox(dir, 0, zerolog.Nop())
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { ob.Run(ctx); close(done) }()
	for s := uint64(1); s <= 100; s++ {
		ob.SubmitWait(ctx, genEvent("w", 1, s))
	}
	waitFor(t, "events durable", 5*time.Second, func() bool {
		evs, _ := ob.After(0, 1000, nil)
		return len(evs) == 100
	})
	ob.Ack("w", 1, 40)
	cancel()
	<-done
	ob.Close()
	// A torn write: half a record at the end, as a crash mid-write leaves it.
	seg := filepath.Join(dir, "seg-00000000.log")
	f, _ := os.OpenFile(seg, os.O_APPEND|os.O_WRONLY, 0)
	f.Write([]byte{0x40, 0, 0, 0, 1, 2, 3, 4, '{', '"'})
	f.Close()
	ob2, err := OpenOutbox(dir, 0, zerolog.Nop())
	if err != nil {
		t.Fatal(err)
	}
	defer ob2.Close()
	evs, _ := ob2.After(0, 1000, nil)
	if len(evs) != 60 || evs[0].Seq != 41 || evs[59].Seq != 100 || ob2.TornBytes() != 10 {
		t.Fatalf("after restart: %d pending from seq %d, torn %d; want 60 from 41, 10 bytes cut", len(evs), evs[0].Seq, ob2.TornBytes())
	}
	if got := ob2.AckedList("w"); len(got) != 1 || got[0].Seq != 40 {
		t.Fatalf("acked %v", got)
	}
}

func TestGroupCommitWritesManyEventsPerFsync(t *testing.T) {
	dir := t.TempDir()
	ob, _ := OpenOutbox(dir, 0, zerolog.Nop())
	// 5000 events queued under load (before the writer runs) go to disk in a few group commits.
	for s := uint64(1); s <= 5000; s++ {
		if err := ob.Submit(genEvent("w", 1, s)); err != nil {
			t.Fatal(err)
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { ob.Run(ctx); close(done) }()
	waitFor(t, "all durable", 10*time.Second, func() bool { evs, _ := ob.After(0, 10000, nil); return len(evs) == 5000 })
	if f := ob.Fsyncs(); f < 2 || f > 5 {
		t.Fatalf("%d fsyncs for 5000 queued events: want a few commits of up to %d events each", f, maxBatch)
	}
	// One event at a time, each waited for, is one fsync each: nothing is sent before it is durable.
	for s := uint64(5001); s <= 5010; s++ {
		before := ob.Fsyncs()
		ob.Submit(genEvent("w", 1, s))
		waitFor(t, "durable", 5*time.Second, func() bool { evs, _ := ob.After(0, 10000, nil); return len(evs) == int(s) })
		if ob.Fsyncs() != before+1 {
			t.Fatalf("event %d became sendable after %d fsyncs", s, ob.Fsyncs()-before)
		}
	}
	cancel()
	<-done
	ob.Close()
}

func TestSubmitNeverBlocks(t *testing.T) {
	ob, _ := OpenOutbox(t.TempDir(), 4, zerolog.Nop())
	defer ob.Close()
	for s := uint64(1); s <= 4; s++ {
		if err := ob.Submit(genEvent("w", 1, s)); err != nil {
			t.Fatal(err)
		}
	}
	if err := ob.Submit(genEvent("w", 1, 5)); err != ErrOutboxFull {
		t.Fatalf("a full queue must refuse at once with ErrOutboxFull, got %v", err)
	}
}

// rawConn dials the hub as a wall would, without the client, to send bad messages.
func rawConn(t *testing.T, url string) *websocket.Conn {
	t.Helper()
	c, _, err := websocket.DefaultDialer.Dial(url, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func readMsg(t *testing.T, c *websocket.Conn) Message {
	t.Helper()
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	_, b, err := c.ReadMessage()
	if err != nil {
		t.Fatalf("read: %v", err)
	}
	m, err := Decode(b)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func hello(t *testing.T, c *websocket.Conn, token string) Message {
	t.Helper()
	c.WriteJSON(Message{Type: TypeHello, Version: ProtocolVersion, Wall: "w", Token: token})
	return readMsg(t, c)
}

func TestBadMessagesGetTheirErrorAndStoreNothing(t *testing.T) {
	h := startHub(t, HubConfig{Token: "right"})
	score := func(seq uint64) Message { return ScoreMessage(genEvent("w", 1, seq)) }

	// Wrong token: error bad_token, then close 1008.
	c := rawConn(t, h.url)
	if m := hello(t, c, "wrong"); m.Type != TypeError || m.Code != CodeBadToken {
		t.Fatalf("wrong token: %+v", m)
	}
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	_, _, err := c.ReadMessage()
	if ce, ok := err.(*websocket.CloseError); !ok || ce.Code != websocket.ClosePolicyViolation {
		t.Fatalf("wrong token: close %v, want 1008", err)
	}

	c = rawConn(t, h.url)
	if m := hello(t, c, "right"); m.Type != TypeWelcome {
		t.Fatalf("hello: %+v", m)
	}
	// Malformed JSON: error bad_json, the connection stays.
	c.WriteMessage(websocket.TextMessage, []byte(`{"type":"score","seq":`))
	if m := readMsg(t, c); m.Code != CodeBadJSON {
		t.Fatalf("malformed: %+v", m)
	}
	// A gap: seq 2 before seq 1.
	c.WriteJSON(score(2))
	if m := readMsg(t, c); m.Code != CodeGap {
		t.Fatalf("gap: %+v", m)
	}
	// A score for another wall.
	other := ScoreMessage(genEvent("intruder", 1, 1))
	c.WriteJSON(other)
	if m := readMsg(t, c); m.Code != CodeBadEvent {
		t.Fatalf("other wall: %+v", m)
	}
	// A good one is stored and acked, its duplicate acked again and not counted.
	c.WriteJSON(score(1))
	if m := readMsg(t, c); m.Type != TypeAck || m.Seq != 1 {
		t.Fatalf("ack: %+v", m)
	}
	c.WriteJSON(score(1))
	if m := readMsg(t, c); m.Type != TypeAck || m.Seq != 1 {
		t.Fatalf("duplicate ack: %+v", m)
	}
	// Oversized: error too_big and close 1009.
	big := strings.Repeat("x", MaxMessage+10)
	c.WriteMessage(websocket.TextMessage, []byte(`{"type":"score","reason":"`+big+`"}`))
	if m := readMsg(t, c); m.Code != CodeTooBig {
		t.Fatalf("oversized: %+v", m)
	}
	checkTotals(t, h.store, "w", 1, 1)
	for _, tot := range h.store.Totals().Walls {
		if tot.Wall == "intruder" {
			t.Fatal("a bad event was stored")
		}
	}
}

// TestBackoffIsJitteredExponentialAndCapped watches the reconnect waits against a backend that is
// not there, on an injected clock.
func TestBackoffIsJitteredExponentialAndCapped(t *testing.T) {
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	addr := ln.Addr().String()
	ln.Close()
	waits := make(chan time.Duration, 64) // buffered: a wait after the test stops never blocks
	fire := make(chan time.Time)
	c := startClient(t, "ws://"+addr+"/ws", "w", "", t.TempDir(), func(cc *ClientConfig) {
		cc.MaxBackoff = 2 * time.Second
		cc.After = func(d time.Duration) <-chan time.Time { waits <- d; return fire }
	})
	var got []time.Duration
	for i := 0; i < 12; i++ {
		got = append(got, <-waits)
		fire <- time.Now()
	}
	c.stop()
	nominal := minBackoff
	for i, d := range got {
		if d < nominal/2 || d > nominal {
			t.Fatalf("wait %d is %v: want within [%v, %v] (jittered %v)", i, d, nominal/2, nominal, nominal)
		}
		nominal = min(2*nominal, 2*time.Second)
	}
	if got[11] < time.Second {
		t.Fatalf("the backoff never reached its cap: %v", got)
	}
}
