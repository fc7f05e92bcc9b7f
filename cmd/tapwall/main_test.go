package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"image"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"tapwall/assets"
	"tapwall/game"
	"tapwall/internal/testbin"
)

var binDir string

// TestMain builds the real tapwall binary (CGO_ENABLED=0, as shipped) for the process tests.
func TestMain(m *testing.M) {
	testbin.Main(m, &binDir, testbin.Cmd{Pkg: "."})
}

// tapwall runs the built binary and returns stdout, stderr and the exit code.
func tapwall(t *testing.T, env []string, args ...string) (string, string, int) {
	t.Helper()
	cmd := exec.Command(filepath.Join(binDir, "tapwall"), args...)
	cmd.Env = append(os.Environ(), env...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return out.String(), errb.String(), code
}

// inProcess runs a command through the same code path without a process.
func inProcess(args ...string) (string, string, int) {
	var out, errb bytes.Buffer
	c := &cli{stdout: &out, stderr: &errb}
	code := c.main(args)
	return out.String(), errb.String(), code
}

const goldenInputs = "../../game/testdata/golden/targets.inputs.jsonl"

func TestSimSameHashAcrossProcesses(t *testing.T) {
	args := []string{"sim", "--inputs", goldenInputs, "--seed", "7", "--ticks", "1200"}
	a, _, ca := tapwall(t, nil, args...)
	b, _, cb := tapwall(t, nil, args...)
	c, _, cc := inProcess(args...)
	if ca != 0 || cb != 0 || cc != 0 {
		t.Fatalf("exit codes %d %d %d", ca, cb, cc)
	}
	if a != b || a != c {
		t.Fatalf("runs differ:\n%s%s%s", a, b, c)
	}
	var s struct {
		Game   string `json:"game"`
		Seed   uint64 `json:"seed"`
		Ticks  int64  `json:"ticks"`
		Hash   string `json:"hash"`
		Scores []struct {
			Lane  int   `json:"lane"`
			Score int64 `json:"score"`
		} `json:"scores"`
		Events int `json:"events"`
	}
	dec := json.NewDecoder(strings.NewReader(a))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&s); err != nil {
		t.Fatalf("summary %q: %v", a, err)
	}
	if s.Game != "targets" || s.Seed != 7 || s.Ticks != 1200 || len(s.Hash) != 16 || len(s.Scores) != 4 || s.Events == 0 {
		t.Fatalf("summary %+v", s)
	}
	// The same run with another seed is another round.
	d, _, _ := tapwall(t, nil, "sim", "--inputs", goldenInputs, "--seed", "8", "--ticks", "1200")
	if d == a {
		t.Fatal("seed does not change the round")
	}
}

func TestSimDefaultsToTheRoundLength(t *testing.T) {
	out, _, code := inProcess("sim", "--inputs", goldenInputs, "--game", "rain")
	var s game.Summary
	if code != 0 || json.Unmarshal([]byte(out), &s) != nil || s.Ticks != 60*60 || s.Game != "rain" {
		t.Fatalf("exit %d, summary %s", code, out)
	}
}

func TestReplayJournalAndTamper(t *testing.T) {
	dir := t.TempDir()
	j := filepath.Join(dir, "round.jsonl")
	sim, _, code := tapwall(t, nil, "sim", "--inputs", goldenInputs, "--seed", "7", "--ticks", "600", "--journal", j)
	if code != 0 {
		t.Fatalf("sim exit %d", code)
	}
	rep, stderr, code := tapwall(t, nil, "replay", j)
	if code != 0 || rep != sim {
		t.Fatalf("replay exit %d: %s\nwant %s\n%s", code, rep, sim, stderr)
	}
	data, _ := os.ReadFile(j)
	lines := strings.Split(string(data), "\n")
	tick := -1
	for i, l := range lines { // the first down from tick 300 on gets another contact id
		if n, _ := fmt.Sscanf(l, `{"type":"input","tick":%d,"kind":"down"`, &tick); n == 1 && tick >= 300 && strings.Contains(l, `"kind":"down"`) {
			lines[i] = strings.Replace(l, `"contact":`, `"contact":9`, 1)
			break
		}
		if i == len(lines)-1 {
			t.Fatal("no down after tick 300 in the journal")
		}
	}
	bad := filepath.Join(dir, "tampered.jsonl")
	os.WriteFile(bad, []byte(strings.Join(lines, "\n")), 0o644)
	out, stderr, code := tapwall(t, nil, "replay", bad)
	if code != 1 || out != "" || !strings.Contains(stderr, fmt.Sprintf("at tick %d:", tick)) {
		t.Fatalf("tampered replay: exit %d, stdout %q, stderr %q; want exit 1 naming tick %d", code, out, stderr, tick)
	}
}

