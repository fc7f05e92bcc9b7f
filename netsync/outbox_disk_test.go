package netsync

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"
)

// stuckDisk makes one kind of disk operation hang until released, as a dying disk or an NFS
// server in trouble does.
type stuckDisk struct {
	mu      sync.Mutex
	armed   string // "sync", "acked", "dir", "remove": the operation that hangs
	entered chan string
	release chan struct{}
}

func newStuckDisk(o *Outbox) *stuckDisk {
	s := &stuckDisk{entered: make(chan string, 16), release: make(chan struct{})}
	real := realDisk()
	o.disk.syncFile = func(f *os.File) error { s.hang("sync"); return real.syncFile(f) }
	o.disk.writeFile = func(p string, b []byte) error { s.hang("acked"); return real.writeFile(p, b) }
	o.disk.syncDir = func(d string) error { s.hang("dir"); return real.syncDir(d) }
	o.disk.remove = func(p string) error { s.hang("remove"); return real.remove(p) }
	return s
}

func (s *stuckDisk) arm(what string) {
	s.mu.Lock()
	s.armed = what
	s.release = make(chan struct{})
	s.mu.Unlock()
}

// unstick releases a hung operation, if any.
func (s *stuckDisk) unstick() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.armed = ""
	select {
	case <-s.release:
	default:
		close(s.release)
	}
}

func (s *stuckDisk) hang(what string) {
	s.mu.Lock()
	hit, rel := s.armed == what, s.release
	if hit {
		s.armed = ""
	}
	s.mu.Unlock()
	if hit {
		s.entered <- what
		<-rel
	}
}

