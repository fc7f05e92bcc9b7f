package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"tapwall/internal/hubtest"

	"github.com/rs/zerolog"

	"tapwall/game"
	"tapwall/netsync"
	"tapwall/netsync/hub"
)

// testHub is a real scorehub hub on loopback, in the test process.
type testHub = hubtest.Hub

func startTestHub(t *testing.T) *testHub { return hubtest.Start(t, hub.HubConfig{}) }

// TestSIGTERMUnderLoadLosesNoScore: an autoplayed 8-lane round streams to a real backend; SIGTERM
// in the middle of it ends the show with exit 0, the round's journal ends with its summary, and
// every event of the journal is either stored by the backend or durable in the outbox, byte for
// byte as the journal rebuilds it. The backend also got the wall's status (names, phase, scores).
func TestSIGTERMUnderLoadLosesNoScore(t *testing.T) {
	hb := startTestHub(t)
	outbox := filepath.Join(t.TempDir(), "outbox")
	var lanes strings.Builder
	for i := 0; i < 8; i++ {
		lanes.WriteString("[[lanes]]\nname = \"L" + string(rune('1'+i)) + "\"\nx_mm = " + itoa(i*1000) + "\nwidth_mm = 1000\nheight_mm = 4000\n")
	}
	cfg := "[round]\ncountdown_seconds = 0\nseconds = 60\n[show]\nattract = false\n[targets]\nspawn_every_ms = 200\n" + lanes.String()
	script := `{"tick":0,"action":"names","names":["Ada","Bo"]}` + "\n" + `{"tick":1,"action":"start"}` + "\n"
	w := startWall(t, cfg, script, "--autoplay", "--backend", hb.URL, "--wall", "sigterm-wall", "--outbox", outbox)
	deadline := time.Now().Add(60 * time.Second)
	for hb.Events("sigterm-wall") < 100 {
		if time.Now().After(deadline) {
			t.Fatalf("the backend got %d events in 60 s\n%s", hb.Events("sigterm-wall"), w.stderr)
		}
		time.Sleep(20 * time.Millisecond) // polling the backend's store for a condition
	}
	info := hb.Hub.Walls()
	var got *netsync.WallStatus
	for _, wi := range info.Walls {
		if wi.Wall == "sigterm-wall" {
			got = wi.Status
		}
	}
	if got == nil || got.Phase != "running" || len(got.Lanes) != 8 || got.Lanes[0].Name != "Ada" || got.Round < 1 {
		t.Fatalf("the backend's view of the wall: %+v", got)
	}
	w.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-w.exited:
		if w.err != nil {
			t.Fatalf("exit after SIGTERM: %v\n%s", w.err, w.stderr)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("no exit 30 s after SIGTERM")
	}
	journals, _ := filepath.Glob(filepath.Join(w.dir, "journals", "*.jsonl"))
	if len(journals) != 1 {
		t.Fatalf("journals %v", journals)
	}
	f, _ := os.Open(journals[0])
	evs, err := game.ReplayEvents(f, journals[0])
	f.Close()
	if err != nil {
		t.Fatalf("the journal after SIGTERM: %v", err)
	}
	data, _ := os.ReadFile(journals[0])
	lines := strings.Split(strings.TrimSpace(string(data)), "\n")
	var sum game.Summary
	if json.Unmarshal([]byte(lines[len(lines)-1]), &sum); sum.Type != "summary" || sum.Events != len(evs) {
		t.Fatalf("the journal's last line is %q, want its summary with %d events", lines[len(lines)-1], len(evs))
	}
	ob, err := netsync.OpenOutbox(outbox, 0, zerolog.Nop())
	if err != nil {
		t.Fatal(err)
	}
	defer ob.Close()
	pending, _ := ob.After(0, 1<<20, nil)
	stored := hb.Events("sigterm-wall")
	if stored+len(pending) < len(evs) {
		t.Fatalf("%d events journaled, %d stored by the backend and %d pending in the outbox: scores lost", len(evs), stored, len(pending))
	}
	byKey := map[uint64]game.ScoreEvent{}
	for _, e := range evs {
		byKey[e.Seq] = e
	}
	for _, p := range pending {
		if want := byKey[p.Seq]; want != p {
			t.Fatalf("outbox event %+v differs from the journal's %+v", p, want)
		}
	}
}

func itoa(n int) string {
	b, _ := json.Marshal(n)
	return string(b)
}