func TestBadInputsExit2WithFileAndLine(t *testing.T) {
	dir := t.TempDir()
	cases := []struct{ name, body, want string }{
		{"not json", "{\"tick\":0,\"action\":\"start\"}\n{oops\n", ":2: "},
		{"unknown kind", `{"tick":0,"kind":"tap","contact":1,"x_mm":1,"y_mm":1}`, ":1: unknown kind"},
		{"outside wall", "\n\n" + `{"tick":0,"kind":"down","contact":1,"x_mm":8000,"y_mm":1}`, ":3: touch at (8000, 1) mm is outside"},
		{"decreasing tick", `{"tick":5,"action":"start"}` + "\n" + `{"tick":4,"action":"pause"}`, ":2: tick 4 comes after tick 5"},
		{"missing position", `{"tick":0,"kind":"down","contact":1}`, `:1: a touch needs`},
		{"unknown field", `{"tick":0,"action":"start","speed":3}`, `:1: not a valid line`},
		{"argument on start", `{"tick":0,"action":"start","lane":3}`, `:1: action "start" takes no arguments`},
		{"zone out of range", `{"tick":0,"action":"zone_tap","lane":1,"zone":10}`, `:1: zone 10: use 1..9`},
		{"lane out of range", `{"tick":0,"action":"takeover","lane":4,"on":true}`, `:1: lane 4: the config has lanes 0..3`},
		{"adjust without delta", `{"tick":0,"action":"adjust","lane":0}`, `:1: action "adjust" needs exactly lane,delta`},
		{"negative tick", `{"tick":-1,"action":"start"}`, `:1: tick -1 is negative`},
	}
	for _, tc := range cases {
		p := filepath.Join(dir, strings.ReplaceAll(tc.name, " ", "_")+".jsonl")
		os.WriteFile(p, []byte(tc.body), 0o644)
		out, stderr, code := tapwall(t, nil, "sim", "--inputs", p)
		if code != 2 || out != "" || !strings.Contains(stderr, p+tc.want) {
			t.Errorf("%s: exit %d stdout %q stderr %q; want exit 2 and %q", tc.name, code, out, stderr, p+tc.want)
		}
	}
}

func TestBadConfigExit2NamingTheKey(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct{ body, want string }{
		{"[round]\ntick_rate = 5\n", "round.tick_rate"},
		{"[round]\ngmae = \"rain\"\n", `"round.gmae"`},
		{"[[lanes]]\nname=\"a\"\nx_mm=7000\nwidth_mm=2000\nheight_mm=4000\n", "lanes[0].x_mm"},
		{"[keyboard.keymap]\nstart = [\"KEY_P\"]\n", "key KEY_P is bound to both"},
		{"[keyboard.keymap]\nstart = [\"KEY_NOPE\"]\n", `unknown key "KEY_NOPE"`},
		{"[keyboard.keymap]\nfly = [\"KEY_F\"]\n", `unknown action "fly"`},
		{"[[frames]]\nname = \"f\"\nwidth_mm = 100\nheight_mm = 100\nrotation = 45\n", "frames[0].rotation"},
	} {
		p := filepath.Join(dir, "c.toml")
		os.WriteFile(p, []byte(tc.body), 0o644)
		for _, args := range [][]string{{"trace", "--evemu", "../../input/testdata/recordings/handmade_protoB.evemu", "--config", p}, {"config", "--check", p}} {
			out, stderr, code := tapwall(t, nil, args...)
			if code != 2 || out != "" || !strings.Contains(stderr, tc.want) || !strings.Contains(stderr, p) {
				t.Errorf("%v with %q: exit %d, stderr %q; want exit 2 naming %s and the file", args, tc.body, code, stderr, tc.want)
			}
		}
	}
}

