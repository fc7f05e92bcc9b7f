package netsync_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"tapwall/internal/hubtest"
	"tapwall/netsync"
	"tapwall/netsync/hub"
)

// These tests run the wall side against the real reference backend (netsync/hub, as scorehub
// serves it) on a loopback listener with a real bbolt store.

type testHub = hubtest.Hub

func startHub(t testing.TB) *testHub { return hubtest.Start(t, hub.HubConfig{}) }

// runLink runs the outbox and a client against url until the test ends.
func runLink(t testing.TB, ob *netsync.Outbox, url, wall string, log zerolog.Logger) *netsync.Client {
	t.Helper()
	cl, err := netsync.NewClient(netsync.ClientConfig{URL: url, Wall: wall, Outbox: ob, Log: log, MaxBackoff: 100 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { defer wg.Done(); ob.Run(ctx) }()
	go func() { defer wg.Done(); cl.Run(ctx) }()
	t.Cleanup(func() { cancel(); wg.Wait(); ob.Close() })
	return cl
}

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

// wantLanes is what a backend must hold of evs: per-lane sums of the deltas.
func wantLanes(evs []netsync.Event) map[int]int64 {
	m := map[int]int64{}
	for _, e := range evs {
		m[e.Lane] += e.Delta
	}
	return m
}

// TestDamagedOutboxDeliversEveryEvent is issue 10's scenario: a round of 14400 events in many
// segments, a flipped byte in an early segment and garbage inserted in a later one. On restart
// every valid later event survives, the damaged ones are rebuilt byte for byte from the round's
// journal, and the real backend ends up holding all 14400 with the round's totals.
func TestDamagedOutboxDeliversEveryEvent(t *testing.T) {
	dir := t.TempDir()
	journal := filepath.Join(t.TempDir(), "wall-7-r0003.jsonl")
	evs := netsync.AdjustRound(t, journal, "wall-7", 3, 3600)
	if len(evs) != 14400 {
		t.Fatalf("%d events; the scenario needs 14400", len(evs))
	}
	ob, err := netsync.OpenOutbox(dir, len(evs), zerolog.Nop())
	if err != nil {
		t.Fatal(err)
	}
	netsync.SetSegmentBytes(ob, 128<<10)
	ob.SetJournal("wall-7", 3, journal)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- ob.Run(ctx) }()
	for i, e := range evs { // committed as a live round does, a few ticks at a time
		ob.Submit(e)
		if i%400 == 399 {
			waitFor(t, "durable", 10*time.Second, func() bool { return len(netsync.Pending(ob)) == i+1 })
		}
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if err := ob.Close(); err != nil {
		t.Fatal(err)
	}
	segs, _ := filepath.Glob(filepath.Join(dir, "seg-*.log"))
	if len(segs) < 8 {
		t.Fatalf("%d segments; the scenario needs many", len(segs))
	}
	// One flipped byte in the middle of the second segment, garbage inserted in the fifth.
	b, _ := os.ReadFile(segs[1])
	b[len(b)/2] ^= 0x01
	os.WriteFile(segs[1], b, 0o644)
	b, _ = os.ReadFile(segs[4])
	b = append(b[:1000:1000], append([]byte("\x07\x00\x00\x00GARBAGE{\"wall\":\"wall-7\""), b[1000:]...)...)
	os.WriteFile(segs[4], b, 0o644)

	ob, err = netsync.OpenOutbox(dir, 0, zerolog.Nop())
	if err != nil {
		t.Fatal(err)
	}
	got := netsync.Pending(ob)
	if len(got) != len(evs) {
		t.Fatalf("%d events after the damage, want all %d", len(got), len(evs))
	}
	for i := range got {
		a, _ := json.Marshal(got[i])
		w, _ := json.Marshal(evs[i])
		if string(a) != string(w) {
			t.Fatalf("event %d after the damage is %s, want %s", i, a, w)
		}
	}
	if lost := ob.Lost(); len(lost) > 0 {
		t.Fatalf("alarms although the journal rebuilt everything: %+v", lost)
	}
	h := startHub(t)
	runLink(t, ob, h.URL, "wall-7", zerolog.Nop())
	waitFor(t, "every event acknowledged", 60*time.Second, func() bool { return ob.Depth() == 0 })
	n, lanes := h.Round("wall-7", 3)
	if n != len(evs) || fmt.Sprint(lanes) != fmt.Sprint(wantLanes(evs)) {
		t.Fatalf("backend holds %d events, lanes %v; want %d, %v", n, lanes, len(evs), wantLanes(evs))
	}
}

// TestAckedFileNeverPanicsAndTheWelcomeIsTrusted: acked.json saying null, garbage, or a huge seq
// never panics the outbox, and what the backend's welcome says it holds wins over the file, the
// difference logged: every event reaches a backend that holds none of them.
func TestAckedFileNeverPanicsAndTheWelcomeIsTrusted(t *testing.T) {
	for _, tc := range []struct{ name, content, log string }{
		{"null", "null", ""},
		{"garbage", "{\"wall-1/1\": 5,,", "acked.json"},
		{"huge seq", `{"wall-1/1":18446744073709551615}`, "acked.json differs from what the backend holds"},
		{"negative seq", `{"wall-1/1":-3}`, "acked.json"},
		{"bad key", `{"../1":3,"wall-1/0":4,"wall-1":2}`, "not wall/round"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			ob, err := netsync.OpenOutbox(dir, 0, zerolog.Nop())
			if err != nil {
				t.Fatal(err)
			}
			var evs []netsync.Event
			for s := uint64(1); s <= 50; s++ {
				e := netsync.Event{Wall: "wall-1", Round: 1, Seq: s, Tick: int64(s), Lane: int(s % 4), Delta: int64(s), Total: 0, Reason: "target"}
				evs = append(evs, e)
				ob.Submit(e)
			}
			if err := ob.Close(); err != nil { // Close writes what was queued
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(dir, "acked.json"), []byte(tc.content), 0o644); err != nil {
				t.Fatal(err)
			}
			var lb strings.Builder
			var lmu sync.Mutex
			log := zerolog.New(writerFunc(func(p []byte) (int, error) { lmu.Lock(); defer lmu.Unlock(); return lb.Write(p) }))
			ob, err = netsync.OpenOutbox(dir, 0, log)
			if err != nil {
				t.Fatal(err)
			}
			ob.Ack("wall-1", 2, 7) // acks of other rounds work whatever the file said
			h := startHub(t)
			runLink(t, ob, h.URL, "wall-1", log)
			waitFor(t, "every event acknowledged by the backend", 10*time.Second, func() bool {
				n, _ := h.Round("wall-1", 1)
				return n == 50 && ob.Depth() == 0
			})
			if _, lanes := h.Round("wall-1", 1); fmt.Sprint(lanes) != fmt.Sprint(wantLanes(evs)) {
				t.Fatalf("backend lanes %v, want %v", lanes, wantLanes(evs))
			}
			lmu.Lock()
			defer lmu.Unlock()
			if !strings.Contains(lb.String(), tc.log) {
				t.Fatalf("the log does not say %q:\n%s", tc.log, lb.String())
			}
		})
	}
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) { return f(p) }

// TestPermanentGapRaisesAnAlarmAndKeepsTheEvents: the backend lacks a round's first events
// (here the outbox only has seq 11..40) and refuses the rest with gap again and again: an alarm
// names the round, the link state says "gap", not "up", and the events stay in the outbox.
func TestPermanentGapRaisesAnAlarmAndKeepsTheEvents(t *testing.T) {
	ob, err := netsync.OpenOutbox(t.TempDir(), 0, zerolog.Nop())
	if err != nil {
		t.Fatal(err)
	}
	for s := uint64(11); s <= 40; s++ {
		ob.Submit(netsync.Event{Wall: "w", Round: 2, Seq: s, Lane: 1, Delta: 1, Reason: "target"})
	}
	h := startHub(t)
	cl := runLink(t, ob, h.URL, "w", zerolog.Nop())
	waitFor(t, "a permanent gap alarm", 10*time.Second, func() bool {
		st := cl.Status()
		for _, a := range st.Alarms {
			if a.Code == netsync.AlarmGap && a.Round == 2 && a.Seq == 11 {
				return st.State == netsync.LinkGap
			}
		}
		return false
	})
	if st := cl.Status(); !st.Connected || st.Depth != 30 {
		t.Fatalf("status %+v: want connected, all 30 events kept", st)
	}
	if n, _ := h.Round("w", 2); n != 0 {
		t.Fatalf("the backend stored %d events of a round it lacks the start of", n)
	}
}

// TestNextRoundFollowsTheBackend: a fresh outbox (a spare PC, a wiped disk) numbers its next
// round after the rounds the backend holds, as its welcome says.
func TestNextRoundFollowsTheBackend(t *testing.T) {
	h := startHub(t)
	t.Run("old PC", func(t *testing.T) { // its link ends with the subtest, as the old PC goes away
		old, _ := netsync.OpenOutbox(t.TempDir(), 0, zerolog.Nop())
		for s := uint64(1); s <= 3; s++ {
			old.Submit(netsync.Event{Wall: "w", Round: 7, Seq: s, Lane: 0, Delta: 1, Reason: "target"})
		}
		runLink(t, old, h.URL, "w", zerolog.Nop())
		waitFor(t, "round 7 stored", 10*time.Second, func() bool { n, _ := h.Round("w", 7); return n == 3 })
	})

	fresh, _ := netsync.OpenOutbox(t.TempDir(), 0, zerolog.Nop())
	cl := runLink(t, fresh, h.URL, "w", zerolog.Nop())
	if r, known := cl.NextRound(); known || r != 1 {
		t.Fatalf("before the welcome NextRound = %d, %v; want 1 from the outbox, not known", r, known)
	}
	select {
	case <-cl.Welcomed():
	case <-time.After(10 * time.Second):
		t.Fatal("no welcome")
	}
	if r, known := cl.NextRound(); !known || r != 8 {
		t.Fatalf("NextRound = %d, %v; want 8, known", r, known)
	}
	if err := cl.CheckStart(7); err == nil {
		t.Fatal("CheckStart(7): the backend holds round 7, a start for it must be refused")
	}
	if err := cl.CheckStart(8); err != nil {
		t.Fatal(err)
	}
}

// TestMissingEventsAreJudgedByTheBackend: an outbox that holds only a round's later events
// (seq 31..60: the earlier segments were trimmed once acknowledged, and acked.json is lost) raises
// no alarm on its own; the welcome decides: with a backend that holds seq 1..60 nothing is
// missing, with one that holds none an alarm names seq 1..30.
func TestMissingEventsAreJudgedByTheBackend(t *testing.T) {
	ev := func(s uint64) netsync.Event {
		return netsync.Event{Wall: "w", Round: 1, Seq: s, Lane: int(s % 4), Delta: 2, Reason: "target"}
	}
	full := startHub(t)
	t.Run("fill", func(t *testing.T) { // its link ends with the subtest: one connection per wall at a time
		ob, _ := netsync.OpenOutbox(t.TempDir(), 0, zerolog.Nop())
		for s := uint64(1); s <= 60; s++ {
			ob.Submit(ev(s))
		}
		runLink(t, ob, full.URL, "w", zerolog.Nop())
		waitFor(t, "the backend holds seq 1..60", 10*time.Second, func() bool { n, _ := full.Round("w", 1); return n == 60 })
	})

	for _, tc := range []struct {
		name     string
		url      string
		wantLost bool
	}{{"backend holds them", full.URL, false}, {"backend lacks them", startHub(t).URL, true}} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			ob, _ := netsync.OpenOutbox(dir, 0, zerolog.Nop())
			for s := uint64(31); s <= 60; s++ {
				ob.Submit(ev(s))
			}
			ob.Close()
			ob, err := netsync.OpenOutbox(dir, 0, zerolog.Nop())
			if err != nil {
				t.Fatal(err)
			}
			if a := ob.Alarms(); len(a) != 0 {
				t.Fatalf("alarms before the backend said anything: %+v", a)
			}
			cl := runLink(t, ob, tc.url, "w", zerolog.Nop())
			select {
			case <-cl.Welcomed():
			case <-time.After(10 * time.Second):
				t.Fatal("no welcome within 10 s")
			}
			if !tc.wantLost {
				waitFor(t, "everything acknowledged", 10*time.Second, func() bool { return ob.Depth() == 0 })
				if a := cl.Status().Alarms; len(a) != 0 {
					t.Fatalf("alarms although the backend holds every event: %+v", a)
				}
				return
			}
			waitFor(t, "the alarm", 10*time.Second, func() bool { return len(ob.Lost()) == 1 })
			if a := ob.Lost()[0]; a.Round != 1 || a.Seq != 1 || a.SeqTo != 30 {
				t.Fatalf("alarm %+v: want round 1 seq 1..30", a)
			}
		})
	}
}
