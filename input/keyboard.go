package input

import (
	"fmt"
	"sort"
	"strconv"
	"strings"

	evdev "github.com/holoplot/go-evdev"

	"tapwall/game"
)

// Action is what an operator's key does.
type Action string

// Keyboard actions, as named in the config's [keyboard.keymap].
const (
	ActStart       Action = "start"      // start the next round
	ActPause       Action = "pause"      // pause, or resume a paused round
	ActAbort       Action = "abort"      // abort the round (asks for confirmation)
	ActNextGame    Action = "next_game"  // choose the next game for the next round
	ActQuit        Action = "quit"       // quit tapwall (asks for confirmation)
	ActHUD         Action = "hud"        // show or hide the operator HUD and the key help
	ActConfirm     Action = "confirm"    // confirm the action asked about
	ActCancel      Action = "cancel"     // cancel the action asked about
	ActTakeover    Action = "takeover"   // keyboard mode on/off for the selected lane
	ActTap         Action = "tap"        // tap at the selected lane's cursor
	ActScoreUp     Action = "score_up"   // +step for the selected lane (asks for confirmation)
	ActScoreDown   Action = "score_down" // -step for the selected lane (asks for confirmation)
	ActCursorLeft  Action = "cursor_left"
	ActCursorRight Action = "cursor_right"
	ActCursorUp    Action = "cursor_up"
	ActCursorDown  Action = "cursor_down"
	// ActPromote promotes a hot standby to primary (asks for confirmation); on a primary it does
	// nothing.
	ActPromote Action = "promote"
)

// laneAction and zoneAction name the numbered actions: lane_1..lane_8 select a lane, zone_1..zone_9
// tap a zone of the selected lane.
func laneAction(n int) Action { return Action(fmt.Sprintf("lane_%d", n)) }
func zoneAction(n int) Action { return Action(fmt.Sprintf("zone_%d", n)) }

// actionHelp is the help text of every action, in the order the help overlay lists them.
var actionHelp = []struct {
	a    Action
	help string
}{
	{ActStart, "start next round"}, {ActPause, "pause / resume"}, {ActAbort, "abort round (confirm)"},
	{ActNextGame, "next game for next round"}, {ActQuit, "quit (confirm)"}, {ActHUD, "HUD and this help"},
	{ActConfirm, "confirm"}, {ActCancel, "cancel"},
	{"lane_1", "select lane 1"}, {"lane_2", "select lane 2"}, {"lane_3", "select lane 3"}, {"lane_4", "select lane 4"},
	{"lane_5", "select lane 5"}, {"lane_6", "select lane 6"}, {"lane_7", "select lane 7"}, {"lane_8", "select lane 8"},
	{ActTakeover, "keyboard mode for selected lane"},
	{"zone_7", "tap zone top-left"}, {"zone_8", "tap zone top"}, {"zone_9", "tap zone top-right"},
	{"zone_4", "tap zone left"}, {"zone_5", "tap zone centre"}, {"zone_6", "tap zone right"},
	{"zone_1", "tap zone bottom-left"}, {"zone_2", "tap zone bottom"}, {"zone_3", "tap zone bottom-right"},
	{ActCursorLeft, "cursor left"}, {ActCursorRight, "cursor right"}, {ActCursorUp, "cursor up"}, {ActCursorDown, "cursor down"},
	{ActTap, "tap at cursor"}, {ActScoreUp, "score + step (confirm)"}, {ActScoreDown, "score - step (confirm)"},
	{ActPromote, "promote this standby to primary (confirm)"},
}

// DefaultKeymap is the keymap for a standard keyboard with a numeric keypad.
func DefaultKeymap() map[string][]string {
	m := map[string][]string{
		string(ActStart): {"KEY_SPACE"}, string(ActPause): {"KEY_P"}, string(ActAbort): {"KEY_A"},
		string(ActNextGame): {"KEY_G"}, string(ActQuit): {"KEY_Q"}, string(ActHUD): {"KEY_F1"},
		string(ActConfirm): {"KEY_Y"}, string(ActCancel): {"KEY_N", "KEY_ESC"},
		string(ActTakeover): {"KEY_T", "KEY_KP0"}, string(ActTap): {"KEY_ENTER", "KEY_KPENTER"},
		string(ActScoreUp): {"KEY_KPPLUS"}, string(ActScoreDown): {"KEY_KPMINUS"},
		string(ActCursorLeft): {"KEY_LEFT"}, string(ActCursorRight): {"KEY_RIGHT"},
		string(ActCursorUp): {"KEY_UP"}, string(ActCursorDown): {"KEY_DOWN"},
		string(ActPromote): {"KEY_F12"},
	}
	for i := 1; i <= 8; i++ {
		m[string(laneAction(i))] = []string{fmt.Sprintf("KEY_%d", i)}
	}
	for i := 1; i <= 9; i++ {
		m[string(zoneAction(i))] = []string{fmt.Sprintf("KEY_KP%d", i)}
	}
	return m
}

