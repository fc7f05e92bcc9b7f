package netsync

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sort"
	"testing"
	"time"

	"github.com/rs/zerolog"
)

// TestOutboxAgainstAModel runs random submits, acks and restarts (clean, or with a torn tail)
// against a simple in-memory model of what must be pending: every durable, unacknowledged event,
// in order, across segment rotations and deletions.
func TestOutboxAgainstAModel(t *testing.T) {
	for seed := uint64(1); seed <= 4; seed++ {
		t.Run(fmt.Sprint(seed), func(t *testing.T) {
			rng := rand.New(rand.NewPCG(seed, 99))
			dir := t.TempDir()
			var model []Event // durable, not acknowledged, in order
			next := map[uint32]uint64{1: 1, 2: 1}
			acked := map[uint32]uint64{}
			var ob *Outbox
			var cancel context.CancelFunc
			var done chan struct{}
			open := func() {
				var err error
				if ob, err = OpenOutbox(dir, 0, zerolog.Nop()); err != nil {
					t.Fatal(err)
				}
				ob.segBytes = 2048 // rotate often
				var ctx context.Context
				ctx, cancel = context.WithCancel(context.Background())
				done = make(chan struct{})
				go func() { ob.Run(ctx); close(done) }()
			}
			shut := func() { cancel(); <-done; ob.Close() }
			// What must hold: the same events pending, each round's in seq order (across rounds the
			// order is free: a restart sends round by round).
			check := func(when string) {
				got, _ := ob.After(0, 1<<20, nil)
				if len(got) != len(model) {
					t.Fatalf("%s: %d pending, model %d", when, len(got), len(model))
				}
				last := map[uint32]uint64{}
				for _, e := range got {
					if e.Seq <= last[e.Round] {
						t.Fatalf("%s: round %d seq %d after seq %d", when, e.Round, e.Seq, last[e.Round])
					}
					last[e.Round] = e.Seq
				}
				byKey := func(evs []Event) []Event {
					evs = append([]Event(nil), evs...)
					sort.SliceStable(evs, func(i, j int) bool { return evs[i].Round < evs[j].Round })
					return evs
				}
				got, model := byKey(got), byKey(model)
				for i := range got {
					if got[i].Round != model[i].Round || got[i].Seq != model[i].Seq {
						t.Fatalf("%s: pending[%d] = %d/%d, model %d/%d", when, i, got[i].Round, got[i].Seq, model[i].Round, model[i].Seq)
					}
				}
			}
			open()
			for op := 0; op < 300; op++ {
				switch k := rng.IntN(10); {
				case k < 5: // a burst of events, in either round, made durable
					n := 1 + rng.IntN(30)
					for i := 0; i < n; i++ {
						r := uint32(1 + rng.IntN(2))
						e := genEvent("m", r, next[r])
						next[r]++
						ob.Submit(e)
						model = append(model, e)
					}
					waitFor(t, "durable", 5*time.Second, func() bool { got, _ := ob.After(0, 1<<20, nil); return len(got) == len(model) })
				case k < 8: // the backend acknowledges a prefix of a round
					r := uint32(1 + rng.IntN(2))
					if next[r] > 1 {
						s := acked[r] + uint64(rng.IntN(int(next[r]-acked[r])))
						ob.Ack("m", r, s)
						acked[r] = max(acked[r], s)
						keep := model[:0]
						for _, e := range model {
							if !(e.Round == r && e.Seq <= acked[r]) {
								keep = append(keep, e)
							}
						}
						model = keep
					}
				case k < 9: // clean restart
					shut()
					open()
					check("after restart")
				default: // crash mid-write: a torn record at the end of the newest segment
					shut()
					segs, _ := filepath.Glob(filepath.Join(dir, "seg-*.log"))
					f, _ := os.OpenFile(segs[len(segs)-1], os.O_APPEND|os.O_WRONLY, 0)
					f.Write([]byte{50, 0, 0, 0, 9, 9, 9, 9, '{'})
					f.Close()
					open()
					check("after a torn write")
				}
				check(fmt.Sprintf("op %d", op))
			}
			shut()
			segs, _ := filepath.Glob(filepath.Join(dir, "seg-*.log"))
			// Acknowledged segments are deleted: what is left is at most the segments that hold a
			// pending event, plus the one being written.
			holding := map[int]bool{}
			reopened, _ := OpenOutbox(dir, 0, zerolog.Nop())
			for _, p := range reopened.pend {
				holding[p.seg] = true
			}
			reopened.Close()
			if len(segs) > len(holding)+1 {
				t.Fatalf("%d segment files for %d segments with pending events: acknowledged ones were not deleted", len(segs), len(holding))
			}
			t.Logf("%d pending events in %d segment files", len(model), len(segs))
		})
	}
}
