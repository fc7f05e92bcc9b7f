package netsync

import (
	"context"
	"errors"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"
)

// TestWallInUseBacksOffLongerAndRaisesAnAlarm: a hello refused with wall_in_use (another show is
// connected as this wall at the same epoch) waits WallInUseBackoff, not the short reconnect
// backoff, raises an alarm and shows the state; once accepted the alarm clears.
func TestWallInUseBacksOffLongerAndRaisesAnAlarm(t *testing.T) {
	fb := startFake(t, func(n int, hello Message) Message {
		if n < 2 {
			return Message{Type: TypeError, Code: CodeWallInUse, Message: "wall w is connected from 10.0.0.5 at epoch 1"}
		}
		return Message{Type: TypeWelcome, Version: ProtocolVersion}
	})
	ob, _ := OpenOutbox(t.TempDir(), 0, zerolog.Nop())
	defer ob.Close()
	waits := make(chan time.Duration, 16)
	fire := make(chan time.Time)
	cl, _ := startClient(t, ClientConfig{URL: fb.url, Wall: "w", Outbox: ob, Log: zerolog.Nop(),
		After: func(d time.Duration) <-chan time.Time { waits <- d; return fire }})
	for i := 0; i < 2; i++ {
		d := <-waits
		if d < WallInUseBackoff/2 || d > WallInUseBackoff {
			t.Fatalf("wait %v after wall_in_use: want within [%v, %v], far above the reconnect backoff", d, WallInUseBackoff/2, WallInUseBackoff)
		}
		st := cl.Status()
		if a, ok := hasAlarm(st.Alarms, AlarmWallInUse, 0); st.State != LinkWallInUse || !ok || !strings.Contains(a.Message, "wall w") {
			t.Fatalf("status %+v: want state wall_in_use and an alarm naming the wall", st)
		}
		fire <- time.Now()
	}
	waitFor(t, "accepted", 5*time.Second, func() bool { return cl.Status().State == LinkUp })
	if _, ok := hasAlarm(cl.Status().Alarms, AlarmWallInUse, 0); ok {
		t.Fatal("the wall_in_use alarm stands after the hello was accepted")
	}
}

// TestFencedClientStopsAndNeverSaysHelloWithThatEpoch: the hello carries the outbox's epoch; a
// fenced client reports it (state, alarm "FENCED: another machine is primary (epoch E)"), sends
// nothing more, and connects again only with a higher epoch.
func TestFencedClientStopsAndNeverSaysHelloWithThatEpoch(t *testing.T) {
	fb := startFake(t, nil)
	fb.afterWelcome = func(n int, send func(Message)) {
		if n == 0 {
			send(Message{Type: TypeError, Code: CodeFenced, Epoch: 5, Message: "wall w is at epoch 5"})
		}
	}
	ob, _ := OpenOutbox(t.TempDir(), 0, zerolog.Nop())
	defer ob.Close()
	if err := ob.SetEpoch(4); err != nil {
		t.Fatal(err)
	}
	stopOb := runOutbox(t, ob)
	defer stopOb()
	waits := make(chan time.Duration, 16)
	cl, _ := startClient(t, ClientConfig{URL: fb.url, Wall: "w", Outbox: ob, Log: zerolog.Nop(),
		After: func(d time.Duration) <-chan time.Time { waits <- d; return time.After(d) }})
	waitFor(t, "fenced", 5*time.Second, func() bool { return cl.Status().State == LinkFenced })
	st := cl.Status()
	a, ok := hasAlarm(st.Alarms, AlarmFenced, 0)
	if !ok || !strings.Contains(a.Message, "FENCED: another machine is primary (epoch 5)") || st.FencedBy != 5 {
		t.Fatalf("status %+v: want the FENCED alarm naming epoch 5", st)
	}
	if h := fb.helloList(); len(h) != 1 || h[0].Epoch != 4 {
		t.Fatalf("hellos %+v: want one, with epoch 4", h)
	}
	// Scores made now are kept, not sent; no reconnect is even scheduled.
	ob.Submit(genEvent("w", 1, 1))
	waitFor(t, "durable", 5*time.Second, func() bool { return len(Pending(ob)) == 1 })
	select {
	case d := <-waits:
		t.Fatalf("a fenced client scheduled a reconnect in %v", d)
	default:
	}
	// Promotion to a higher epoch lets it connect again, and only with that epoch.
	if err := ob.SetEpoch(6); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "reconnected at epoch 6", 5*time.Second, func() bool { return ob.Depth() == 0 })
	h := fb.helloList()
	for _, m := range h[1:] {
		if m.Epoch != 6 {
			t.Fatalf("hello with epoch %d after being fenced at 4: %+v", m.Epoch, h)
		}
	}
	if len(h) < 2 {
		t.Fatalf("hellos %+v", h)
	}
}

