package game_test

import (
	"fmt"

	"tapwall/game"
)

// A round is stepped one tick at a time with that tick's inputs; its ScoreEvents and state hash
// are available after every step.
func ExampleRound() {
	cfg := game.DefaultConfig()
	r, err := game.NewRound(&cfg, game.RoundParams{Wall: "wall-1", Round: 1, Seed: 7, Running: true})
	if err != nil {
		panic(err)
	}
	// Touch the first target of lane 2 (lane-relative position + the lane's origin) in tick 0.
	o := r.Objects()[0]
	lane := cfg.Lanes[2]
	r.Step([]game.Input{{Kind: game.KindDown, Contact: 1, XMM: lane.XMM + o.X, YMM: lane.YMM + o.Y}})
	for _, e := range r.Events() {
		fmt.Printf("seq %d: lane %d +%d (%s)\n", e.Seq, e.Lane, e.Delta, e.Reason)
	}
	// Output: seq 1: lane 2 +100 (target)
}