// Keymap maps kernel key names to actions.
type Keymap struct {
	byKey map[string]Action
	keys  map[Action][]string
}

// KeyName canonicalises a key name: "space" and "KEY_SPACE" are both KEY_SPACE. ok is false for a
// name the kernel does not have.
func KeyName(s string) (string, bool) {
	n := strings.ToUpper(strings.TrimSpace(s))
	if !strings.HasPrefix(n, "KEY_") && !strings.HasPrefix(n, "BTN_") {
		n = "KEY_" + n
	}
	_, ok := evdev.KEYFromString[n]
	return n, ok
}

// KeyCodeName returns the kernel name of key code c, or "" for an unknown code.
func KeyCodeName(c uint16) string { return evdev.KEYToString[evdev.EvCode(c)] }

// NewKeymap builds the keymap: the defaults with the actions in overrides replaced. An unknown
// action, an unknown key or a key bound to two actions is an error naming it.
func NewKeymap(overrides map[string][]string) (*Keymap, error) { return newKeymap(overrides) }

// newKeymap applies layers of overrides in order over the defaults.
func newKeymap(layers ...map[string][]string) (*Keymap, error) {
	known := map[Action]bool{}
	for _, h := range actionHelp {
		known[h.a] = true
	}
	merged := DefaultKeymap()
	for _, overrides := range layers {
		names := make([]string, 0, len(overrides))
		for a := range overrides {
			names = append(names, a)
		}
		sort.Strings(names)
		for _, a := range names {
			if !known[Action(a)] {
				return nil, fmt.Errorf("%w: keyboard.keymap: unknown action %q: use one of %s", ErrConfig, a, strings.Join(ActionNames(), ", "))
			}
			merged[a] = overrides[a]
		}
	}
	km := &Keymap{byKey: map[string]Action{}, keys: map[Action][]string{}}
	for _, h := range actionHelp { // in a fixed order, so errors do not depend on map order
		for _, k := range merged[string(h.a)] {
			n, ok := KeyName(k)
			if !ok {
				return nil, fmt.Errorf("%w: keyboard.keymap.%s: unknown key %q: use kernel names such as KEY_SPACE, KEY_KP7, KEY_F1", ErrConfig, h.a, k)
			}
			if other, dup := km.byKey[n]; dup {
				return nil, fmt.Errorf("%w: keyboard.keymap: key %s is bound to both %q and %q: give each key one action", ErrConfig, n, other, h.a)
			}
			km.byKey[n] = h.a
			km.keys[h.a] = append(km.keys[h.a], n)
		}
	}
	return km, nil
}

// ActionNames lists every action name, in help order.
func ActionNames() []string {
	out := make([]string, len(actionHelp))
	for i, h := range actionHelp {
		out[i] = string(h.a)
	}
	return out
}

// Action returns the action of key name (canonical), if any.
func (km *Keymap) Action(key string) (Action, bool) {
	a, ok := km.byKey[key]
	return a, ok
}

// Keys returns the keys of action a, for help texts and alarms.
func (km *Keymap) Keys(a Action) []string { return km.keys[a] }

// Help returns the help overlay's lines, generated from the keymap: "KEY  what it does".
func (km *Keymap) Help() []string {
	var out []string
	for _, h := range actionHelp {
		if ks := km.keys[h.a]; len(ks) > 0 {
			short := make([]string, len(ks))
			for i, k := range ks {
				short[i] = strings.TrimPrefix(k, "KEY_")
			}
			out = append(out, fmt.Sprintf("%-12s %s", strings.Join(short, "/"), h.help))
		}
	}
	return out
}

// KeyEvent is one key press or release from any keyboard.
type KeyEvent struct {
	Key     string // canonical kernel name, KEY_...
	Pressed bool
	TimeUS  int64  // show time
	Source  string // "window" or the desk keyboard's device name
}

// UI is what a key asks of the window rather than of the game.
type UI uint8

// UI requests.
const (
	UINone UI = iota
	UIToggleHUD
	UIQuit // confirmed: end the show
	// UIPromote: confirmed: promote this standby to primary.
	UIPromote
)

