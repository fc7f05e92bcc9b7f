package game

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
	"testing"
)

// TestReplayEventsRebuildsEveryEventByteForByte: a round's events are a pure function of its
// journal: ReplayEvents gives the JSON of every event exactly as the live round made it (show_us
// included), and of a journal cut short only the events of whole ticks.
func TestReplayEventsRebuildsEveryEventByteForByte(t *testing.T) {
	cfg := laneConfig(t, 4, "targets")
	r, err := NewRound(&cfg, RoundParams{Wall: "w", Round: 5, Seed: 3, Running: true, StartUS: 1_760_000_000_500_000})
	if err != nil {
		t.Fatal(err)
	}
	var journal bytes.Buffer
	rec, err := NewRecorder(&journal, r, 60, true)
	if err != nil {
		t.Fatal(err)
	}
	var want []ScoreEvent
	var lineAt []int // journal length after each tick
	touches := botTouches(t, &cfg, 3, 900, 9)
	var in []Input
	for tick := int64(0); tick < 900; tick++ {
		in = in[:0]
		for _, tc := range touches { // the same taps in every lane
			if tc.tick == tick {
				for l, lane := range cfg.Lanes {
					in = append(in, Input{Kind: tc.kind, Contact: int32(l + 1), XMM: lane.XMM + tc.x, YMM: lane.YMM + tc.y})
				}
			}
		}
		if tick%50 == 7 {
			in = append(in, Input{Kind: KindAdjust, Lane: int8(tick % 4), Value: int32(tick)})
		}
		rec.Step(in)
		want = append(want, r.Events()...)
		rec.w.Flush()
		lineAt = append(lineAt, journal.Len())
	}
	if err := rec.Close(); err != nil {
		t.Fatal(err)
	}
	if len(want) < 20 {
		t.Fatalf("only %d events: the test needs a scoring round", len(want))
	}
	got, err := ReplayEvents(bytes.NewReader(journal.Bytes()), "j")
	if err != nil {
		t.Fatal(err)
	}
	same := func(got, want []ScoreEvent) {
		t.Helper()
		if len(got) != len(want) {
			t.Fatalf("%d events rebuilt, want %d", len(got), len(want))
		}
		for i := range got {
			a, _ := json.Marshal(got[i])
			b, _ := json.Marshal(want[i])
			if !bytes.Equal(a, b) {
				t.Fatalf("event %d rebuilt as %s, want %s", i, a, b)
			}
		}
	}
	same(got, want)
	// Cut after the first input line of a scoring tick (a crash mid-tick): that tick's events are
	// left out, every earlier one is rebuilt.
	var tick int64
	first := -1
	for i, e := range want {
		if e.Tick >= 100 {
			tick, first = e.Tick, i
			break
		}
	}
	start := lineAt[tick-1]
	cut := start + bytes.IndexByte(journal.Bytes()[start:], '\n') + 1
	got, err = ReplayEvents(bytes.NewReader(journal.Bytes()[:cut]), "j")
	if err != nil {
		t.Fatal(err)
	}
	same(got, want[:first])
	// A journal that does not replay gives no events.
	bad := strings.Replace(journal.String(), `"type":"hash","tick":59,"hash":"`, `"type":"hash","tick":59,"hash":"0`, 1)
	if evs, err := ReplayEvents(strings.NewReader(bad), "j"); !errors.Is(err, ErrMismatch) || evs != nil {
		t.Fatalf("a tampered journal gave %d events, %v", len(evs), err)
	}
}
