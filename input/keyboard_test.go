package input

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"tapwall/game"
)

// press sends a press and a release of key at show time t.
func press(o *Operator, key string, t int64) ([]game.Input, UI) {
	out, ui := o.Key(KeyEvent{Key: key, Pressed: true, TimeUS: t, Source: "window"}, nil)
	out, _ = o.Key(KeyEvent{Key: key, Pressed: false, TimeUS: t + 1, Source: "window"}, out)
	return out, ui
}

func describeInputs(in []game.Input) string {
	var s []string
	for _, x := range in {
		switch {
		case x.Kind.IsTouch():
			s = append(s, fmt.Sprintf("%s@%d,%d", x.Kind, x.XMM, x.YMM))
		case x.Kind == game.KindStart || x.Kind == game.KindPause || x.Kind == game.KindResume || x.Kind == game.KindAbort:
			s = append(s, x.Kind.String())
		default:
			s = append(s, fmt.Sprintf("%s(lane %d, %d)", x.Kind, x.Lane, x.Value))
		}
		if x.Source != game.SourceKeyboard {
			s = append(s, "NOT-KEYBOARD")
		}
	}
	return strings.Join(s, " ")
}

func TestDefaultKeymapActions(t *testing.T) {
	cfg := game.DefaultConfig()
	km, err := NewKeymap(nil)
	if err != nil {
		t.Fatal(err)
	}
	// Each step: keys pressed in order (1 s apart) and what they must produce in total.
	for _, tc := range []struct {
		name string
		keys []string
		want string
		ui   UI
	}{
		{"start", []string{"KEY_SPACE"}, "start", UINone},
		{"pause", []string{"KEY_P"}, "pause", UINone},
		{"hud", []string{"KEY_F1"}, "", UIToggleHUD},
		{"abort needs confirmation", []string{"KEY_A"}, "", UINone},
		{"abort confirmed", []string{"KEY_A", "KEY_Y"}, "abort", UINone},
		{"abort confirmed by pressing it again", []string{"KEY_A", "KEY_A"}, "abort", UINone},
		{"abort cancelled", []string{"KEY_A", "KEY_N", "KEY_Y"}, "", UINone},
		{"abort dropped by a stray key", []string{"KEY_A", "KEY_Z", "KEY_Y"}, "", UINone},
		{"quit confirmed", []string{"KEY_Q", "KEY_Y"}, "", UIQuit},
		{"quit stray Y first", []string{"KEY_Y", "KEY_Q"}, "", UINone},
		{"select lane 3 and take it over", []string{"KEY_3", "KEY_T"}, "takeover(lane 2, 1)", UINone},
		{"takeover toggles back", []string{"KEY_3", "KEY_KP0", "KEY_KP0"}, "takeover(lane 2, 1) takeover(lane 2, 0)", UINone},
		{"zone taps need keyboard mode", []string{"KEY_2", "KEY_KP7"}, "", UINone},
		{"zone tap", []string{"KEY_2", "KEY_T", "KEY_KP7", "KEY_KP3"}, "takeover(lane 1, 1) zone_tap(lane 1, 7) zone_tap(lane 1, 3)", UINone},
		{"cursor tap at lane centre", []string{"KEY_1", "KEY_T", "KEY_ENTER"}, "takeover(lane 0, 1) down@1000,2000 up@1000,2000", UINone},
		{"score up confirmed", []string{"KEY_4", "KEY_KPPLUS", "KEY_Y"}, "adjust(lane 3, 1)", UINone},
		{"score down confirmed", []string{"KEY_KPMINUS", "KEY_KPMINUS"}, "adjust(lane 0, -1)", UINone},
		{"next game", []string{"KEY_G"}, "game(lane 0, 1)", UINone},
		{"lane beyond the config", []string{"KEY_8", "KEY_T"}, "takeover(lane 0, 1)", UINone},
	} {
		o := NewOperator(&cfg, km)
		var got []game.Input
		var ui UI
		for i, k := range tc.keys {
			var u UI
			var out []game.Input
			out, u = press(o, k, int64(i+1)*1_000_000)
			got = append(got, out...)
			if u != UINone {
				ui = u
			}
		}
		if d := describeInputs(got); d != tc.want || ui != tc.ui {
			t.Errorf("%s: keys %v gave %q ui %d, want %q ui %d", tc.name, tc.keys, d, ui, tc.want, tc.ui)
		}
	}
}

