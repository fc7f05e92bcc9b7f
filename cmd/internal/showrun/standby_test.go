package showrun

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"tapwall/game"
)

// A standby stepping its primary's stream: the rounds it begins, what it makes of a bad record.

// TestABackendScheduledRoundIsTheSameRoundOnTheStandby: a round the backend's start command
// scheduled (the way a show with a backend starts its rounds) begins on the standby with exactly
// the primary's parameters, StartUS included: every ScoreEvent's show_us derives from it, so a
// different StartUS makes every event the standby produces differ from the primary's (the state
// hash does not cover it), and after a failover the backend refuses them as conflicts.
func TestABackendScheduledRoundIsTheSameRoundOnTheStandby(t *testing.T) {
	p, url := servedPrimary(t, manualCfg, func(o *Options) { o.JournalDir = "" })
	p.run(16_667, 300_000)
	s := newHarness(t, manualCfg, func(o *Options) { o.Follow = url })
	catchUp(t, p, s)
	// What command() does with a backend's start (StartUS: the local show time of its tick 0).
	p.r.sched = &game.RoundParams{Round: 7, Game: "targets", Seed: 4242, Names: []string{"Ada"}, StartUS: p.clock.now() + 1_000_000}
	p.run(16_667, 2_000_000)
	catchUp(t, p, s)
	pr, sr := p.r.show.Round(), s.r.show.Round()
	if pr == nil || sr == nil {
		t.Fatal("no round")
	}
	if !reflect.DeepEqual(pr.Params(), sr.Params()) {
		t.Fatalf("the scheduled round's parameters differ:\nprimary %+v\nstandby %+v", pr.Params(), sr.Params())
	}
	s.close()
	p.close()
}

// snapshotOf takes a snapshot of p as a joiner gets it.
func snapshotOf(t *testing.T, p *harness) []byte {
	t.Helper()
	f := &follower{wake: make(chan struct{}, 1), gone: make(chan struct{})}
	req := snapReq{f: f, reply: make(chan []byte, 1)}
	p.r.follows.snap <- req
	p.frame(nil)
	b := <-req.reply
	p.r.follows.remove(f)
	return b
}

// fakeFollow serves /follow with the given messages after the hello, then holds the link open.
func fakeFollow(t *testing.T, msgs ...[]byte) string {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		conn, err := websocket.Upgrade(w, r, nil, 0, 0)
		if err != nil {
			return
		}
		defer conn.Close()
		conn.SetReadDeadline(time.Now().Add(5 * time.Second))
		if _, _, err := conn.ReadMessage(); err != nil {
			return
		}
		for _, m := range msgs {
			conn.WriteMessage(websocket.TextMessage, m)
		}
		conn.SetReadDeadline(time.Now().Add(30 * time.Second))
		for {
			if _, _, err := conn.ReadMessage(); err != nil {
				return
			}
		}
	}))
	t.Cleanup(srv.Close)
	return "ws" + strings.TrimPrefix(srv.URL, "http") + "/follow"
}

// TestAMalformedTickRecordNeverPanicsTheStandby: a tick record whose round parameters name a game
// the standby does not know (a damaged or foreign stream) makes the standby diverged, with the
// tick named; it does not bring the standby down.
func TestAMalformedTickRecordNeverPanicsTheStandby(t *testing.T) {
	p, _ := servedPrimary(t, manualCfg, func(o *Options) { o.JournalDir = "" })
	p.run(16_667, 300_000)
	snap := snapshotOf(t, p)
	next := p.r.loop.Next()
	bad := fmt.Appendf(nil, `{"type":"tick","t":%d,"sent_us":1,"in":[{"tick":%d,"action":"start"}],"began":{"Wall":"wall-1","Round":1,"Seed":1,"Game":"nope"},"hash":"0"}`, next, next)
	s := newHarness(t, manualCfg, func(o *Options) { o.Follow = fakeFollow(t, snap, bad) })
	deadline := time.Now().Add(10 * time.Second)
	for s.r.role == RoleStandby && (s.r.loop == nil || s.r.show.Tick() <= next) {
		func() {
			defer func() {
				if v := recover(); v != nil {
					t.Fatalf("the standby panicked on a malformed tick record: %v", v)
				}
			}()
			s.clock.us.Add(16_667)
			s.frame(nil)
		}()
		if time.Now().After(deadline) {
			t.Fatalf("the standby took neither record: role %s", s.r.role)
		}
		runtime.Gosched()
	}
	if s.r.role != RoleDiverged || !strings.Contains(s.r.alarmMsg(AlarmStandby), fmt.Sprint(next)) {
		t.Fatalf("role %s, alarm %q", s.r.role, s.r.alarmMsg(AlarmStandby))
	}
	s.close()
	p.close()
}

