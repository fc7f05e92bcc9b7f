package hub

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"tapwall/netsync"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

func metric(t *testing.T, base, line string) bool {
	t.Helper()
	resp, err := http.Get(base + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	return strings.Contains(string(b), line)
}

// TestFencingByEpoch: a hello with a higher epoch replaces the wall's connection and fences the
// old one at once (error fenced, close 1008); a hello with a lower epoch is fenced, counted and
// logged; the epoch survives a restart of the backend; nothing a fenced connection sends is stored.
func TestFencingByEpoch(t *testing.T) {
	db := filepath.Join(t.TempDir(), "scores.db")
	h := startHubAt(t, db, HubConfig{})
	old, w := connectWall(t, h.url, "stage", netsync.Message{}) // epoch absent: 1
	if w.Type != netsync.TypeWelcome {
		t.Fatalf("hello: %+v", w)
	}
	old.WriteJSON(netsync.ScoreMessage(genEvent("stage", 1, 1)))
	if m := readMsg(t, old); m.Type != netsync.TypeAck {
		t.Fatalf("epoch 1 score: %+v", m)
	}
	promoted, w := connectWall(t, h.url, "stage", netsync.Message{Epoch: 2})
	if w.Type != netsync.TypeWelcome {
		t.Fatalf("epoch 2 hello: %+v", w)
	}
	if m := readMsg(t, old); m.Type != netsync.TypeError || m.Code != netsync.CodeFenced || m.Epoch != 2 {
		t.Fatalf("the old primary got %+v, want error fenced naming epoch 2", m)
	}
	if code := readClose(t, old); code != websocket.ClosePolicyViolation {
		t.Fatalf("old primary: close %d, want 1008", code)
	}
	promoted.WriteJSON(netsync.ScoreMessage(genEvent("stage", 1, 2)))
	if m := readMsg(t, promoted); m.Type != netsync.TypeAck || m.Seq != 2 {
		t.Fatalf("promoted: %+v", m)
	}
	// The old primary comes back at epoch 1: fenced, its score never stored.
	revived := rawConn(t, h.url)
	if m := sendHello(t, revived, netsync.Message{Wall: "stage"}); m.Code != netsync.CodeFenced || m.Epoch != 2 {
		t.Fatalf("revived old primary: %+v, want fenced naming epoch 2", m)
	}
	if code := readClose(t, revived); code != websocket.ClosePolicyViolation {
		t.Fatalf("revived: close %d, want 1008", code)
	}
	// A score saying it comes from epoch 1, on the promoted connection, is fenced too.
	lower := netsync.ScoreMessage(genEvent("stage", 1, 3))
	lower.Epoch = 1
	promoted.WriteJSON(lower)
	if m := readMsg(t, promoted); m.Code != netsync.CodeFenced {
		t.Fatalf("a score with a lower epoch: %+v", m)
	}
	// A fenced connection is counted once, whatever it sends before it is gone.
	fencedOnce := newWallConn("stage", 1, "old", nil, 16)
	for i := 0; i < 3; i++ {
		st := netsync.Message{Type: netsync.TypeStatus, Status: &netsync.WallStatus{Role: "primary", Round: 9, Phase: "running"}}
		b, _ := json.Marshal(st)
		if !h.hub.handle(fencedOnce, websocket.TextMessage, b) {
			t.Fatal("a status from a fenced connection was taken")
		}
	}
	if ws := h.hub.Walls(); ws.Walls[0].Status != nil && ws.Walls[0].Status.Round == 9 {
		t.Fatal("a fenced machine's status was kept")
	}
	checkTotals(t, h.store, "stage", 1, 2)
	if !metric(t, h.http, `scorehub_errors_total{code="fenced"} 4`) {
		t.Fatal(`scorehub_errors_total{code="fenced"} is not 4`)
	}
	// After a restart the backend still knows epoch 2.
	h.stop()
	h = startHubAt(t, db, HubConfig{})
	again := rawConn(t, h.url)
	if m := sendHello(t, again, netsync.Message{Wall: "stage", Epoch: 1}); m.Code != netsync.CodeFenced {
		t.Fatalf("epoch 1 after a backend restart: %+v, want fenced", m)
	}
	if _, w := connectWall(t, h.url, "stage", netsync.Message{Epoch: 2}); w.Type != netsync.TypeWelcome {
		t.Fatalf("epoch 2 after a restart: %+v", w)
	}
}

// TestFencedConnectionStoresNothingQueued: events of a connection that are still waiting for the
// committer when a higher epoch arrives are not stored.
func TestFencedConnectionStoresNothingQueued(t *testing.T) {
	st, err := OpenStore(filepath.Join(t.TempDir(), "s.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	h := NewHub(st, HubConfig{})
	old := newWallConn("w", 1, "old", nil, 16)
	if _, err := st.RaiseEpoch("w", 2); err != nil { // the promoted standby said hello
		t.Fatal(err)
	}
	h.commit([]commitReq{{ev: genEvent("w", 1, 1), wc: old}, {ev: genEvent("w", 1, 2), wc: old}}, newScratch())
	if st.StoredSeq("w", 1) != 0 {
		t.Fatal("events of a fenced connection were stored")
	}
	select {
	case <-old.kill:
		if old.final == nil || old.final.Code != netsync.CodeFenced || old.closeCode != websocket.ClosePolicyViolation {
			t.Fatalf("fenced connection ended with %+v, close %d", old.final, old.closeCode)
		}
	default:
		t.Fatal("the fenced connection was not ended")
	}
}

// TestConflictIsRefusedAndIdenticalDuplicateAcked: an event whose key is stored with different
// content gets error conflict, is counted and logged, and nothing changes; the same event again is
// acknowledged as a duplicate.
func TestConflictIsRefusedAndIdenticalDuplicateAcked(t *testing.T) {
	var logs syncBuffer
	h := startHub(t, HubConfig{Log: zerologTo(&logs)})
	c, _ := connectWall(t, h.url, "w", netsync.Message{})
	for s := uint64(1); s <= 3; s++ {
		c.WriteJSON(netsync.ScoreMessage(genEvent("w", 1, s)))
		if m := readMsg(t, c); m.Type != netsync.TypeAck || m.Seq != s {
			t.Fatalf("seq %d: %+v", s, m)
		}
	}
	changed := genEvent("w", 1, 2)
	changed.Delta += 100
	changed.Total += 100
	c.WriteJSON(netsync.ScoreMessage(changed))
	if m := readMsg(t, c); m.Type != netsync.TypeError || m.Code != netsync.CodeConflict {
		t.Fatalf("a different event under a stored key: %+v, want conflict", m)
	}
	c.WriteJSON(netsync.ScoreMessage(genEvent("w", 1, 2)))
	if m := readMsg(t, c); m.Type != netsync.TypeAck || m.Seq != 3 {
		t.Fatalf("the identical duplicate: %+v, want ack 3", m)
	}
	checkTotals(t, h.store, "w", 1, 3)
	if !metric(t, h.http, `scorehub_errors_total{code="conflict"} 1`) || !metric(t, h.http, "scorehub_events_conflict_total 1") {
		t.Fatal("the conflict is not counted")
	}
	waitFor(t, "the conflict in the log", 5*time.Second, func() bool { return strings.Contains(logs.String(), `"code":"conflict"`) })
}

// TestResetEpochOnlyWhileTheWallIsAway: reset-epoch is refused while a connection of the wall is
// open (a revived old primary can never get in beside the current one); with the wall away it
// forgets the epoch, logs the old one, and the next hello sets it again.
func TestResetEpochOnlyWhileTheWallIsAway(t *testing.T) {
	var logs syncBuffer
	h := startHub(t, HubConfig{Token: "tk", Log: zerologTo(&logs)})
	auth := map[string]string{"Content-Type": "application/json", "Authorization": "Bearer tk"}
	c, _ := connectWall(t, h.url, "day", netsync.Message{Token: "tk", Epoch: 3})
	if code, e := apiPost(t, h.http, "/api/reset-epoch", `{"wall":"day"}`, auth); code != 409 || e.Code != netsync.CodeWallInUse {
		t.Fatalf("reset while connected: %d %+v, want 409 wall_in_use", code, e)
	}
	if code, e := apiPost(t, h.http, "/api/reset-epoch", `{"wall":"day"}`, jsonCT); code != 401 {
		t.Fatalf("reset without the token: %d %+v", code, e)
	}
	c.Close()
	waitFor(t, "the wall gone", 5*time.Second, func() bool {
		h.hub.mu.Lock()
		defer h.hub.mu.Unlock()
		return h.hub.walls["day"] == nil
	})
	if m := sendHello(t, rawConn(t, h.url), netsync.Message{Wall: "day", Token: "tk"}); m.Code != netsync.CodeFenced {
		t.Fatalf("a new day's epoch-1 machine before the reset: %+v, want fenced", m)
	}
	resp, err := http.DefaultClient.Do(mustReq(t, "POST", h.http+"/api/reset-epoch", `{"wall":"day"}`, auth))
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("reset: %v %v", err, resp.Status)
	}
	var r ResetEpochResponse
	decodeJSON(t, resp, &r)
	if r.Wall != "day" || r.OldEpoch != 3 || r.Epoch != 0 {
		t.Fatalf("reset answered %+v", r)
	}
	waitFor(t, "the reset in the log", 5*time.Second, func() bool { return strings.Contains(logs.String(), `"old_epoch":3`) })
	if _, w := connectWall(t, h.url, "day", netsync.Message{Token: "tk"}); w.Type != netsync.TypeWelcome {
		t.Fatalf("hello after the reset: %+v", w)
	}
	if h.store.Epoch("day") != 1 {
		t.Fatalf("epoch after the new day's hello: %d, want 1", h.store.Epoch("day"))
	}
}

// TestStandbyPromotionThroughTheClient: a real client at epoch 2 takes the wall from one at
// epoch 1; the old one's events are refused, the new one's stored.
func TestStandbyPromotionThroughTheClient(t *testing.T) {
	h := startHub(t, HubConfig{})
	primary := startClient(t, h.url, "prom", "", t.TempDir(), nil)
	for s := uint64(1); s <= 20; s++ {
		primary.outbox.Submit(genEvent("prom", 1, s))
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if primary.outbox.WaitAcked(ctx) != 0 {
		t.Fatal("primary not acked")
	}
	if _, err := h.store.RaiseEpoch("prom", 2); err != nil { // as a promoted standby's hello would
		t.Fatal(err)
	}
	primary.outbox.Submit(genEvent("prom", 1, 21))
	waitFor(t, "the primary fenced", 10*time.Second, func() bool {
		return strings.Contains(primary.client.Status().LastError, netsync.CodeFenced)
	})
	if h.store.StoredSeq("prom", 1) != 20 {
		t.Fatalf("stored seq %d after fencing, want 20", h.store.StoredSeq("prom", 1))
	}
}