func TestConfirmationExpires(t *testing.T) {
	cfg := game.DefaultConfig()
	km, _ := NewKeymap(nil)
	o := NewOperator(&cfg, km)
	press(o, "KEY_A", 1_000_000)
	if o.Prompt(2_000_000) == "" || !strings.Contains(o.Prompt(2_000_000), "ABORT") {
		t.Fatalf("prompt %q", o.Prompt(2_000_000))
	}
	late := 1_000_000 + int64(cfg.Keyboard.ConfirmMS)*1000 + 1
	if out, _ := press(o, "KEY_Y", late); len(out) != 0 || o.Prompt(late) != "" {
		t.Fatalf("a confirmation after confirm_ms must do nothing, got %v", describeInputs(out))
	}
}

func TestCustomKeymap(t *testing.T) {
	cfg := game.DefaultConfig()
	km, err := NewKeymap(map[string][]string{"start": {"f5"}, "confirm": {"KEY_KPENTER"}, "tap": {"KEY_ENTER"}})
	if err != nil {
		t.Fatal(err)
	}
	o := NewOperator(&cfg, km)
	if out, _ := press(o, "KEY_F5", 1); describeInputs(out) != "start" {
		t.Fatalf("F5: %v", describeInputs(out))
	}
	if out, _ := press(o, "KEY_SPACE", 2); len(out) != 0 {
		t.Fatal("SPACE must no longer start: the override replaces the default keys")
	}
	press(o, "KEY_A", 3)
	if out, _ := press(o, "KEY_KPENTER", 4); describeInputs(out) != "abort" {
		t.Fatalf("custom confirm: %v", describeInputs(out))
	}
	help := strings.Join(km.Help(), "\n")
	if !strings.Contains(help, "F5") || strings.Contains(help, "SPACE ") || !strings.Contains(help, "KP7") {
		t.Fatalf("help is not generated from the keymap:\n%s", help)
	}
}

func TestBadKeymapsNameTheKey(t *testing.T) {
	for _, tc := range []struct {
		m    map[string][]string
		want string
	}{
		{map[string][]string{"start": {"KEY_P"}}, "KEY_P is bound to both"},
		{map[string][]string{"launch": {"KEY_L"}}, `unknown action "launch"`},
		{map[string][]string{"start": {"KEY_BANANA"}}, `unknown key "KEY_BANANA"`},
		{map[string][]string{"zone_5": {"KEY_SPACE"}}, "KEY_SPACE is bound to both"},
	} {
		_, err := NewKeymap(tc.m)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v: got %v, want %q", tc.m, err, tc.want)
		}
	}
}

func TestCursorMovesAtTheConfiguredSpeedAndStaysInTheLane(t *testing.T) {
	cfg := game.DefaultConfig()
	cfg.Keyboard.CursorSpeedMMS = 500
	km, _ := NewKeymap(nil)
	o := NewOperator(&cfg, km)
	press(o, "KEY_2", 0)
	x0, y0 := o.Cursor(1)
	o.Move(1_000_000)
	o.Key(KeyEvent{Key: "KEY_RIGHT", Pressed: true, TimeUS: 1_000_000}, nil)
	for t := int64(1_016_667); t <= 2_000_000; t += 16_667 { // 60 frames with a 16.667 ms step
		o.Move(t)
	}
	o.Key(KeyEvent{Key: "KEY_RIGHT", Pressed: false, TimeUS: 2_000_000}, nil)
	x1, y1 := o.Cursor(1)
	if y1 != y0 || x1-x0 < 495 || x1-x0 > 500 {
		t.Fatalf("1 s of right arrow at 500 mm/s moved the cursor %d mm (y %d->%d)", x1-x0, y0, y1)
	}
	o.Key(KeyEvent{Key: "KEY_UP", Pressed: true, TimeUS: 3_000_000}, nil)
	o.Move(3_900_000)
	o.Move(4_800_000)
	o.Move(5_700_000)
	o.Move(6_600_000)
	o.Move(7_500_000)
	if _, y := o.Cursor(1); y != 0 {
		t.Fatalf("cursor left the lane: y = %d", y)
	}
}

