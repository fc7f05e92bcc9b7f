package showrun

import (
	"testing"

	"tapwall/game"
)

// TestATickAllocatesNothing: the primary's tick (Runner.Step: the show's step, then the record a
// joiner's snapshot and the standbys get) allocates nothing on the frame goroutine, with
// contestants' names and a keyboard lane set (the state a base copies).
func TestATickAllocatesNothing(t *testing.T) {
	script := []game.TickInput{{Tick: 0, Input: game.Input{Kind: game.KindNames, Names: []string{"Ada", "Bo"}}},
		{Tick: 0, Input: game.Input{Kind: game.KindTakeover, Lane: 2, Value: 1}},
		{Tick: 1, Input: game.Input{Kind: game.KindStart}}}
	p := newHarness(t, "[round]\ncountdown_seconds = 0\nseconds = 600\n[show]\nattract = false\n", func(o *Options) { o.Script = script; o.JournalDir = "" })
	p.run(16_667, 1_000_000)
	if rd := p.r.show.Round(); rd == nil || rd.Phase() != game.PhaseRunning {
		t.Fatal("no round running")
	}
	p.r.since = make([]byte, 0, 1<<20) // the snapshot log's growth is amortised, not per tick
	p.r.sinceEnds = make([]int, 0, 1<<12)
	if a := testing.AllocsPerRun(1000, func() {
		p.r.Step(nil)
		p.r.loop.SetNext(p.r.loop.Next() + 1)
	}); a != 0 {
		t.Fatalf("%.1f allocations per tick", a)
	}
	p.close()
}
