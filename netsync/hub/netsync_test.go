package hub

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"tapwall/netsync"
	"testing"
	"time"

	"github.com/gorilla/websocket"
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

func TestBadMessagesGetTheirErrorAndStoreNothing(t *testing.T) {
	h := startHub(t, HubConfig{Token: "right"})
	score := func(seq uint64) netsync.Message { return netsync.ScoreMessage(genEvent("w", 1, seq)) }

	// Wrong token: error bad_token, then close 1008.
	c := rawConn(t, h.url)
	if m := hello(t, c, "wrong"); m.Type != netsync.TypeError || m.Code != netsync.CodeBadToken {
		t.Fatalf("wrong token: %+v", m)
	}
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	_, _, err := c.ReadMessage()
	if ce, ok := err.(*websocket.CloseError); !ok || ce.Code != websocket.ClosePolicyViolation {
		t.Fatalf("wrong token: close %v, want 1008", err)
	}

	c = rawConn(t, h.url)
	if m := hello(t, c, "right"); m.Type != netsync.TypeWelcome {
		t.Fatalf("hello: %+v", m)
	}
	// Malformed JSON: error bad_json, the connection stays.
	c.WriteMessage(websocket.TextMessage, []byte(`{"type":"score","seq":`))
	if m := readMsg(t, c); m.Code != netsync.CodeBadJSON {
		t.Fatalf("malformed: %+v", m)
	}
	// A gap: seq 2 before seq 1.
	c.WriteJSON(score(2))
	if m := readMsg(t, c); m.Code != netsync.CodeGap || m.Round != 1 || m.Seq != 2 {
		t.Fatalf("gap: %+v, want gap naming round 1 seq 2", m)
	}
	// A score for another wall.
	other := netsync.ScoreMessage(genEvent("intruder", 1, 1))
	c.WriteJSON(other)
	if m := readMsg(t, c); m.Code != netsync.CodeBadEvent {
		t.Fatalf("other wall: %+v", m)
	}
	// A good one is stored and acked, its duplicate acked again and not counted.
	c.WriteJSON(score(1))
	if m := readMsg(t, c); m.Type != netsync.TypeAck || m.Seq != 1 {
		t.Fatalf("ack: %+v", m)
	}
	c.WriteJSON(score(1))
	if m := readMsg(t, c); m.Type != netsync.TypeAck || m.Seq != 1 {
		t.Fatalf("duplicate ack: %+v", m)
	}
	// Oversized: error too_big and close 1009.
	big := strings.Repeat("x", netsync.MaxMessage+10)
	c.WriteMessage(websocket.TextMessage, []byte(`{"type":"score","reason":"`+big+`"}`))
	if m := readMsg(t, c); m.Code != netsync.CodeTooBig {
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

func readMsg(t *testing.T, c *websocket.Conn) netsync.Message {
	t.Helper()
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	_, b, err := c.ReadMessage()
	if err != nil {
		t.Fatalf("read: %v", err)
	}
	m, err := netsync.Decode(b)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func hello(t *testing.T, c *websocket.Conn, token string) netsync.Message {
	t.Helper()
	c.WriteJSON(netsync.Message{Type: netsync.TypeHello, Version: netsync.ProtocolVersion, Wall: "w", Token: token})
	return readMsg(t, c)
}