// TestHelloRefusedAsFencedStops: a hello answered with fenced stops the client at once.
func TestHelloRefusedAsFencedStops(t *testing.T) {
	fb := startFake(t, func(n int, hello Message) Message {
		return Message{Type: TypeError, Code: CodeFenced, Message: "epoch 1 is below the wall's"}
	})
	ob, _ := OpenOutbox(t.TempDir(), 0, zerolog.Nop())
	defer ob.Close()
	cl, stop := startClient(t, ClientConfig{URL: fb.url, Wall: "w", Outbox: ob, Log: zerolog.Nop()})
	waitFor(t, "fenced", 5*time.Second, func() bool { return cl.Status().State == LinkFenced })
	if a, ok := hasAlarm(cl.Status().Alarms, AlarmFenced, 0); !ok || !strings.Contains(a.Message, "FENCED: another machine is primary (epoch above 1)") {
		t.Fatalf("alarms %+v", cl.Status().Alarms)
	}
	stop() // Run returns on ctx even while fenced
	if n := len(fb.helloList()); n != 1 {
		t.Fatalf("%d hellos: a fenced client must not say hello again with the same epoch", n)
	}
}

// TestMaxRoundFromTheWelcome: the welcome's max_round is exposed, NextRound follows it, and a
// start for a round the backend holds is refused with ErrRoundUsed.
func TestMaxRoundFromTheWelcome(t *testing.T) {
	fb := startFake(t, func(n int, hello Message) Message {
		return Message{Type: TypeWelcome, Version: ProtocolVersion, MaxRound: 41}
	})
	ob, _ := OpenOutbox(t.TempDir(), 0, zerolog.Nop())
	defer ob.Close()
	ob.SetJournal("w", 3, "")
	cl, err := NewClient(ClientConfig{URL: fb.url, Wall: "w", Outbox: ob, Log: zerolog.Nop()})
	if err != nil {
		t.Fatal(err)
	}
	if r, ok := cl.MaxRound(); ok || r != 0 {
		t.Fatalf("MaxRound before any welcome = %d, %v", r, ok)
	}
	if r, known := cl.NextRound(); known || r != 4 {
		t.Fatalf("NextRound before any welcome = %d, %v; want 4 (the outbox noted round 3)", r, known)
	}
	cl, _ = startClient(t, ClientConfig{URL: fb.url, Wall: "w", Outbox: ob, Log: zerolog.Nop()})
	<-cl.Welcomed()
	if r, ok := cl.MaxRound(); !ok || r != 41 {
		t.Fatalf("MaxRound = %d, %v; want 41 from the welcome", r, ok)
	}
	if r, known := cl.NextRound(); !known || r != 42 {
		t.Fatalf("NextRound = %d, %v; want 42", r, known)
	}
	for _, r := range []uint32{0, 3, 41} {
		if err := cl.CheckStart(r); !errors.Is(err, ErrRoundUsed) {
			t.Fatalf("CheckStart(%d) = %v; want ErrRoundUsed", r, err)
		}
	}
	if err := cl.CheckStart(42); err != nil {
		t.Fatal(err)
	}
	if st := cl.Status(); st.MaxRound != 41 || !st.MaxRoundKnown {
		t.Fatalf("status %+v", st)
	}
}