// TestSlowDiskNeverBlocksSubmitDepthOrOldestAge: with the outbox's writer stuck in an fsync, in
// saving acked.json, in the directory fsync of a segment rotation or in deleting a segment, the
// frame goroutine's calls (Submit, Depth, OldestAge) and the client's (Ack, After) still return
// at once: no I/O happens under a lock they take.
func TestSlowDiskNeverBlocksSubmitDepthOrOldestAge(t *testing.T) {
	for _, stage := range []string{"sync", "acked", "dir", "remove"} {
		t.Run(stage, func(t *testing.T) {
			ob, err := OpenOutbox(t.TempDir(), 0, zerolog.Nop())
			if err != nil {
				t.Fatal(err)
			}
			ob.segBytes = 1 << 10
			disk := newStuckDisk(ob)
			stop := runOutbox(t, ob)
			defer ob.Close()
			defer disk.unstick() // a failing test must not leave the writer hung
			seq := uint64(0)
			submit := func(n int) {
				for i := 0; i < n; i++ {
					seq++
					ob.Submit(genEvent("w", 1, seq))
				}
			}
			submit(20) // two segments' worth, durable
			waitFor(t, "durable", 5*time.Second, func() bool { return len(Pending(ob)) == 20 })
			disk.arm(stage)
			switch stage {
			case "sync", "dir": // the next commit hangs in its fsync, or in starting the next segment
				submit(20)
			case "acked", "remove": // the next save of acked.json hangs, or the deletion after it
				ob.Ack("w", 1, 20)
			}
			select {
			case <-disk.entered:
			case <-time.After(5 * time.Second):
				t.Fatalf("the writer never reached the %s stage", stage)
			}
			// The disk is stuck now. Every call the frame goroutine makes must return at once.
			var worst time.Duration
			calls := make(chan struct{})
			go func() {
				defer close(calls)
				for i := 0; i < 2000; i++ {
					t0 := time.Now()
					seq++
					if err := ob.Submit(genEvent("w", 1, seq)); err != nil {
						t.Error(err)
						return
					}
					ob.Depth()
					ob.OldestAge()
					ob.Alarms()
					worst = max(worst, time.Since(t0))
				}
				ob.Ack("w", 1, 5)
				ob.After(0, 10, nil)
			}()
			select {
			case <-calls:
			case <-time.After(5 * time.Second):
				t.Fatalf("Submit, Depth or OldestAge waited on the stuck disk (%s)", stage)
			}
			if worst > 50*time.Millisecond {
				t.Fatalf("one Submit+Depth+OldestAge took %v while the disk was stuck", worst)
			}
			t.Logf("%s stuck: slowest Submit+Depth+OldestAge+Alarms %v", stage, worst)
			if d := ob.Depth(); d < 2000 {
				t.Fatalf("Depth %d while 2000 events wait for the disk", d)
			}
			disk.unstick()
			waitFor(t, "the queue written once the disk is back", 10*time.Second, func() bool { return ob.queued.Load() == 0 })
			if err := stop(); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// TestCancelledRunWritesEveryQueuedEvent: 10000 events accepted by Submit, then the show stops
// (Run's context cancelled): all 10000 are on disk after a reopen, not one batch of them.
func TestCancelledRunWritesEveryQueuedEvent(t *testing.T) {
	dir := t.TempDir()
	ob, err := OpenOutbox(dir, 20000, zerolog.Nop())
	if err != nil {
		t.Fatal(err)
	}
	for s := uint64(1); s <= 10000; s++ {
		if err := ob.Submit(genEvent("w", 1, s)); err != nil {
			t.Fatal(err)
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := ob.Run(ctx); err != nil {
		t.Fatalf("Run after a clean shutdown: %v", err)
	}
	if n := len(Pending(ob)); n != 10000 {
		t.Fatalf("%d of 10000 events written at shutdown", n)
	}
	ob.Close()
	ob, err = OpenOutbox(dir, 0, zerolog.Nop())
	if err != nil {
		t.Fatal(err)
	}
	defer ob.Close()
	evs := Pending(ob)
	if len(evs) != 10000 || evs[0].Seq != 1 || evs[9999].Seq != 10000 {
		t.Fatalf("%d events on disk after the restart, want 10000", len(evs))
	}
}

// TestShutdownReportsEventsNotWritten: when the disk refuses the last writes, Run says how many
// events are not on disk instead of returning as if all were; Close tries them again.
func TestShutdownReportsEventsNotWritten(t *testing.T) {
	dir := t.TempDir()
	ob, err := OpenOutbox(dir, 20000, zerolog.Nop())
	if err != nil {
		t.Fatal(err)
	}
	for s := uint64(1); s <= 10000; s++ {
		ob.Submit(genEvent("w", 1, s))
	}
	ob.disk.syncFile = func(*os.File) error { return errors.New("input/output error") }
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	err = ob.Run(ctx)
	if err == nil || !strings.Contains(err.Error(), "10000 score events not written") {
		t.Fatalf("Run with a failing disk returned %v; want it to say 10000 events are not written", err)
	}
	ob.disk = realDisk() // the disk is back
	if err := ob.Close(); err != nil {
		t.Fatal(err)
	}
	ob, _ = OpenOutbox(dir, 0, zerolog.Nop())
	defer ob.Close()
	if n := len(Pending(ob)); n != 10000 {
		t.Fatalf("%d events on disk after Close retried, want 10000", n)
	}
}

// TestFailedRotationKeepsTheOutboxWorking: when the next segment cannot be created, the outbox
// keeps appending to the current one and rotates later; no batch is written twice.
func TestFailedRotationKeepsTheOutboxWorking(t *testing.T) {
	dir := t.TempDir()
	ob, err := OpenOutbox(dir, 0, zerolog.Nop())
	if err != nil {
		t.Fatal(err)
	}
	ob.segBytes = 1 << 10
	var mu sync.Mutex
	failures := 0
	ob.disk.openSeg = func(p string) (*os.File, error) {
		mu.Lock()
		defer mu.Unlock()
		if failures < 3 {
			failures++
			return nil, &os.PathError{Op: "open", Path: p, Err: errors.New("no space left on device")}
		}
		return realDisk().openSeg(p)
	}
	ob.rotateWait = 10 * time.Millisecond
	stop := runOutbox(t, ob)
	seq := uint64(0)
	for round := 0; round < 40; round++ { // one small commit at a time, past several rotations
		for i := 0; i < 5; i++ {
			seq++
			ob.Submit(genEvent("w", 1, seq))
		}
		want := int(seq)
		waitFor(t, "durable", 10*time.Second, func() bool { return len(Pending(ob)) == want })
		if round == 20 {
			mu.Lock()
			f := failures
			mu.Unlock()
			if f < 1 {
				t.Fatal("the injected rotation failure never happened")
			}
		}
	}
	waitFor(t, "a rotation after the failures", 10*time.Second, func() bool {
		segs, _ := filepath.Glob(filepath.Join(dir, "seg-*.log"))
		return len(segs) > 1
	})
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	ob.Close()
	// Every event is on disk exactly once.
	count := map[uint64]int{}
	segs, _ := filepath.Glob(filepath.Join(dir, "seg-*.log"))
	for _, p := range segs {
		b, _ := os.ReadFile(p)
		recs, dmg := scanSegment(b)
		if len(dmg) > 0 {
			t.Fatalf("%s damaged: %v", p, dmg)
		}
		for _, r := range recs {
			count[r.ev.Seq]++
		}
	}
	for s := uint64(1); s <= seq; s++ {
		if count[s] != 1 {
			t.Fatalf("event %d is on disk %d times", s, count[s])
		}
	}
}

// TestEpochIsKeptInTheOutbox: the epoch survives a restart (fsynced in the outbox directory) and
// never goes down.
func TestEpochIsKeptInTheOutbox(t *testing.T) {
	dir := t.TempDir()
	ob, _ := OpenOutbox(dir, 0, zerolog.Nop())
	if ob.Epoch() != 1 {
		t.Fatalf("a new outbox has epoch %d, want 1", ob.Epoch())
	}
	if err := ob.SetEpoch(3); err != nil {
		t.Fatal(err)
	}
	if err := ob.SetEpoch(2); err == nil || ob.Epoch() != 3 {
		t.Fatalf("lowering the epoch: %v, epoch %d; want an error and 3", err, ob.Epoch())
	}
	ob.Close()
	ob, _ = OpenOutbox(dir, 0, zerolog.Nop())
	defer ob.Close()
	if ob.Epoch() != 3 {
		t.Fatalf("epoch %d after a restart, want 3", ob.Epoch())
	}
	os.WriteFile(filepath.Join(dir, epochFile), []byte("garbage"), 0o644)
	ob2, _ := OpenOutbox(dir, 0, zerolog.Nop())
	defer ob2.Close()
	if ob2.Epoch() != 1 {
		t.Fatalf("an unreadable epoch file gives epoch %d; want 1 (the backend fences a wrong low epoch)", ob2.Epoch())
	}
}

// TestSetAsideKeepsTheOldOutbox: a restarted primary that becomes a standby moves its outbox out
// of the way, contents kept, and a fresh outbox can be opened at the old path.
func TestSetAsideKeepsTheOldOutbox(t *testing.T) {
	parent := t.TempDir()
	dir := filepath.Join(parent, "outbox")
	ob, _ := OpenOutbox(dir, 0, zerolog.Nop())
	ob.Submit(genEvent("w", 1, 1))
	ob.Close()
	p1, err := SetAside(dir)
	if err != nil || !strings.HasPrefix(p1, dir+".set-aside-") {
		t.Fatalf("SetAside = %q, %v", p1, err)
	}
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Fatalf("the outbox is still at %s", dir)
	}
	old, _ := OpenOutbox(p1, 0, zerolog.Nop())
	if n := len(Pending(old)); n != 1 {
		t.Fatalf("the set-aside outbox holds %d events, want its 1", n)
	}
	old.Close()
	// Set aside twice in the same second: the second gets its own name.
	os.MkdirAll(dir, 0o755)
	p2, err := SetAside(dir)
	if err != nil || p2 == p1 || p2 == "" {
		t.Fatalf("second SetAside = %q, %v (first %q)", p2, err, p1)
	}
	if p, err := SetAside(filepath.Join(parent, "none")); p != "" || err != nil {
		t.Fatalf("SetAside of nothing = %q, %v; want \"\", nil", p, err)
	}
}