// Adjustment describes a confirmed score adjustment, for the log with its key and source.
type Adjustment struct {
	Lane   int
	Delta  int32
	Key    string
	Source string
}

// Operator turns key events into game inputs and window requests: show control with confirmation
// of destructive actions, lane selection, keyboard mode, zone and cursor taps, score adjustments.
// It owns the keyboard's own state (selected lane, cursors, the question being asked). Not safe for
// concurrent use: the frame goroutine owns it.
type Operator struct {
	km       *Keymap
	bySource map[string]*Keymap // keyboards with a keymap of their own
	cfg      *game.Config
	selected int
	cursor   [game.MaxLanes][2]int32
	held     [4]bool // left, right, up, down
	lastMove int64
	remMM    [2]int64 // sub-millimetre cursor motion carried between frames, in mm*1e6
	ask      Action
	askLane  int
	askKey   string
	askSrc   string
	askUntil int64
	gameIdx  int
	takeover [game.MaxLanes]bool
	paused   bool
	// Adjusted, if set, is told about every confirmed adjustment (for the log).
	Adjusted func(Adjustment)
}

// OperatorFor builds the operator keyboard logic from cfg's [keyboard]: its keymap, and a keymap
// per keyboard from keyboard.source_keymaps (each over the common one). A bad keymap is an error
// naming the keyboard and the key.
func OperatorFor(cfg *game.Config) (*Operator, error) {
	km, err := newKeymap(cfg.Keyboard.Keymap)
	if err != nil {
		return nil, err
	}
	o := NewOperator(cfg, km)
	for src, m := range cfg.Keyboard.SourceKeymaps {
		skm, err := newKeymap(cfg.Keyboard.Keymap, m)
		if err != nil {
			return nil, fmt.Errorf("keyboard.source_keymaps.%q: %w", src, err)
		}
		o.bySource[src] = skm
	}
	return o, nil
}

// NewOperator returns the operator keyboard logic for cfg with keymap km for every keyboard.
func NewOperator(cfg *game.Config, km *Keymap) *Operator {
	o := &Operator{km: km, cfg: cfg, bySource: map[string]*Keymap{}}
	for i, l := range cfg.Lanes {
		o.cursor[i] = [2]int32{l.XMM + l.WidthMM/2, l.YMM + l.HeightMM/2}
	}
	for i, g := range game.Games {
		if g == cfg.Round.Game {
			o.gameIdx = i
		}
	}
	return o
}

// Keymap returns the active keymap.
func (o *Operator) Keymap() *Keymap { return o.km }

// Selected returns the selected lane.
func (o *Operator) Selected() int { return o.selected }

// Cursor returns lane's cursor in wall mm.
func (o *Operator) Cursor(lane int) (int32, int32) { return o.cursor[lane][0], o.cursor[lane][1] }

// SetTakeover tells the operator which lanes the current round has in keyboard mode (the round is
// the truth; the operator asks it every frame).
func (o *Operator) SetTakeover(lane int, on bool) { o.takeover[lane] = on }

// AskQuit asks the operator to confirm quitting (the window's close button).
func (o *Operator) AskQuit(now int64) {
	o.ask, o.askKey, o.askSrc, o.askUntil = ActQuit, "", "window", now+int64(o.cfg.Keyboard.ConfirmMS)*1000
}

// SetGame tells the operator which game the show plays next (its index in game.Games; the show
// is the truth, whoever chose it), so the next-game key picks the one after it.
func (o *Operator) SetGame(idx int) { o.gameIdx = idx }

// SetPaused tells the operator whether the current round is paused, so the pause key resumes it.
func (o *Operator) SetPaused(p bool) { o.paused = p }

// Prompt returns the question waiting for confirmation at show time now, or "".
func (o *Operator) Prompt(now int64) string {
	text, _, _, _ := o.PromptState(now)
	return text
}

// PromptState returns the question waiting for confirmation at show time now, for the console:
// its text, the action it confirms (ActAbort, ActQuit, ActScoreUp or ActScoreDown), and the
// microseconds left to confirm it. ok is false when nothing waits.
func (o *Operator) PromptState(now int64) (text string, action Action, leftUS int64, ok bool) {
	if o.ask == "" || now > o.askUntil {
		return "", "", 0, false
	}
	return o.promptText(), o.ask, o.askUntil - now, true
}

