package hub

import (
	"encoding/json"
	"net/http"
	"path/filepath"
	"tapwall/netsync"
	"testing"
	"time"
)

// TestStartRefusesUnknownGameGarbageUsedRoundAndRunningRound: /api/start refuses an unknown game,
// trailing garbage and unknown fields; a round number already used (stored, started, or held by
// the wall) is refused with round_used (409, JSON); while the wall reports a round under way a
// start needs "replace":true, which the wall receives.
func TestStartRefusesUnknownGameGarbageUsedRoundAndRunningRound(t *testing.T) {
	h := startHub(t, HubConfig{})
	c, _ := connectWall(t, h.url, "w", netsync.Message{Acked: []netsync.RoundSeq{{Round: 4, Seq: 0}}})
	for _, tc := range []struct {
		body string
		code int
		err  string
	}{
		{`{"wall":"w","game":"chess","at_us":1}`, 400, CodeUnknownGame},
		{`{"wall":"w","game":"targets"} {"wall":"w","game":"rain"}`, 400, CodeBadRequest},
		{`{"wall":"w","game":"targets"}garbage`, 400, CodeBadRequest},
		{`{"wall":"w","game":"targets","colour":"red"}`, 400, CodeBadRequest},
		{`{"wall":"w/x","game":"targets"}`, 400, CodeBadRequest},
		{`{"wall":"w","game":"targets","names":["a\u0000"]}`, 400, CodeBadRequest},
		{`{"wall":"nobody","game":"targets"}`, 409, CodeNotConnected},
		{`{"wall":"w","game":"targets","round":4}`, 409, netsync.CodeRoundUsed}, // in the wall's outbox
	} {
		if code, e := apiPost(t, h.http, "/api/start", tc.body, jsonCT); code != tc.code || e.Code != tc.err {
			t.Fatalf("%s: %d %+v, want %d %s", tc.body, code, e, tc.code, tc.err)
		}
	}
	if code, e := apiPost(t, h.http, "/api/start", `{"wall":"w","game":"rain","round":7,"seed":3,"at_us":99}`, jsonCT); code != 200 {
		t.Fatalf("start round 7: %d %+v", code, e)
	}
	if m := readMsg(t, c); m.Type != netsync.TypeStart || m.Round != 7 || m.Game != "rain" || m.Seed != 3 || m.AtUS != 99 || m.Replace {
		t.Fatalf("the wall got %+v", m)
	}
	if code, e := apiPost(t, h.http, "/api/start", `{"wall":"w","game":"rain","round":7}`, jsonCT); code != 409 || e.Code != netsync.CodeRoundUsed {
		t.Fatalf("round 7 again: %d %+v, want 409 round_used", code, e)
	}
	c.WriteJSON(netsync.ScoreMessage(genEvent("w", 2, 1))) // round 2 stored
	readMsg(t, c)
	if code, e := apiPost(t, h.http, "/api/start", `{"wall":"w","game":"rain","round":2}`, jsonCT); code != 409 || e.Code != netsync.CodeRoundUsed {
		t.Fatalf("stored round 2: %d %+v", code, e)
	}
	// The wall reports round 7 running: a start without replace is refused, with it sent.
	c.WriteJSON(netsync.Message{Type: netsync.TypeStatus, Status: &netsync.WallStatus{Role: "primary", Epoch: 1, Round: 7, Phase: "running",
		Game: "rain", Lanes: []netsync.LaneStatus{{Name: "A", Score: 5}}}})
	waitFor(t, "the status stored", 5*time.Second, func() bool {
		ws := h.hub.Walls()
		return len(ws.Walls) == 1 && ws.Walls[0].Status != nil
	})
	if code, e := apiPost(t, h.http, "/api/start", `{"wall":"w","game":"targets"}`, jsonCT); code != 409 || e.Code != CodeRoundRunning {
		t.Fatalf("start while running: %d %+v, want 409 round_running", code, e)
	}
	req := mustReq(t, "POST", h.http+"/api/start", `{"wall":"w","game":"targets","replace":true,"names":["Ann","Bo"]}`, jsonCT)
	resp, err := http.DefaultClient.Do(req)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("start with replace: %v %v", err, resp.Status)
	}
	var got StartRequest
	decodeJSON(t, resp, &got)
	if got.Round != 8 || !got.Replace {
		t.Fatalf("start with replace answered %+v, want round 8", got)
	}
	if m := readMsg(t, c); m.Type != netsync.TypeStart || m.Round != 8 || !m.Replace || len(m.Names) != 2 || m.Names[0] != "Ann" || m.Names[1] != "Bo" {
		t.Fatalf("the wall got %+v", m)
	}
}