// TestAStandbyJoinsARestartedShowBeforeItsFirstRound: a show restarted on a journal dir numbers its
// rounds after the journals (round 13 after r0012). A standby that joins before the first round
// begins (attract screen off) gets a base with that numbering and follows the round without
// diverging.
func TestAStandbyJoinsARestartedShowBeforeItsFirstRound(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "wall-1-20261128T110000Z-r0012.jsonl"), nil, 0o644)
	script := []game.TickInput{{Tick: 120, Input: game.Input{Kind: game.KindStart}}}
	p, url := servedPrimary(t, manualCfg, func(o *Options) { o.JournalDir = dir; o.Script = script })
	p.run(16_667, 500_000)
	s := newHarness(t, manualCfg, func(o *Options) { o.Follow = url })
	catchUp(t, p, s)
	p.run(16_667, 2_000_000)
	catchUp(t, p, s)
	if rd := s.r.show.Round(); rd == nil || rd.Params().Round != 13 || s.r.role != RoleStandby {
		t.Fatalf("the standby's round %+v, role %s", rd, s.r.role)
	}
	s.close()
	p.close()
}

// TestANumberingChangeFromTheBackendReachesTheStandby: the backend's welcome may renumber the
// primary's next round (Runner.backendFrame calls Show.SetNextRound) after a standby has joined,
// e.g. when the backend comes up after the show. The numbering is not in the show's hash (it used
// to be, and the standby diverged at the next tick); the standby takes the round's number from the
// primary's stream when the round begins.
func TestANumberingChangeFromTheBackendReachesTheStandby(t *testing.T) {

	p, url := servedPrimary(t, manualCfg, func(o *Options) { o.JournalDir = "" })
	p.run(16_667, 300_000)
	s := newHarness(t, manualCfg, func(o *Options) { o.Follow = url })
	catchUp(t, p, s)
	p.r.show.SetNextRound(40) // what backendFrame does once the welcome says the backend holds round 39
	p.r.loop.PushAt(p.r.loop.Next()+2, game.Input{Kind: game.KindStart, Source: game.SourceConsole})
	p.run(16_667, 500_000)
	catchUp(t, p, s)
	if rd := s.r.show.Round(); rd == nil || rd.Params().Round != 40 {
		t.Fatalf("the standby's round %+v", rd)
	}
	s.close()
	p.close()
}

// TestTheSnapshotLogIsBoundedBetweenRounds: with the attract screen off, the log a joiner's
// snapshot is built from (every tick record since the last base) used to grow from the last
// round's start for as long as the show stood between rounds, about 15 MB an hour. Runs of ticks
// with nothing in them are now one record each.
func TestTheSnapshotLogIsBoundedBetweenRounds(t *testing.T) {

	script := []game.TickInput{{Tick: 1, Input: game.Input{Kind: game.KindStart}}}
	p := newHarness(t, "[round]\ncountdown_seconds = 0\nseconds = 5\n[show]\nattract = false\n", func(o *Options) { o.Script = script; o.JournalDir = "" })
	p.run(1_000_000, 3600_000_000) // an hour between rounds, a frame a second
	if n := len(p.r.since); n > 1<<20 {
		t.Fatalf("the snapshot log holds %d bytes after an hour between rounds", n)
	}
	p.close()
}

// TestADivergedStandbyStaysDiverged: records already queued behind the one that diverged the
// standby (here a fresh snapshot, as a reconnect queues it) must not make it a standby again:
// its link is stopped, so it would take the primary's silence for a death and promote itself
// over a live primary.
func TestADivergedStandbyStaysDiverged(t *testing.T) {
	p, _ := servedPrimary(t, manualCfg, func(o *Options) { o.JournalDir = "" })
	p.run(16_667, 300_000)
	snap := snapshotOf(t, p)
	next := p.r.loop.Next()
	bad := fmt.Appendf(nil, `{"type":"tick","t":%d,"sent_us":1,"hash":"0"}`, next)
	cfg := strings.Replace(manualCfg, "promote_after_ms = 0", "promote_after_ms = 1000", 1)
	s := newHarness(t, cfg, func(o *Options) { o.Follow = fakeFollow(t, snap, bad, snap) })
	for deadline := time.Now().Add(10 * time.Second); len(s.r.fclient.Messages()) < 3; {
		if time.Now().After(deadline) {
			t.Fatal("the three messages never arrived")
		}
		runtime.Gosched()
	}
	for i := 0; i < 180; i++ { // 3 s
		s.clock.us.Add(16_667)
		s.frame(nil)
		if s.r.role != RoleDiverged {
			t.Fatalf("after %d frames the diverged standby is %s", i+1, s.r.role)
		}
	}
	s.close()
	p.close()
}

