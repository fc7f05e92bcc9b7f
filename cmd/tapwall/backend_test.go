package main

import (
	"encoding/json"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"tapwall/internal/hubtest"

	"tapwall/game"
	scorehub "tapwall/netsync/hub"
)

func hub(t *testing.T, token string) (string, *scorehub.Store) {
	h := hubtest.Start(t, scorehub.HubConfig{Token: token})
	return h.URL, h.Store
}

func TestSimStreamsToTheBackend(t *testing.T) {
	url, st := hub(t, "tok")
	dir := t.TempDir()
	out, stderr, code := tapwall(t, nil, "sim", "--inputs", goldenInputs, "--seed", "7", "--ticks", "1200",
		"--backend", url, "--wall", "sim-wall", "--token", "tok", "--outbox", filepath.Join(dir, "ob"), "--round", "4")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	var sum game.Summary
	json.Unmarshal([]byte(out), &sum)
	tot := st.Totals()
	if len(tot.Walls) != 1 || tot.Walls[0].Wall != "sim-wall" || tot.Walls[0].Rounds[0].Round != 4 || tot.Walls[0].Rounds[0].Events != sum.Events {
		t.Fatalf("backend totals %+v for summary %+v", tot, sum)
	}
	for _, l := range tot.Walls[0].Rounds[0].Lanes {
		if l.Score != sum.Scores[l.Lane].Score {
			t.Fatalf("lane %d: backend %d, sim %d", l.Lane, l.Score, sum.Scores[l.Lane].Score)
		}
	}
	// Run it again: every event is a duplicate, acknowledged and not counted twice.
	if _, stderr, code := tapwall(t, nil, "sim", "--inputs", goldenInputs, "--seed", "7", "--ticks", "1200",
		"--backend", url, "--wall", "sim-wall", "--token", "tok", "--outbox", filepath.Join(dir, "ob2"), "--round", "4"); code != 0 {
		t.Fatalf("second run: exit %d %s", code, stderr)
	}
	if again := st.Totals(); again.Walls[0].Rounds[0].Events != sum.Events {
		t.Fatalf("a resent round was counted twice: %+v", again)
	}
}

func TestSimExit3WhenNotAcknowledged(t *testing.T) {
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	addr := ln.Addr().String()
	ln.Close() // nothing listens there
	start := time.Now()
	out, stderr, code := tapwall(t, nil, "sim", "--inputs", goldenInputs, "--seed", "7", "--ticks", "1200",
		"--backend", "ws://"+addr+"/ws", "--wall", "w", "--outbox", filepath.Join(t.TempDir(), "ob"), "--flush-timeout", "500ms")
	if code != 3 || !strings.Contains(stderr, "not acknowledged") || !strings.Contains(out, `"events"`) {
		t.Fatalf("exit %d, stderr %q", code, stderr)
	}
	var sum game.Summary
	json.Unmarshal([]byte(out), &sum)
	if !strings.Contains(stderr, strconv.Itoa(sum.Events)+" score events") || time.Since(start) > 20*time.Second {
		t.Fatalf("stderr %q should count the %d outstanding events", stderr, sum.Events)
	}
	// A bad URL is a usage error.
	if _, _, code := tapwall(t, nil, "sim", "--inputs", goldenInputs, "--backend", "http://x"); code != 2 {
		t.Fatalf("--backend http://: exit %d", code)
	}
}

