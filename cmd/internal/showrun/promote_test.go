package showrun

import (
	"context"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"testing"
	"time"

	"tapwall/game"
	"tapwall/render/scene"
)

// Promotion of a hot standby: what it steps before it takes over, its clock, when it is refused.

const manualCfg = "[round]\ncountdown_seconds = 0\nseconds = 30\n[show]\nattract = false\n[standby]\npromote_after_ms = 0\n"

// promoteNow promotes s through Promote (as POST /promote does) while its frames run.
func promoteNow(t *testing.T, s *harness) error {
	t.Helper()
	errc := make(chan error, 1)
	go func() { errc <- s.r.Promote(context.Background()) }()
	deadline := time.Now().Add(10 * time.Second)
	for {
		select {
		case err := <-errc:
			return err
		default:
		}
		if len(s.r.console) > 0 {
			s.frame(nil)
		}
		if time.Now().After(deadline) {
			t.Fatal("Promote never returned")
		}
		runtime.Gosched()
	}
}

// theFollower returns the primary's one attached standby.
func theFollower(t *testing.T, p *harness) *follower {
	t.Helper()
	p.r.follows.mu.Lock()
	defer p.r.follows.mu.Unlock()
	if len(p.r.follows.followers) != 1 {
		t.Fatalf("%d standbys attached, want 1", len(p.r.follows.followers))
	}
	return p.r.follows.followers[0]
}

// TestManualPromotionStepsEveryTickItAcknowledged: the standby acknowledges a tick as soon as its
// reader has it, and the primary then hands that tick's scores to the backend. A promotion (POST
// /promote, the promote keys) taken while such ticks still wait in the standby's queue must step
// them first: continuing from the last tick it had stepped instead replays those ticks without the
// primary's inputs, so the backend holds scores the promoted show never makes (conflicts, lost
// or changed scores). Once promoted, the standby acknowledges nothing more to the old primary.
func TestManualPromotionStepsEveryTickItAcknowledged(t *testing.T) {
	script := []game.TickInput{{Tick: 1, Input: game.Input{Kind: game.KindStart}}}
	p, url := servedPrimary(t, manualCfg, func(o *Options) { o.Script = script; o.JournalDir = "" })
	p.run(16_667, 500_000)
	s := newHarness(t, manualCfg, func(o *Options) { o.Follow = url; o.Script = script })
	catchUp(t, p, s)
	f := theFollower(t, p)
	// The operator adjusts lane 1 on the primary in each of the next 5 ticks; the standby's reader
	// takes them (and acknowledges them) before its next frame.
	for i := 0; i < 5; i++ {
		p.r.loop.PushAt(p.r.loop.Next(), game.Input{Kind: game.KindAdjust, Source: game.SourceConsole, Lane: 0, Value: 10})
		p.clock.us.Add(16_667)
		s.clock.us.Store(p.clock.now()) // the two PCs' clocks run on together
		p.frame(nil)
	}
	last := p.r.show.Tick() - 1
	deadline := time.Now().Add(10 * time.Second)
	for f.acked.Load() < last {
		if time.Now().After(deadline) {
			t.Fatalf("the standby acknowledged tick %d, the primary stepped %d", f.acked.Load(), last)
		}
		runtime.Gosched()
	}
	if err := promoteNow(t, s); err != nil {
		t.Fatal(err)
	}
	// Both shows step on to the same tick: the promoted one must hold every score the primary
	// made in the ticks its standby acknowledged.
	for i := 0; i < 10; i++ {
		p.clock.us.Add(16_667)
		p.frame(nil)
		s.clock.us.Store(p.clock.now())
		s.frame(nil)
	}
	if p.r.show.Tick() != s.r.show.Tick() {
		t.Fatalf("the primary is at tick %d, the promoted standby at %d", p.r.show.Tick(), s.r.show.Tick())
	}
	if got, want := s.r.show.Round().Score(0), p.r.show.Round().Score(0); got != want {
		t.Fatalf("lane 1: the promoted standby has %d, the primary %d (whose scores up to tick %d the standby acknowledged)", got, want, last)
	}
	// The old primary, still alive, hears no acknowledgement of a tick the promoted show did not
	// step: the link is closed.
	promotedAt := s.r.show.Tick() - 10
	deadline = time.Now().Add(10 * time.Second)
	for p.r.follows.attached() {
		p.clock.us.Add(16_667)
		p.frame(nil)
		if a := f.acked.Load(); a >= promotedAt {
			t.Fatalf("after its promotion at tick %d the standby acknowledged tick %d to the old primary", promotedAt, a)
		}
		if time.Now().After(deadline) {
			t.Fatal("the promoted standby is still attached to the old primary")
		}
		runtime.Gosched()
	}
	s.close()
	p.close()
}