// TestAStandbyKeepsItsShowWhenItsPrimaryComesBackEmpty: with promote_after_ms 0 (manual
// promotion), the primary's process dies and is restarted at the same address (systemd, an
// operator) with a fresh show: ticks from 0, the round lost. The standby holds the real show and
// must keep it: the snapshot names another show (show_id), so it is not adopted (an alarm says
// so), and a promotion continues the real show.
func TestAStandbyKeepsItsShowWhenItsPrimaryComesBackEmpty(t *testing.T) {
	script := []game.TickInput{{Tick: 1, Input: game.Input{Kind: game.KindStart}}}
	p1 := newHarness(t, manualCfg, func(o *Options) { o.Script = script; o.JournalDir = "" })
	url, serving, kill1 := followAddress(t, p1)
	p1.run(16_667, 3_000_000)
	s := newHarness(t, manualCfg, func(o *Options) { o.Follow = url })
	catchUp(t, p1, s)
	held := s.r.show.Tick()
	p2 := newHarness(t, manualCfg, func(o *Options) { o.JournalDir = "" }) // the restarted primary
	p2.run(16_667, 200_000)
	serving.Store(p2)
	kill1() // the old process dies
	for deadline := time.Now().Add(3 * time.Second); time.Now().Before(deadline); {
		p2.frame(nil) // its clock stands: it answers a joiner, and stays at its tick
		s.frame(nil)
		if s.r.show.Tick() < held {
			t.Fatalf("the standby dropped its show at tick %d for the restarted primary's at tick %d", held, s.r.show.Tick())
		}
		runtime.Gosched()
	}
	s.close()
	p1.close()
	p2.close()
}

// TestAStandbyStopsFollowingARestartedPrimary: the primary dies and a fresh show comes up at its
// address, its ticks soon beyond the ones the standby holds. The standby keeps the real show and
// stops following the address: it acknowledges none of the other show's ticks (they would loosen
// that show's score gate with acks of ticks this standby never steps), and the old primary's
// silence stands, so it still promotes itself after promote_after_ms. It used to go on taking the
// new show's beats and records as the primary advancing, and never promoted.
func TestAStandbyStopsFollowingARestartedPrimary(t *testing.T) {
	const cfg = "[round]\ncountdown_seconds = 0\nseconds = 30\n[show]\nattract = false\n[standby]\npromote_after_ms = 1000\n"
	script := []game.TickInput{{Tick: 1, Input: game.Input{Kind: game.KindStart}}}
	p1 := newHarness(t, cfg, func(o *Options) { o.Script = script; o.JournalDir = "" })
	url, serving, kill1 := followAddress(t, p1)
	p1.run(16_667, 1_000_000)
	s := newHarness(t, cfg, func(o *Options) { o.Follow = url })
	catchUp(t, p1, s)
	held := s.r.show.Tick()
	p2 := newHarness(t, cfg, func(o *Options) { o.JournalDir = "" }) // the restarted primary, already past the held tick
	p2.run(16_667, 2_000_000)
	serving.Store(p2)
	kill1() // the old process dies
	for deadline := time.Now().Add(10 * time.Second); !s.r.foreign; {
		p2.frame(nil) // clocks stand: the standby is not silent yet, and p2 answers its snapshot
		s.frame(nil)
		if time.Now().After(deadline) {
			t.Fatal("the standby never saw the restarted primary's snapshot")
		}
		runtime.Gosched()
	}
	for i := 0; s.r.role != RolePrimary; i++ { // both clocks run on; p2 steps ticks past held
		if i == 300 {
			t.Fatalf("5 s after the old primary's last tick the standby is still %s", s.r.role)
		}
		p2.clock.us.Add(16_667)
		s.clock.us.Add(16_667)
		p2.frame(nil)
		// The standby's reader takes p2's record of the tick before its frame, while it follows.
		for deadline := time.Now().Add(10 * time.Second); s.r.followCancel != nil; {
			if tick, _ := s.r.fclient.Primary(); tick >= p2.r.show.Tick()-1 {
				break
			}
			if time.Now().After(deadline) {
				t.Fatal("the restarted primary's tick never reached the standby's link")
			}
			runtime.Gosched()
		}
		s.frame(nil)
		if s.r.show.Tick() < held {
			t.Fatalf("the standby dropped its show at tick %d for the restarted primary's at tick %d", held, s.r.show.Tick())
		}
	}
	if rd := s.r.show.Round(); rd == nil || rd.Params().Round != 1 {
		t.Fatalf("the promoted standby plays %+v, not the old primary's round 1", rd)
	}
	for deadline := time.Now().Add(10 * time.Second); p2.r.follows.attached(); {
		p2.frame(nil)
		if time.Now().After(deadline) {
			t.Fatal("the standby is still attached to the restarted primary")
		}
		runtime.Gosched()
	}
	s.close()
	p1.close()
	p2.close()
}

// followAddress serves the follow stream of the harness serving holds, p1 at first, at one
// address (a primary's PC restarted in place: store another harness). kill1 ends p1's streams, as
// the death of its process would; the server stops when the test ends.
func followAddress(t *testing.T, p1 *harness) (url string, serving *atomic.Pointer[harness], kill1 func()) {
	serving = &atomic.Pointer[harness]{}
	serving.Store(p1)
	ctx1, kill1 := context.WithCancel(context.Background())
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		p := serving.Load()
		if p == p1 {
			req = req.WithContext(ctx1)
		}
		p.r.FollowHandler().ServeHTTP(w, req)
	}))
	t.Cleanup(func() { kill1(); srv.Close() })
	return "ws" + strings.TrimPrefix(srv.URL, "http") + "/follow", serving, kill1
}
