package showrun

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/http/httptest"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"tapwall/game"
	"tapwall/netsync"
)

// servedPrimary is a primary harness with its /follow on a real loopback server.
func servedPrimary(t *testing.T, cfgBody string, tweak func(*Options)) (*harness, string) {
	t.Helper()
	p := newHarness(t, cfgBody, tweak)
	srv := httptest.NewServer(p.r.FollowHandler())
	t.Cleanup(srv.Close)
	return p, "ws" + strings.TrimPrefix(srv.URL, "http") + "/follow"
}

// catchUp runs standby frames (its clock kept with the primary's) until it has stepped every tick
// the primary has, or the deadline passes.
func catchUp(t *testing.T, p, s *harness) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		// The standby's clock first: its reader takes the clock offset from the snapshot the
		// primary's frame answers, maybe before this goroutine runs on.
		s.clock.us.Store(p.clock.now())
		p.frame(nil) // the primary's frames answer a joiner's snapshot request
		s.frame(nil)
		if s.r.role == RoleDiverged {
			t.Fatalf("the standby diverged: %+v", s.r.alarms.items)
		}
		if s.r.show != nil && s.r.show.Tick() == p.r.show.Tick() && s.r.loop != nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the standby is at tick %d, the primary at %d", s.r.show.Tick(), p.r.show.Tick())
		}
		runtime.Gosched()
	}
}

const followCfg = "[round]\ncountdown_seconds = 1\nseconds = 6\n[standby]\npromote_after_ms = 1000\n"

// TestStandbyJoinsMidRoundFollowsAndPromotes: a standby joins a running autoplayed round, steps
// the primary's ticks with the same hash after every one, writes its own journal; when the
// primary's ticks stop, it promotes itself after promote_after_ms and steps on from the next tick,
// on the primary's clock; the round it finishes replays.
func TestStandbyJoinsMidRoundFollowsAndPromotes(t *testing.T) {
	script := []game.TickInput{{Tick: 5, Input: game.Input{Kind: game.KindNames, Names: []string{"Ada"}}},
		{Tick: 6, Input: game.Input{Kind: game.KindStart}}, {Tick: 90, Input: game.Input{Kind: game.KindTakeover, Lane: 3, Value: 1}}}
	p, url := servedPrimary(t, followCfg, func(o *Options) { o.Autoplay = true; o.Script = script })
	p.run(16_667, 2_500_000) // mid-round
	s := newHarness(t, followCfg, func(o *Options) { o.Autoplay = true; o.Follow = url })
	catchUp(t, p, s)
	if s.r.role != RoleStandby || s.r.show.Hash() != p.r.show.Hash() || s.r.show.Round().Name(0) != "Ada" {
		t.Fatalf("joined: role %s, hashes %x %x", s.r.role, s.r.show.Hash(), p.r.show.Hash())
	}
	for i := 0; i < 60; i++ { // a second of show, tick for tick
		p.clock.us.Add(16_667)
		// The standby's clock first: its reader notes when it sees the primary's tick advance, and
		// may read the record p's frame sends before catchUp sets the clock.
		s.clock.us.Store(p.clock.now())
		p.frame(nil)
		catchUp(t, p, s)
		if s.r.show.Hash() != p.r.show.Hash() {
			t.Fatalf("hash differs at tick %d", p.r.show.Tick()-1)
		}
	}
	st := s.r.Status()
	if st.Role != "standby" || st.Following != url || st.FollowLagTicks > 1 {
		t.Fatalf("standby status: role %s following %s lag %d", st.Role, st.Following, st.FollowLagTicks)
	}
	// The primary freezes: its beats go on with the same tick; the standby promotes itself.
	last := s.r.show.Tick() - 1
	frozenAt := s.clock.now()
	// The silence counts from the standby's clock when its reader saw the primary's last tick.
	if tick, seenAt := s.r.fclient.Primary(); tick != last || seenAt != frozenAt {
		t.Fatalf("the standby's link saw tick %d at %d µs; want tick %d at %d µs, the primary's last", tick, seenAt, last, frozenAt)
	}
	for s.r.role == RoleStandby {
		s.clock.us.Add(16_667)
		s.frame(nil)
		if s.clock.now()-frozenAt > 2_000_000 {
			t.Fatal("no promotion 2 s after the primary froze")
		}
	}
	// The first frame past promote_after_ms of silence promotes.
	if waited := s.clock.now() - frozenAt; waited <= 1_000_000 || waited > 1_000_000+16_667 {
		t.Fatalf("promoted %d µs after the primary froze, want on the first frame past promote_after_ms (1 s)", waited)
	}
	if d := s.r.loop.TimeOf(last+1) - p.r.loop.TimeOf(last+1); s.r.role != RolePrimary || d > 16_667 || d < -16_667 {
		t.Fatalf("role %s; tick %d starts at %d, the primary's at %d", s.r.role, last+1, s.r.loop.TimeOf(last+1), p.r.loop.TimeOf(last+1))
	}
	s.run(16_667, 5_000_000)
	if rd := s.r.show.Round(); rd.Phase() != game.PhaseFinished || !rd.Takeover(3) {
		t.Fatalf("the promoted show's round: %v", rd.Phase())
	}
	s.close()
	p.close()
}

