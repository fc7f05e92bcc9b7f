package hub

import (
	"tapwall/netsync"
	"testing"
	"time"

	"tapwall/game"
)

// TestStartCommandLandsTickZeroOnT: the backend sends "start round 5 at T"; the wall, whose clock
// is offset from the backend's, schedules the round so that its running tick 0 begins within one
// tick of T on the backend's clock.
func TestStartCommandLandsTickZeroOnT(t *testing.T) {
	base := time.Now()
	const trueOffset = -987_654 // the backend's clock runs behind the wall's
	local := func() int64 { return time.Since(base).Microseconds() }
	h := startHub(t, HubConfig{Now: func() int64 { return local() + trueOffset }})
	c := startClient(t, h.url, "stage", "", t.TempDir(), func(cc *netsync.ClientConfig) {
		cc.Local = local
		cc.SyncEvery = 10 * time.Millisecond
	})
	waitFor(t, "clock synced", 10*time.Second, func() bool { return c.client.Clock().Samples() >= 8 })
	waitFor(t, "wall connected", 10*time.Second, func() bool { return c.client.Status().Connected })

	cfg := game.DefaultConfig()
	show := game.NewShow(&cfg, nil)
	loop := game.NewLoop(cfg.Round.TickRate, local())
	at := local() + trueOffset + 400_000 // T: 0.4 s from now on the backend's clock
	if _, err := h.hub.SendStart(StartRequest{Wall: "stage", Round: 5, Game: "rain", Seed: 9, AtUS: at}); err != nil {
		t.Fatal(err)
	}
	// The wall's frame loop: step to the clock, take commands between frames.
	var cmd netsync.Message
	deadline := time.Now().Add(10 * time.Second)
	for cmd.Type == "" {
		if time.Now().After(deadline) {
			t.Fatal("no start command arrived")
		}
		loop.Advance(local(), show, nil)
		select {
		case cmd = <-c.client.Commands():
		default:
			time.Sleep(time.Millisecond) // a frame
		}
	}
	off, _, _ := c.client.Clock().Offset()
	begin := loop.Next()
	countdown := loop.CountdownTo(cmd.AtUS - off)
	if err := show.Schedule(game.RoundParams{Round: cmd.Round, Game: cmd.Game, Seed: cmd.Seed, Countdown: countdown}); err != nil {
		t.Fatal(err)
	}
	r := show.Round()
	if r.Params().Round != 5 || r.GameName() != "rain" || r.Phase() != game.PhaseCountdown {
		t.Fatalf("scheduled round %+v in %v", r.Params(), r.Phase())
	}
	// Step tick by tick until it runs: its running tick 0 is the tick after the one it began in.
	for r.Phase() == game.PhaseCountdown {
		loop.Advance(loop.TimeOf(loop.Next()+1), show, nil)
	}
	tick0 := loop.Next()
	if tick0 != begin+countdown {
		t.Fatalf("running tick 0 is loop tick %d, want %d", tick0, begin+countdown)
	}
	landed := loop.TimeOf(tick0) + trueOffset // on the backend's clock, by the truth
	tickUS := int64(1_000_000 / cfg.Round.TickRate)
	if d := landed - at; d > tickUS || d < -tickUS {
		t.Fatalf("tick 0 began at backend time %d, T = %d: %d µs off, more than one tick (%d µs)", landed, at, d, tickUS)
	}
}