func (o *Operator) promptText() string {
	what := map[Action]string{ActAbort: "ABORT THE ROUND", ActQuit: "QUIT TAPWALL", ActPromote: "PROMOTE THIS STANDBY TO PRIMARY",
		ActScoreUp:   fmt.Sprintf("LANE %d SCORE +%d", o.askLane+1, o.cfg.Keyboard.AdjustStep),
		ActScoreDown: fmt.Sprintf("LANE %d SCORE -%d", o.askLane+1, o.cfg.Keyboard.AdjustStep)}[o.ask]
	return fmt.Sprintf("%s? %s to confirm, %s to cancel", what, o.keyHint(ActConfirm), o.keyHint(ActCancel))
}

func (o *Operator) keyHint(a Action) string {
	ks := o.km.Keys(a)
	if len(ks) == 0 {
		return "(unbound)"
	}
	return strings.TrimPrefix(ks[0], "KEY_")
}

// TakeoverHint is how an alarm tells the operator to take lane over: the keys to press.
func (o *Operator) TakeoverHint(lane int) string {
	return fmt.Sprintf("press %s then %s", o.keyHint(laneAction(lane+1)), o.keyHint(ActTakeover))
}

func (o *Operator) input(k game.Kind, lane int, value int32, ev KeyEvent) game.Input {
	return game.Input{Kind: k, Source: game.SourceKeyboard, Lane: int8(lane), Value: value, TimeUS: ev.TimeUS}
}

// Key handles one key event, appending the game inputs it causes to out; ui says what the window
// must do. Releases only stop cursor motion; presses of unbound keys cancel a pending question.
func (o *Operator) Key(ev KeyEvent, out []game.Input) ([]game.Input, UI) {
	a, bound := o.keymap(ev.Source).Action(ev.Key)
	if dir := cursorDir(a); dir >= 0 {
		o.Move(ev.TimeUS)
		o.held[dir] = ev.Pressed
		return out, UINone
	}
	if !ev.Pressed {
		return out, UINone
	}
	if o.ask != "" {
		pending := o.ask
		o.ask = ""
		if ev.TimeUS <= o.askUntil && (a == ActConfirm || (a == pending && ev.Key == o.askKey)) {
			return o.confirmed(pending, ev, out)
		}
		if a == ActConfirm || a == ActCancel || !bound {
			return out, UINone // a stray or cancelling key only drops the question
		}
	}
	if !bound {
		return out, UINone
	}
	lane := o.selected
	switch a {
	case ActStart:
		out = append(out, o.input(game.KindStart, 0, 0, ev))
	case ActPause:
		k := game.KindPause
		if o.paused {
			k = game.KindResume
		}
		out = append(out, o.input(k, 0, 0, ev))
	case ActNextGame:
		o.gameIdx = (o.gameIdx + 1) % len(game.Games)
		out = append(out, o.input(game.KindGame, 0, int32(o.gameIdx), ev))
	case ActHUD:
		return out, UIToggleHUD
	case ActAbort, ActQuit, ActScoreUp, ActScoreDown, ActPromote:
		o.ask, o.askLane, o.askKey, o.askSrc = a, lane, ev.Key, ev.Source
		o.askUntil = ev.TimeUS + int64(o.cfg.Keyboard.ConfirmMS)*1000
	case ActTakeover:
		on := int32(1)
		if o.takeover[lane] {
			on = 0
		}
		o.takeover[lane] = on == 1
		out = append(out, o.input(game.KindTakeover, lane, on, ev))
	case ActTap:
		if o.takeover[lane] {
			c := o.cursor[lane]
			id := game.KeyboardContact(lane)
			out = append(out,
				game.Input{Kind: game.KindDown, Source: game.SourceKeyboard, Contact: id, XMM: c[0], YMM: c[1], TimeUS: ev.TimeUS},
				game.Input{Kind: game.KindUp, Source: game.SourceKeyboard, Contact: id, XMM: c[0], YMM: c[1], TimeUS: ev.TimeUS})
		}
	default:
		if n, ok := actionNumber(a, "lane_"); ok && n >= 1 && n <= len(o.cfg.Lanes) {
			o.selected = n - 1
		} else if n, ok := actionNumber(a, "zone_"); ok && o.takeover[lane] {
			out = append(out, o.input(game.KindZoneTap, lane, int32(n), ev))
		}
	}
	return out, UINone
}

// actionNumber returns N of a numbered action such as lane_N or zone_N.
func actionNumber(a Action, prefix string) (int, bool) {
	rest, ok := strings.CutPrefix(string(a), prefix)
	if !ok {
		return 0, false
	}
	n, err := strconv.Atoi(rest)
	return n, err == nil
}

