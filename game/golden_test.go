package game

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/golden from the current code")

// TestGolden runs each testdata/golden/GAME.inputs.jsonl through a 20 s round (seed 7, default config)
// and compares the summary with GAME.summary.json. Refresh with `go test ./game -run Golden -update`
// only after checking that a change of outcome is intended.
func TestGolden(t *testing.T) {
	for _, g := range Games {
		t.Run(g, func(t *testing.T) {
			cfg := DefaultConfig()
			cfg.Round.Game = g
			f, err := os.Open(filepath.Join("testdata/golden", g+".inputs.jsonl"))
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			in, err := ReadInputs(f, f.Name(), &cfg)
			if err != nil {
				t.Fatal(err)
			}
			got, _ := json.MarshalIndent(simulate(t, &cfg, 7, 20*60, in), "", "  ")
			got = append(got, '\n')
			path := filepath.Join("testdata/golden", g+".summary.json")
			if *update {
				if err := os.WriteFile(path, got, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (create it with -update)", err)
			}
			if !bytes.Equal(got, want) {
				t.Fatalf("summary differs from %s:\ngot  %s\nwant %s", path, got, want)
			}
		})
	}
}
