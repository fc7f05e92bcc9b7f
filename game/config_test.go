package game

import (
	"errors"
	"strings"
	"testing"
)

func TestParseConfigRejects(t *testing.T) {
	cases := []struct {
		name, toml, want string
	}{
		{"unknown key", "[round]\ntick_rat = 60\n", `"round.tick_rat"`},
		{"unknown table", "[sound]\nvolume = 3\n", `"sound`},
		{"syntax", "[round\n", "cfg.toml:2:"},
		{"tick rate low", "[round]\ntick_rate = 9\n", "round.tick_rate"},
		{"tick rate high", "[round]\ntick_rate = 1001\n", "round.tick_rate"},
		{"unknown game", "[round]\ngame = \"pong\"\n", "round.game"},
		{"lane off wall", "[[lanes]]\nname=\"a\"\nx_mm=7000\nwidth_mm=2000\nheight_mm=4000\n", "lanes[0].x_mm"},
		{"lanes overlap", "[[lanes]]\nname=\"a\"\nwidth_mm=2000\nheight_mm=4000\n[[lanes]]\nname=\"b\"\nx_mm=1000\nwidth_mm=2000\nheight_mm=4000\n", "lanes[1]"},
		{"unequal lanes", "[[lanes]]\nname=\"a\"\nwidth_mm=2000\nheight_mm=4000\n[[lanes]]\nname=\"b\"\nx_mm=2000\nwidth_mm=1000\nheight_mm=4000\n", "lanes[1].width_mm"},
		{"wrong type", "[round]\nseconds = \"sixty\"\n", "cfg.toml"},
		{"target too big", "[targets]\nradius_mm = 1500\n", "targets.radius_mm"},
		{"bad wall id", "[wall]\nid = \"a b\"\n", "wall.id"},
	}
	for _, tc := range cases {
		_, err := ParseConfig([]byte(tc.toml), "cfg.toml")
		if err == nil {
			t.Errorf("%s: accepted", tc.name)
			continue
		}
		if !errors.Is(err, ErrConfig) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %q should wrap ErrConfig and name %s", tc.name, err, tc.want)
		}
	}
}

func TestParseConfigOverridesOnlyWhatItSets(t *testing.T) {
	c, err := ParseConfig([]byte("[round]\ngame = \"rain\"\n[[lanes]]\nname=\"solo\"\nx_mm=100\ny_mm=200\nwidth_mm=3000\nheight_mm=3000\n"), "x")
	if err != nil {
		t.Fatal(err)
	}
	d := DefaultConfig()
	if c.Round.Game != "rain" || c.Round.TickRate != d.Round.TickRate || c.Targets != d.Targets {
		t.Fatalf("override lost defaults: %+v", c.Round)
	}
	if len(c.Lanes) != 1 || c.Lanes[0] != (LaneConfig{Name: "solo", XMM: 100, YMM: 200, WidthMM: 3000, HeightMM: 3000}) {
		t.Fatalf("lanes %+v: a file's lanes replace the defaults", c.Lanes)
	}
}

func TestShowViewNamesTheFirstKeyThatDiffers(t *testing.T) {
	a := DefaultConfig()
	b := DefaultConfig()
	b.Frames = []FrameConfig{{Name: "left"}}
	b.Input.SeamTimeMS = 5
	b.Render.Scale = Scale{Auto: true}
	b.Keyboard.Devices = []string{"Desk"}
	b.Standby.MaxLagMS = 500
	if d := FirstDifference(ShowView(&a), ShowView(&b)); d != "" {
		t.Fatalf("device matching, frames, input, render and standby may differ; got a difference at %q", d)
	}
	b.Lanes[2].Name = "Z"
	b.Targets.RadiusMM = 151
	if d := FirstDifference(ShowView(&a), ShowView(&b)); d != "lanes[2].name" {
		t.Fatalf("first difference %q, want lanes[2].name", d)
	}
	b.Lanes = b.Lanes[:3]
	if d := FirstDifference(ShowView(&a), ShowView(&b)); d != "lanes[2].name" {
		t.Fatalf("first difference %q", d)
	}
	c := DefaultConfig()
	c.Keyboard.Keymap = map[string][]string{"start": {"KEY_F5"}}
	if d := FirstDifference(ShowView(&a), ShowView(&c)); d != "keyboard.keymap" {
		t.Fatalf("first difference %q, want keyboard.keymap", d)
	}
}