// TestStandbyWithAnotherConfigIsRefusedNamingTheKey: both sides say why; the standby ends.
func TestStandbyWithAnotherConfigIsRefusedNamingTheKey(t *testing.T) {
	p, url := servedPrimary(t, followCfg, nil)
	p.run(16_667, 200_000)
	s := newHarness(t, followCfg+"[targets]\nradius_mm = 200\n", func(o *Options) { o.Follow = url })
	deadline := time.Now().Add(10 * time.Second)
	for s.frame(nil) {
		if time.Now().After(deadline) {
			t.Fatal("the refused standby runs on")
		}
		runtime.Gosched()
	}
	if err := s.r.Fatal(); !errors.Is(err, netsync.ErrFollowRefused) || !strings.Contains(err.Error(), "targets.radius_mm") {
		t.Fatalf("standby's error: %v", err)
	}
	if ev := p.logs.events("standby refused: config key targets.radius_mm differs between the primary and the standby: give both PCs the same show config (only frames, input, render, standby and desk keyboards may differ)"); len(ev) != 1 {
		t.Fatalf("the primary's log: %v", p.logs.events(""))
	}
}

// TestGarbageAndOldVersionsOnFollowAreRefused: a client that says no proper hello, or another
// version, gets a clear refusal; the primary's loop goes on.
func TestGarbageAndOldVersionsOnFollowAreRefused(t *testing.T) {
	p, url := servedPrimary(t, followCfg, nil)
	p.run(16_667, 100_000)
	for _, tc := range []struct{ hello, code string }{
		{`garbage`, "hello"},
		{`{"type":"hello","version":99,"view":{}}`, netsync.FollowCodeVersion},
		{`{"type":"ack","tick":3}`, "hello"},
	} {
		c, _, err := websocket.DefaultDialer.Dial(url, nil)
		if err != nil {
			t.Fatal(err)
		}
		c.WriteMessage(websocket.TextMessage, []byte(tc.hello))
		c.SetReadDeadline(time.Now().Add(5 * time.Second))
		_, b, err := c.ReadMessage()
		c.Close()
		var m netsync.FollowMsg
		if err != nil || json.Unmarshal(b, &m) != nil || m.Type != netsync.FollowRefused || m.Code != tc.code {
			t.Fatalf("hello %s: got %s (%v), want refused %s", tc.hello, b, err, tc.code)
		}
	}
	p.run(16_667, 100_000)
	if p.r.loop.Lag(p.clock.now()) != 0 {
		t.Fatal("the primary fell behind")
	}
}

// TestAStandbyThatStopsReadingIsDroppedAndNeverStallsThePrimary: a follower that says hello and
// then never reads or acks (a SIGSTOPped standby) is dropped once it is standby.max_lag_ms behind;
// the primary's loop never owes a tick.
func TestAStandbyThatStopsReadingIsDroppedAndNeverStallsThePrimary(t *testing.T) {
	p, url := servedPrimary(t, followCfg+"[show]\nattract = true\n", func(o *Options) { o.Autoplay = true })
	p.run(16_667, 100_000)
	sayHello(t, p, url)
	deadline := time.Now().Add(10 * time.Second)
	for !p.r.follows.attached() {
		p.clock.us.Add(16_667)
		p.frame(nil)
		if time.Now().After(deadline) {
			t.Fatal("the follower never attached")
		}
		runtime.Gosched()
	}
	for i := 0; i < 200 && p.r.follows.attached(); i++ { // 3.3 s of show; it never reads
		p.clock.us.Add(16_667)
		p.frame(nil)
		if p.r.loop.Lag(p.clock.now()) != 0 {
			t.Fatal("the primary's loop owes ticks: it waited on its standby")
		}
	}
	deadline = time.Now().Add(10 * time.Second)
	for p.r.follows.attached() {
		if time.Now().After(deadline) {
			t.Fatal("the stalled standby was never dropped")
		}
		runtime.Gosched()
	}
	p.close()
}

// TestAJoinerRefusedAsBusyIsNotLeftAttached: a standby that asks to join while the primary's
// frames are frozen for more than 2 s is refused ("busy"). When the frames come back, its request
// must not attach a follower nobody serves: such a follower never acknowledges, so every score
// would wait standby.ack_timeout_ms and the "standby not following" alarm would stand for good.
func TestAJoinerRefusedAsBusyIsNotLeftAttached(t *testing.T) {
	p, url := servedPrimary(t, manualCfg, nil)
	p.run(16_667, 100_000)
	c := sayHello(t, p, url)
	c.SetReadDeadline(time.Now().Add(10 * time.Second))
	_, b, err := c.ReadMessage() // no frame runs: the primary's loop is "frozen"
	if err != nil || !bytes.Contains(b, []byte(`"code":"busy"`)) {
		t.Fatalf("want refused busy, got %s (%v)", b, err)
	}
	p.run(16_667, 500_000) // the frames come back
	if p.r.follows.attached() {
		t.Fatal("the refused joiner is attached: the primary waits on a standby that is not there")
	}
	p.close()
}

// sayHello dials p's follow stream at url and says hello as a standby with p's own config view,
// reading nothing; the connection is closed when the test ends.
func sayHello(t *testing.T, p *harness, url string) *websocket.Conn {
	t.Helper()
	_, view, _ := showView(p.r.cfg)
	c, _, err := websocket.DefaultDialer.Dial(url, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	hello, _ := json.Marshal(netsync.FollowMsg{Type: netsync.FollowHello, Version: netsync.FollowVersion, View: view})
	if err := c.WriteMessage(websocket.TextMessage, hello); err != nil {
		t.Fatal(err)
	}
	return c
}