// isLaneSelect reports whether ev presses a lane_N key in its keyboard's keymap.
func (o *Operator) isLaneSelect(ev KeyEvent) bool {
	if !ev.Pressed {
		return false
	}
	a, _ := o.keymap(ev.Source).Action(ev.Key)
	_, ok := actionNumber(a, "lane_")
	return ok
}

// keymap returns the keymap of the keyboard src: its own, or the shared one.
func (o *Operator) keymap(src string) *Keymap {
	if km, ok := o.bySource[src]; ok {
		return km
	}
	return o.km
}

// KeysOfFrame handles the window's key events of one frame, appending the game inputs they cause
// to out, like Key for each. The window (Ebiten) reports the keys pressed since the last frame
// with no order or time among them, so within one batch every lane selection applies first, then
// the other keys in the order given: "4 then T" pressed within one frame takes lane 4 over
// whatever order the batch lists them in; a select-then-act never mis-targets (an act-then-select
// within one frame acts on the newly selected lane, and a selection cancels a pending question
// before a confirmation in the same frame, the safe way). Keyboards that report their own order
// (desk keyboards through evdev) go through Key, one event at a time. ui is UIQuit when any key
// confirmed quitting, else UIPromote when one confirmed a promotion, else UIToggleHUD when the HUD
// key was pressed an odd number of times.
func (o *Operator) KeysOfFrame(evs []KeyEvent, out []game.Input) ([]game.Input, UI) {
	quit, hud, promote := false, false, false
	handle := func(ev KeyEvent) {
		var ui UI
		out, ui = o.Key(ev, out)
		switch ui {
		case UIQuit:
			quit = true
		case UIToggleHUD:
			hud = !hud
		case UIPromote:
			promote = true
		}
	}
	for _, ev := range evs {
		if o.isLaneSelect(ev) {
			handle(ev)
		}
	}
	for _, ev := range evs {
		if !o.isLaneSelect(ev) {
			handle(ev)
		}
	}
	switch {
	case quit:
		return out, UIQuit
	case promote:
		return out, UIPromote
	case hud:
		return out, UIToggleHUD
	}
	return out, UINone
}

func (o *Operator) confirmed(a Action, ev KeyEvent, out []game.Input) ([]game.Input, UI) {
	switch a {
	case ActAbort:
		out = append(out, o.input(game.KindAbort, 0, 0, ev))
	case ActQuit:
		return out, UIQuit
	case ActPromote:
		return out, UIPromote
	case ActScoreUp, ActScoreDown:
		d := o.cfg.Keyboard.AdjustStep
		if a == ActScoreDown {
			d = -d
		}
		out = append(out, o.input(game.KindAdjust, o.askLane, d, ev))
		if o.Adjusted != nil {
			o.Adjusted(Adjustment{Lane: o.askLane, Delta: d, Key: o.askKey, Source: o.askSrc})
		}
	}
	return out, UINone
}

func cursorDir(a Action) int {
	switch a {
	case ActCursorLeft:
		return 0
	case ActCursorRight:
		return 1
	case ActCursorUp:
		return 2
	case ActCursorDown:
		return 3
	}
	return -1
}

// Move moves the selected lane's cursor for the arrow keys held since the last call, at
// keyboard.cursor_speed_mm_s, keeping it inside the lane. Call it every frame.
func (o *Operator) Move(now int64) {
	dt := now - o.lastMove
	o.lastMove = now
	if dt <= 0 || dt > 1_000_000 {
		return
	}
	v := int64(o.cfg.Keyboard.CursorSpeedMMS)
	var d [2]int64
	if o.held[0] {
		d[0] -= v * dt
	}
	if o.held[1] {
		d[0] += v * dt
	}
	if o.held[2] {
		d[1] -= v * dt
	}
	if o.held[3] {
		d[1] += v * dt
	}
	l := o.cfg.Lanes[o.selected]
	lo := [2]int32{l.XMM, l.YMM}
	hi := [2]int32{l.XMM + l.WidthMM - 1, l.YMM + l.HeightMM - 1}
	for ax := 0; ax < 2; ax++ {
		if d[ax] == 0 {
			o.remMM[ax] = 0
			continue
		}
		total := d[ax] + o.remMM[ax]
		mm := total / 1_000_000
		o.remMM[ax] = total - mm*1_000_000
		o.cursor[o.selected][ax] = min(max(o.cursor[o.selected][ax]+int32(mm), lo[ax]), hi[ax])
	}
}