// TestSetStatusSendsTheLatestOnChangeAndEverySecond: SetStatus never blocks (link down or up),
// the backend gets the latest status soon after a change, not one message per call, and again
// at least every StatusEvery while nothing changes.
func TestSetStatusSendsTheLatestOnChangeAndEverySecond(t *testing.T) {
	fb := startFake(t, nil)
	ob, _ := OpenOutbox(t.TempDir(), 0, zerolog.Nop())
	defer ob.Close()
	cl, err := NewClient(ClientConfig{URL: fb.url, Wall: "w", Outbox: ob, Log: zerolog.Nop()})
	if err != nil {
		t.Fatal(err)
	}
	lanes := []LaneStatus{{Name: "Ana", Score: 1}, {Name: "Bo", Score: 2}}
	t0 := time.Now()
	for i := 0; i < 1000; i++ { // no link yet: SetStatus must not wait for one
		lanes[0].Score = int64(i)
		cl.SetStatus(WallStatus{Role: "primary", Epoch: 1, Round: 3, Phase: "running", Tick: int64(i), Lanes: lanes})
	}
	if d := time.Since(t0); d > 100*time.Millisecond {
		t.Fatalf("1000 SetStatus calls took %v with no link", d)
	}
	lanes[1].Name = "changed by the caller after the call" // SetStatus copied its lanes
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { cl.Run(ctx); close(done) }()
	defer func() { cancel(); <-done }()
	waitFor(t, "status at the backend", 5*time.Second, func() bool { return len(fb.statusList()) > 0 })
	if s := fb.statusList()[0]; s.Tick != 999 || len(s.Lanes) != 2 || s.Lanes[0].Score != 999 || s.Lanes[1].Name != "Bo" {
		t.Fatalf("first status at the backend %+v: want the last one set, as it was set", s)
	}
	for i := 0; i < 200; i++ {
		cl.SetStatus(WallStatus{Role: "primary", Round: 3, Phase: "running", Tick: int64(1000 + i)})
	}
	// On change: well before the once-a-second heartbeat would carry it.
	waitFor(t, "the latest status, sent on change", StatusEvery/2, func() bool {
		s := fb.statusList()
		return s[len(s)-1].Tick == 1199
	})
	if n := len(fb.statusList()); n > 30 {
		t.Fatalf("%d status messages for 201 calls: want the latest at most every %v", n, statusMinGap)
	}
	// Unchanged: it still goes out every StatusEvery.
	n := len(fb.statusList())
	waitFor(t, "the status again with nothing changed", 3*StatusEvery, func() bool { return len(fb.statusList()) >= n+2 })
	s := fb.statusList()
	if last := s[len(s)-1]; last.Tick != 1199 || last.Phase != "running" {
		t.Fatalf("heartbeat status %+v", last)
	}
}

// TestClientAndOutboxLeaveNoGoroutine: once their context ends, Run returns and every goroutine
// the client and the outbox started (reader, writer) is gone, also from the fenced state.
func TestClientAndOutboxLeaveNoGoroutine(t *testing.T) {
	fb := startFake(t, func(n int, hello Message) Message {
		if n == 1 {
			return Message{Type: TypeError, Code: CodeFenced, Epoch: 2}
		}
		return Message{Type: TypeWelcome, Version: ProtocolVersion}
	})
	base := runtime.NumGoroutine()
	for _, fenced := range []bool{false, true} {
		ob, _ := OpenOutbox(t.TempDir(), 0, zerolog.Nop())
		stopOb := runOutbox(t, ob)
		cl, stop := startClient(t, ClientConfig{URL: fb.url, Wall: "w", Outbox: ob, Log: zerolog.Nop()})
		ob.Submit(genEvent("w", 1, 1))
		want := LinkUp
		if fenced {
			want = LinkFenced
		}
		waitFor(t, want, 5*time.Second, func() bool { return cl.Status().State == want })
		stop()
		if err := stopOb(); err != nil {
			t.Fatal(err)
		}
		ob.Close()
	}
	waitFor(t, "goroutines gone", 5*time.Second, func() bool { return runtime.NumGoroutine() <= base })
}

// TestSubmitAllocatesNothing: Submit runs on the frame goroutine.
func TestSubmitAllocatesNothing(t *testing.T) {
	ob, _ := OpenOutbox(t.TempDir(), 1<<12, zerolog.Nop())
	defer ob.Close()
	e := genEvent("w", 1, 1)
	if n := testing.AllocsPerRun(1000, func() { ob.Submit(e) }); n != 0 {
		t.Fatalf("Submit allocates %v times per call", n)
	}
}

func BenchmarkOutboxSubmit(b *testing.B) {
	ob, _ := OpenOutbox(b.TempDir(), 0, zerolog.Nop())
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { ob.Run(ctx); close(done) }()
	e := genEvent("w", 1, 1)
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		e.Seq = uint64(i + 1)
		for ob.Submit(e) != nil { // the disk behind: the show keeps the event and retries
		}
	}
	b.StopTimer()
	cancel()
	<-done
	ob.Close()
}