// TestNewRoundsNumberedAfterEverythingKnown: a start without a round is numbered after the
// highest round stored, started, or reported by the wall's hello (rounds still in its outbox),
// and started rounds are remembered across a restart of the backend.
func TestNewRoundsNumberedAfterEverythingKnown(t *testing.T) {
	db := filepath.Join(t.TempDir(), "s.db")
	h := startHubAt(t, db, HubConfig{})
	c, _ := connectWall(t, h.url, "w", netsync.Message{Acked: []netsync.RoundSeq{{Round: 12, Seq: 0}}}) // round 12 is only in the wall's outbox
	next := func() uint32 {
		t.Helper()
		r, err := h.hub.SendStart(StartRequest{Wall: "w", Game: "targets"})
		if err != nil {
			t.Fatal(err)
		}
		if m := readMsg(t, c); m.Round != r {
			t.Fatalf("the wall got %+v for round %d", m, r)
		}
		return r
	}
	if r := next(); r != 13 {
		t.Fatalf("first new round %d, want 13 (after the wall's outbox round 12)", r)
	}
	if r := next(); r != 14 {
		t.Fatalf("second new round %d, want 14 (after the started 13)", r)
	}
	c.Close()
	h.stop()
	h = startHubAt(t, db, HubConfig{})
	c, w := connectWall(t, h.url, "w", netsync.Message{})
	if w.MaxRound != 14 {
		t.Fatalf("welcome after a restart: max_round %d, want 14 (started rounds count)", w.MaxRound)
	}
	if r := next(); r != 15 {
		t.Fatalf("after a restart: round %d, want 15", r)
	}
}

// TestStatusIsStoredAndServedAtAPIWalls: a wall's status message is kept (latest) with its link
// state, epoch, role, ages and current round totals, and served at GET /api/walls; a malformed
// status is refused.
func TestStatusIsStoredAndServedAtAPIWalls(t *testing.T) {
	h := startHub(t, HubConfig{})
	c, _ := connectWall(t, h.url, "studio-a", netsync.Message{Epoch: 2})
	for s := uint64(1); s <= 8; s++ {
		c.WriteJSON(netsync.ScoreMessage(genEvent("studio-a", 3, s)))
		readMsg(t, c)
	}
	st := &netsync.WallStatus{Role: "primary", Epoch: 2, Round: 3, Phase: "running", Game: "targets", NextGame: "rain",
		Tick: 600, ShowUS: 123, LeftMS: 50000, LengthMS: 60000,
		Lanes: []netsync.LaneStatus{{Name: "Ann", Score: 10}, {Name: "Bo", Score: 7, Keyboard: true}}}
	c.WriteJSON(netsync.Message{Type: netsync.TypeStatus, Wall: "studio-a", Status: st})
	var ws WallsInfo
	waitFor(t, "the status at /api/walls", 5*time.Second, func() bool {
		resp, err := http.Get(h.http + "/api/walls")
		if err != nil {
			return false
		}
		ws = WallsInfo{}
		json.NewDecoder(resp.Body).Decode(&ws)
		resp.Body.Close()
		return len(ws.Walls) == 1 && ws.Walls[0].Status != nil
	})
	w := ws.Walls[0]
	want := wantTotals(8)
	if w.Wall != "studio-a" || w.Link != "up" || w.Epoch != 2 || w.Role != "primary" || w.MaxRound != 3 ||
		w.LastEventAgeMS == nil || w.StatusAgeMS == nil || *w.StatusAgeMS > 5000 || w.Remote == "" {
		t.Fatalf("wall info %+v", w)
	}
	if w.Status.Phase != "running" || w.Status.Lanes[1].Name != "Bo" || !w.Status.Lanes[1].Keyboard || w.Status.LeftMS != 50000 {
		t.Fatalf("status %+v", *w.Status)
	}
	if w.Totals == nil || w.Totals.Round != 3 || w.Totals.Events != 8 || w.Totals.Lanes[0].Score != want[0] {
		t.Fatalf("totals %+v, want lane 0 = %d", w.Totals, want[0])
	}
	if d := ws.NowUS - time.Now().UnixMicro(); d > 1e6 || d < -1e6 {
		t.Fatalf("now_us %d", ws.NowUS)
	}
	for _, bad := range []string{
		`{"type":"status"}`,
		`{"type":"status","status":{"role":"primary","lanes":[{"name":"x","scorez":1}]}}`,
		`{"type":"status","status":{"lanes":[{"name":"` + string(make([]byte, 100)) + `"}]}}`,
		`{"type":"status","wall":"other","status":{}}`,
		`{"type":"status","status":{"left_ms":-1}}`,
	} {
		c.WriteMessage(1, []byte(bad))
		if m := readMsg(t, c); m.Type != netsync.TypeError || (m.Code != netsync.CodeBadJSON && m.Code != netsync.CodeBadEvent) {
			t.Fatalf("%s: %+v", bad, m)
		}
	}
	c.Close()
	waitFor(t, "link down", 5*time.Second, func() bool { return h.hub.Walls().Walls[0].Link == "down" })
	if h.hub.Walls().Walls[0].Status.Round != 3 {
		t.Fatal("the latest status was lost with the link")
	}
}
