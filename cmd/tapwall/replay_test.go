package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"tapwall/game"
)

// TestSimAutoplayScoresEveryLaneAndReplays runs `tapwall sim --autoplay` as a real process for
// both games: every lane scores, the journal's bot touches replay to the same summary, and a rerun
// with the same seed prints the same.
func TestSimAutoplayScoresEveryLaneAndReplays(t *testing.T) {
	for _, g := range game.Games {
		j := filepath.Join(t.TempDir(), "j.jsonl")
		out, stderr, code := tapwall(t, nil, "sim", "--autoplay", "--game", g, "--seed", "11", "--journal", j)
		if code != 0 {
			t.Fatalf("%s: exit %d: %s", g, code, stderr)
		}
		var sum game.Summary
		if err := json.Unmarshal([]byte(out), &sum); err != nil {
			t.Fatal(err)
		}
		for _, ls := range sum.Scores {
			if ls.Score <= 0 {
				t.Fatalf("%s: lane %d scored %d with autoplay", g, ls.Lane, ls.Score)
			}
		}
		again, _, _ := tapwall(t, nil, "sim", "--autoplay", "--game", g, "--seed", "11")
		rep, stderr, code := tapwall(t, nil, "replay", j)
		if code != 0 || rep != out || again != out {
			t.Fatalf("%s: replay exit %d (%s)\nsim:    %s\nreplay: %s\nrerun:  %s", g, code, stderr, out, rep, again)
		}
		data, _ := os.ReadFile(j)
		if strings.Count(string(data), `"source":"bot"`) < 20 {
			t.Fatalf("%s: the journal has no bot touches", g)
		}
	}
}

// TestReplayOfAJournalCutMidLineExitsZero: a journal cut by a crash in the middle of a line replays
// up to its last whole line, says where it stopped on stderr and exits 0 with that summary.
func TestReplayOfAJournalCutMidLineExitsZero(t *testing.T) {
	dir := t.TempDir()
	j := filepath.Join(dir, "j.jsonl")
	if _, stderr, code := tapwall(t, nil, "sim", "--autoplay", "--seed", "3", "--ticks", "600", "--journal", j); code != 0 {
		t.Fatal(stderr)
	}
	data, _ := os.ReadFile(j)
	cut := filepath.Join(dir, "cut.jsonl")
	os.WriteFile(cut, data[:len(data)*2/3+7], 0o644)
	out, stderr, code := tapwall(t, nil, "replay", cut)
	var sum game.Summary
	if code != 0 || json.Unmarshal([]byte(out), &sum) != nil || sum.Ticks < 300 || !strings.Contains(stderr, "replayed up to line") {
		t.Fatalf("exit %d, summary %q, stderr %q", code, out, stderr)
	}
}
