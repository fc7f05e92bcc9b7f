package netsync

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/rs/zerolog"
)

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