// TestConfigCheckLoadsTheTheme: config --check reads the theme's files too; a missing one is exit 2
// naming the key and the config, a good one passes.
func TestConfigCheckLoadsTheTheme(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "c.toml")
	os.WriteFile(p, []byte("[theme]\nlogo = \"logo.png\"\n"), 0o644)
	out, stderr, code := tapwall(t, nil, "config", "--check", p)
	if code != 2 || out != "" || !strings.Contains(stderr, "theme.logo") || !strings.Contains(stderr, p) {
		t.Fatalf("missing logo: exit %d, stderr %q; want exit 2 naming theme.logo and the file", code, stderr)
	}
	img := image.NewRGBA(image.Rect(0, 0, 8, 8))
	var b bytes.Buffer
	png.Encode(&b, img)
	os.WriteFile(filepath.Join(dir, "logo.png"), b.Bytes(), 0o644)
	if out, stderr, code := tapwall(t, nil, "config", "--check", p); code != 0 || !strings.Contains(out, "logo.png") {
		t.Fatalf("with the logo there: exit %d, stdout %q, stderr %q", code, out, stderr)
	}
}

func TestPrintDefaultIsTheDefaultConfig(t *testing.T) {
	out, _, code := inProcess("config", "--print-default")
	if code != 0 || out != string(assets.DefaultConfig) {
		t.Fatalf("exit %d", code)
	}
	got, err := game.ParseConfig([]byte(out), "default.toml")
	if err != nil {
		t.Fatal(err)
	}
	if want := game.DefaultConfig(); !reflect.DeepEqual(got, want) {
		t.Fatalf("default.toml decodes to\n%+v\nbut the compiled-in defaults are\n%+v", got, want)
	}
	// Every key has a comment: on its line, or on the line above, or it is in a block of keys
	// introduced by a comment.
	lines := strings.Split(out, "\n")
	for i, l := range lines {
		l = strings.TrimSpace(l)
		if l == "" || l[0] == '#' || l[0] == '[' || strings.Contains(l, "#") {
			continue
		}
		j := i - 1
		for j >= 0 && strings.Contains(lines[j], "=") && !strings.HasPrefix(strings.TrimSpace(lines[j]), "#") {
			j--
		}
		if j < 0 || !strings.HasPrefix(strings.TrimSpace(lines[j]), "#") {
			t.Errorf("default.toml line %d %q has no comment", i+1, l)
		}
	}
}

func TestRunWithoutDisplay(t *testing.T) {
	out, stderr, code := tapwall(t, []string{"DISPLAY="}, "run", "--window", "200x100")
	if code != 2 || out != "" || !strings.Contains(stderr, "DISPLAY") || !strings.Contains(stderr, "xvfb-run") || strings.Contains(stderr, "panic") {
		t.Fatalf("exit %d stderr %q; want exit 2 explaining DISPLAY and xvfb-run", code, stderr)
	}
	// With no subcommand, tapwall is `tapwall run`.
	if _, stderr, code := tapwall(t, []string{"DISPLAY="}); code != 2 || !strings.Contains(stderr, "DISPLAY") {
		t.Fatalf("bare tapwall: exit %d %q", code, stderr)
	}
	if _, stderr, code := tapwall(t, []string{"DISPLAY=:99"}, "run", "--window", "big"); code != 2 || !strings.Contains(stderr, "--window") {
		t.Fatalf("bad --window: exit %d %q", code, stderr)
	}
	// A display but no tapwall-wall beside tapwall or on PATH: said, exit 2.
	if _, stderr, code := tapwall(t, []string{"DISPLAY=:99", "PATH=/nonexistent"}, "run"); code != 2 || !strings.Contains(stderr, "cannot find tapwall-wall") {
		t.Fatalf("missing tapwall-wall: exit %d %q", code, stderr)
	}
}

func TestHelpEverywhere(t *testing.T) {
	for _, args := range [][]string{{"help"}, {"-h"}, {"sim", "-h"}, {"replay", "-h"}, {"config", "-h"}, {"run", "-h"}} {
		out, stderr, code := tapwall(t, []string{"DISPLAY="}, args...)
		if code != 0 || !strings.Contains(out+stderr, "Usage") && !strings.Contains(out+stderr, "usage") {
			t.Errorf("%v: exit %d, %q", args, code, out+stderr)
		}
	}
	if _, _, code := tapwall(t, nil, "frobnicate"); code != 2 {
		t.Errorf("unknown command: exit %d, want 2", code)
	}
	if out, _, code := tapwall(t, nil, "version"); code != 0 || !strings.HasPrefix(out, "tapwall ") {
		t.Errorf("version: %d %q", code, out)
	}
}