// TestAManualPromotionLongAfterThePrimaryDiedKeepsItsClock: with promote_after_ms 0 the operator
// promotes by hand, here 10 s after the primary's link died. The standby's show clock is another
// process's (it started 600 s before the primary): the promoted show must still start tick k+1
// within a tick of when the primary's would have, not freeze or race through the round.
func TestAManualPromotionLongAfterThePrimaryDiedKeepsItsClock(t *testing.T) {
	const apart = 600_000_000
	script := []game.TickInput{{Tick: 1, Input: game.Input{Kind: game.KindStart}}}
	p := newHarness(t, manualCfg, func(o *Options) { o.Script = script; o.JournalDir = "" })
	linkCtx, killLink := context.WithCancel(context.Background())
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		p.r.FollowHandler().ServeHTTP(w, req.WithContext(linkCtx))
	}))
	defer srv.Close()
	p.run(16_667, 500_000)
	s := newHarness(t, manualCfg, func(o *Options) { o.Follow = "ws" + strings.TrimPrefix(srv.URL, "http") + "/follow" })
	deadline := time.Now().Add(10 * time.Second)
	for s.r.loop == nil || s.r.show.Tick() != p.r.show.Tick() {
		s.clock.us.Store(p.clock.now() + apart) // before the snapshot p's frame answers can be read
		p.frame(nil)
		s.frame(nil)
		if time.Now().After(deadline) || s.r.role == RoleDiverged {
			t.Fatalf("the standby did not catch up: role %s", s.r.role)
		}
		runtime.Gosched()
	}
	last := s.r.show.Tick() - 1
	killLink() // the primary dies
	srv.Close()
	for i := 0; i < 600; i++ { // 10 s later the operator promotes
		s.clock.us.Add(16_667)
		s.frame(nil)
	}
	if err := promoteNow(t, s); err != nil {
		t.Fatal(err)
	}
	want := p.r.loop.TimeOf(last+1) + apart
	if d := s.r.loop.TimeOf(last+1) - want; d > 16_667 || d < -16_667 {
		t.Fatalf("tick %d starts at %d on the promoted standby, the primary's would have at %d (%+d µs)", last+1, s.r.loop.TimeOf(last+1), want, d)
	}
	s.close()
	p.close()
}

// TestPromotingAStandbyThatNeverJoinedIsRefused: a standby that never received its primary's
// snapshot has no show to continue: promoting it would start an unrelated show at tick 0 with
// epoch 1. Promote refuses it, and it stays a standby.
func TestPromotingAStandbyThatNeverJoinedIsRefused(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler()) // answers, but is no /follow
	url := "ws" + strings.TrimPrefix(srv.URL, "http") + "/follow"
	srv.Close()
	s := newHarness(t, manualCfg, func(o *Options) { o.Follow = url })
	s.run(16_667, 200_000)
	if err := promoteNow(t, s); err == nil || s.r.role != RoleStandby {
		t.Fatalf("promotion of a standby with no snapshot: %v; role %s", err, s.r.role)
	}
	s.close()
}

// TestThePromoteKeysPromoteAStandbyOnly: the promote key, confirmed, promotes a standby from its
// window; on a primary it does nothing (nothing is logged as refused).
func TestThePromoteKeysPromoteAStandbyOnly(t *testing.T) {
	press := func(h *harness, key string) {
		h.clock.us.Add(16_667)
		h.frame(&scene.Input{Keys: []scene.Key{{Name: key, Pressed: true}}})
	}
	p, url := servedPrimary(t, manualCfg, func(o *Options) { o.JournalDir = "" })
	p.run(16_667, 300_000)
	press(p, "KEY_F12")
	press(p, "KEY_Y")
	if p.r.role != RolePrimary || len(p.logs.events("promotion refused")) != 0 {
		t.Fatalf("the promote keys on a primary: role %s, refusals logged %v", p.r.role, p.logs.events("promotion refused"))
	}
	s := newHarness(t, manualCfg, func(o *Options) { o.Follow = url })
	catchUp(t, p, s)
	s.clock.us.Store(p.clock.now())
	press(s, "KEY_F12")
	if s.r.role != RoleStandby {
		t.Fatalf("the promote key alone made the standby %s", s.r.role)
	}
	press(s, "KEY_Y")
	if s.r.role != RolePrimary || len(s.logs.events("PROMOTED: this standby is the primary now")) != 1 {
		t.Fatalf("the confirmed promote keys left the standby %s", s.r.role)
	}
	s.close()
	p.close()
}