func TestDeskKeyboardThroughEvdev(t *testing.T) {
	op := newFakeOpener()
	var info DeviceInfo
	info.Name = "Desk Keypad"
	op.plug("/dev/input/event2", info)
	fa := &fakeAfter{waits: make(chan time.Duration, 16), fire: make(chan time.Time)}
	kr := NewKeyReader([]string{"Desk Keypad"}, false, 250*time.Millisecond, ReaderOptions{Opener: op, Log: zerolog.Nop(), After: fa.after, EpochUS: 1_000_000})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { kr.Run(ctx); close(done) }()
	defer func() { cancel(); <-done }()
	waitOpen := time.After(5 * time.Second)
	select {
	case <-op.opened:
	case <-waitOpen:
		t.Fatal("keypad never opened")
	}
	const kp7, space = 71, 57
	op.write(t, "/dev/input/event2", []RawEvent{
		{1_500_000, EvKey, kp7, 1}, {1_500_000, EvSyn, SynReport, 0},
		{1_600_000, EvKey, kp7, 2}, // autorepeat: ignored
		{1_700_000, EvKey, kp7, 0}, {1_800_000, EvKey, space, 1},
	})
	var got []string
	for len(got) < 3 {
		select {
		case ev := <-kr.Events():
			got = append(got, fmt.Sprintf("%s %v %d %s", ev.Key, ev.Pressed, ev.TimeUS, ev.Source))
		case <-time.After(5 * time.Second):
			t.Fatalf("key events %v", got)
		}
	}
	want := "KEY_KP7 true 500000 Desk Keypad|KEY_KP7 false 700000 Desk Keypad|KEY_SPACE true 800000 Desk Keypad"
	if strings.Join(got, "|") != want {
		t.Fatalf("got %v\nwant %s", got, want)
	}
	if !kr.Connected()["Desk Keypad"] {
		t.Fatal("keypad not shown as connected")
	}
}

func TestPerSourceKeymap(t *testing.T) {
	cfg := game.DefaultConfig()
	cfg.Keyboard.Keymap = map[string][]string{"start": {"KEY_F5"}}
	cfg.Keyboard.SourceKeymaps = map[string]map[string][]string{"Desk Keypad": {"start": {"KEY_KPDOT"}, "zone_5": {"KEY_KP5", "KEY_5"}, "lane_5": {}}}
	o, err := OperatorFor(&cfg)
	if err != nil {
		t.Fatal(err)
	}
	key := func(src, k string) string {
		out, _ := o.Key(KeyEvent{Key: k, Pressed: true, Source: src}, nil)
		o.Key(KeyEvent{Key: k, Source: src}, nil)
		return describeInputs(out)
	}
	if key("window", "KEY_F5") != "start" || key("Desk Keypad", "KEY_F5") != "" || key("Desk Keypad", "KEY_KPDOT") != "start" {
		t.Fatal("per-source keymaps are not applied per source")
	}
	// On the keypad KEY_5 taps zone 5 (once its lane is in keyboard mode); in the window it selects lane 5.
	key("window", "KEY_T")
	if got := key("Desk Keypad", "KEY_5"); got != "zone_tap(lane 0, 5)" {
		t.Fatalf("keypad 5: %q", got)
	}
	cfg.Keyboard.SourceKeymaps["Desk Keypad"]["hud"] = []string{"KEY_KPDOT"}
	if _, err := OperatorFor(&cfg); err == nil || !strings.Contains(err.Error(), `"Desk Keypad"`) || !strings.Contains(err.Error(), "KEY_KPDOT") {
		t.Fatalf("a clash in a keyboard's keymap must name the keyboard and the key: %v", err)
	}
}