// damageOutbox flips a byte in the middle of the outbox's first segment, as a bad sector would.
func damageOutbox(t *testing.T, dir string) {
	t.Helper()
	segs, _ := filepath.Glob(filepath.Join(dir, "seg-*.log"))
	if len(segs) == 0 {
		t.Fatalf("no outbox segment in %s", dir)
	}
	b, err := os.ReadFile(segs[0])
	if err != nil || len(b) < 1000 {
		t.Fatalf("segment %s: %d bytes, %v", segs[0], len(b), err)
	}
	b[len(b)/2] ^= 0x10
	if err := os.WriteFile(segs[0], b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// adjustInputs writes an input file that adjusts every lane's score in every tick: 4 events a tick.
func adjustInputs(t *testing.T, ticks int) string {
	t.Helper()
	var b strings.Builder
	for tick := 0; tick < ticks; tick++ {
		for lane := 0; lane < 4; lane++ {
			fmt.Fprintf(&b, `{"tick":%d,"action":"adjust","lane":%d,"delta":%d}`+"\n", tick, lane, tick%5+lane+1)
		}
	}
	p := filepath.Join(t.TempDir(), "adjust.jsonl")
	if err := os.WriteFile(p, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestSimExit4WhenADamagedScoreCannotBeRebuilt: a round's events wait in the outbox (backend
// down: exit 3), a byte of the outbox is damaged, and the next run delivers the rest: without the
// round's journal the damaged events are lost, named on stderr, exit 4; with it (sim --journal
// records it in the outbox) they are rebuilt and the backend's totals equal the round's, exit 0.
func TestSimExit4WhenADamagedScoreCannotBeRebuilt(t *testing.T) {
	inputs := adjustInputs(t, 600) // 2400 events
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	down := "ws://" + ln.Addr().String() + "/ws"
	ln.Close()
	for _, withJournal := range []bool{false, true} {
		t.Run(fmt.Sprint("journal=", withJournal), func(t *testing.T) {
			dir := t.TempDir()
			ob := filepath.Join(dir, "ob")
			args := []string{"sim", "--inputs", inputs, "--ticks", "600", "--wall", "w", "--outbox", ob, "--round", "2"}
			if withJournal {
				args = append(args, "--journal", filepath.Join(dir, "r2.jsonl"))
			}
			out, stderr, code := tapwall(t, nil, append(args, "--backend", down, "--flush-timeout", "300ms")...)
			if code != 3 {
				t.Fatalf("backend down: exit %d, %s", code, stderr)
			}
			var sum game.Summary
			json.Unmarshal([]byte(out), &sum)
			damageOutbox(t, ob)
			url, st := hub(t, "")
			// The next run plays round 3; round 2's events go out from the outbox.
			_, stderr, code = tapwall(t, nil, "sim", "--inputs", inputs, "--ticks", "10", "--wall", "w", "--outbox", ob, "--round", "3",
				"--backend", url, "--flush-timeout", "1500ms")
			var r2 *scorehub.RoundTotals
			for _, w := range st.Totals().Walls {
				for i := range w.Rounds {
					if w.Rounds[i].Round == 2 {
						r2 = &w.Rounds[i]
					}
				}
			}
			if !withJournal {
				if code != 4 || !strings.Contains(stderr, "SCORES LOST: wall w round 2 seq ") {
					t.Fatalf("exit %d, stderr %s; want exit 4 naming wall w round 2 and the seqs", code, stderr)
				}
				return
			}
			if code != 0 {
				t.Fatalf("exit %d with the journal to rebuild from: %s", code, stderr)
			}
			if r2 == nil || r2.Events != sum.Events {
				t.Fatalf("backend round 2: %+v, want %d events", r2, sum.Events)
			}
			for _, l := range r2.Lanes {
				if l.Score != sum.Scores[l.Lane].Score {
					t.Fatalf("lane %d: backend %d, round %d", l.Lane, l.Score, sum.Scores[l.Lane].Score)
				}
			}
		})
	}
}

// TestWallFlagIsChecked: a wall id that is not 1..64 characters of [A-Za-z0-9._-] is refused at
// the flag, exit 2, on sim and on run.
func TestWallFlagIsChecked(t *testing.T) {
	for _, id := range []string{"a/b", "x y", strings.Repeat("w", 65), ".."} {
		_, stderr, code := tapwall(t, nil, "sim", "--inputs", goldenInputs, "--ticks", "10", "--wall", id)
		if code != 2 || !strings.Contains(stderr, "--wall") {
			t.Fatalf("sim --wall %q: exit %d, %s", id, code, stderr)
		}
		_, stderr, code = tapwall(t, []string{"DISPLAY=:99"}, "run", "--wall", id)
		if code != 2 || !strings.Contains(stderr, "--wall") {
			t.Fatalf("run --wall %q: exit %d, %s", id, code, stderr)
		}
	}
	if out, stderr, code := tapwall(t, nil, "sim", "--inputs", goldenInputs, "--ticks", "10", "--wall", "Wall_2.left-A"); code != 0 || out == "" {
		t.Fatalf("a valid wall id: exit %d, %s", code, stderr)
	}
}