// TestWindowKeysOfOneFrameSelectTheLaneFirst: Ebiten reports one frame's keys with no order (in
// key-code order: T before 4). Within a frame's batch the lane selection applies first, so "4 then
// T" within 16 ms takes lane 4 over instead of giving the selected lane 3 back. A desk keyboard
// (evdev) reports its own order, and Key keeps it: T then 4 gives lane 3 back, then selects 4.
func TestWindowKeysOfOneFrameSelectTheLaneFirst(t *testing.T) {
	cfg := game.DefaultConfig()
	km, _ := NewKeymap(nil)
	setup := func() *Operator {
		o := NewOperator(&cfg, km)
		press(o, "KEY_3", 1_000_000)
		press(o, "KEY_T", 1_100_000) // lane 3 in keyboard mode, selected
		o.SetTakeover(2, true)
		return o
	}
	const t0 = 2_000_000
	ev := func(key string, pressed bool, src string) KeyEvent {
		return KeyEvent{Key: key, Pressed: pressed, TimeUS: t0, Source: src}
	}
	// The window's batch, in key-code order: T and 4 pressed (and released) within one frame.
	o := setup()
	batch := []KeyEvent{ev("KEY_T", true, "window"), ev("KEY_4", true, "window"), ev("KEY_T", false, "window"), ev("KEY_4", false, "window")}
	out, ui := o.KeysOfFrame(batch, nil)
	if d := describeInputs(out); d != "takeover(lane 3, 1)" || ui != UINone || o.Selected() != 3 {
		t.Fatalf("window batch T,4 gave %q ui %d, selected %d: want lane 4 (index 3) taken over", d, ui, o.Selected())
	}
	// The same events one by one, as a desk keyboard reports them in the order pressed.
	o = setup()
	out = nil
	for _, e := range batch {
		e.Source = "Desk Keypad"
		out, _ = o.Key(e, out)
	}
	if d := describeInputs(out); d != "takeover(lane 2, 0)" || o.Selected() != 3 {
		t.Fatalf("desk keyboard T then 4 gave %q, selected %d: want lane 3 given back, then lane 4 selected", d, o.Selected())
	}
	// The rest of a batch keeps its order: abort asked and confirmed in one frame; a quit
	// confirmed wins over the HUD key; two HUD presses cancel out.
	o = setup()
	out, ui = o.KeysOfFrame([]KeyEvent{ev("KEY_A", true, "window"), ev("KEY_Y", true, "window")}, nil)
	if describeInputs(out) != "abort" || ui != UINone {
		t.Fatalf("A, Y in one frame: %q ui %d", describeInputs(out), ui)
	}
	_, ui = o.KeysOfFrame([]KeyEvent{ev("KEY_F1", true, "window"), ev("KEY_Q", true, "window"), ev("KEY_Y", true, "window")}, nil)
	if ui != UIQuit {
		t.Fatalf("F1, Q, Y in one frame: ui %d, want UIQuit", ui)
	}
	if _, ui = o.KeysOfFrame([]KeyEvent{ev("KEY_F1", true, "window"), ev("KEY_F1", false, "window"), ev("KEY_F1", true, "window")}, nil); ui != UINone {
		t.Fatalf("F1 twice in one frame: ui %d, want none", ui)
	}
	if _, ui = o.KeysOfFrame([]KeyEvent{ev("KEY_F1", true, "window")}, nil); ui != UIToggleHUD {
		t.Fatalf("F1: ui %d", ui)
	}
}

// TestPromptStateForTheConsole: the console shows the question waiting, what it confirms and the
// time left.
func TestPromptStateForTheConsole(t *testing.T) {
	cfg := game.DefaultConfig()
	km, _ := NewKeymap(nil)
	o := NewOperator(&cfg, km)
	if _, _, _, ok := o.PromptState(0); ok {
		t.Fatal("a prompt with nothing asked")
	}
	press(o, "KEY_A", 1_000_000)
	window := int64(cfg.Keyboard.ConfirmMS) * 1000
	text, a, left, ok := o.PromptState(1_250_000)
	if !ok || a != ActAbort || left != window-250_000 || !strings.Contains(text, "ABORT THE ROUND? Y to confirm") || text != o.Prompt(1_250_000) {
		t.Fatalf("prompt %q %q left %d ok %v", text, a, left, ok)
	}
	if _, _, _, ok := o.PromptState(1_000_000 + window + 1); ok {
		t.Fatal("a prompt after confirm_ms")
	}
	press(o, "KEY_N", 1_300_000) // cancelled
	press(o, "KEY_2", 1_400_000)
	press(o, "KEY_KPMINUS", 1_500_000)
	if text, a, left, ok := o.PromptState(1_500_000); !ok || a != ActScoreDown || left != window || !strings.Contains(text, "LANE 2 SCORE -1") {
		t.Fatalf("prompt %q %q left %d ok %v", text, a, left, ok)
	}
}
