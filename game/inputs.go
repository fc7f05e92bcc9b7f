package game

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// ErrInput is wrapped by every error about a malformed input file or journal line.
var ErrInput = errors.New("game: bad input")

// inputLine is one line of an input file, or an input line of a journal (which adds type and source).
type inputLine struct {
	Type    string    `json:"type,omitempty"`
	Tick    *int64    `json:"tick"`
	Kind    *string   `json:"kind,omitempty"`
	Action  *string   `json:"action,omitempty"`
	Contact *int32    `json:"contact,omitempty"`
	XMM     *int32    `json:"x_mm,omitempty"`
	YMM     *int32    `json:"y_mm,omitempty"`
	Source  *string   `json:"source,omitempty"`
	Lane    *int      `json:"lane,omitempty"`
	On      *bool     `json:"on,omitempty"`
	Zone    *int32    `json:"zone,omitempty"`
	Delta   *int32    `json:"delta,omitempty"`
	Game    *string   `json:"game,omitempty"`
	Names   *[]string `json:"names,omitempty"`
}

// toInput checks one decoded line against the wall and returns the input it stands for.
func (l *inputLine) toInput(cfg *Config) (TickInput, error) {
	var ti TickInput
	if l.Tick == nil {
		return ti, errors.New(`missing "tick"`)
	}
	if *l.Tick < 0 {
		return ti, fmt.Errorf("tick %d is negative", *l.Tick)
	}
	ti.Tick = *l.Tick
	if l.Source != nil {
		s, ok := ParseSource(*l.Source)
		if !ok {
			return ti, fmt.Errorf("unknown source %q", *l.Source)
		}
		ti.Source = s
	}
	switch {
	case l.Kind != nil && l.Action != nil:
		return ti, errors.New(`a line has either "kind" (a touch) or "action", not both`)
	case l.Action != nil:
		k, ok := ParseKind(*l.Action)
		if !ok || k.IsTouch() {
			return ti, fmt.Errorf("unknown action %q: use start, pause, resume, abort, takeover, zone_tap, adjust, game, names or attract", *l.Action)
		}
		if l.Contact != nil || l.XMM != nil || l.YMM != nil {
			return ti, fmt.Errorf("action %q takes no contact or position", *l.Action)
		}
		ti.Kind = k
		if err := l.actionArgs(&ti, cfg); err != nil {
			return ti, err
		}
	case l.Kind != nil:
		if l.Lane != nil || l.On != nil || l.Zone != nil || l.Delta != nil || l.Game != nil || l.Names != nil {
			return ti, errors.New("a touch takes no lane, on, zone, delta, game or names")
		}
		k, ok := ParseKind(*l.Kind)
		if !ok || !k.IsTouch() {
			return ti, fmt.Errorf("unknown kind %q: use down, move, up or cancel", *l.Kind)
		}
		ti.Kind = k
		if l.Contact == nil || l.XMM == nil || l.YMM == nil {
			return ti, errors.New(`a touch needs "contact", "x_mm" and "y_mm"`)
		}
		if *l.Contact < 0 {
			return ti, fmt.Errorf("contact %d is negative", *l.Contact)
		}
		if *l.XMM < 0 || *l.YMM < 0 || *l.XMM >= cfg.Wall.WidthMM || *l.YMM >= cfg.Wall.HeightMM {
			return ti, fmt.Errorf("touch at (%d, %d) mm is outside the %dx%d mm wall", *l.XMM, *l.YMM, cfg.Wall.WidthMM, cfg.Wall.HeightMM)
		}
		ti.Contact, ti.XMM, ti.YMM = *l.Contact, *l.XMM, *l.YMM
	default:
		return ti, errors.New(`a line needs "kind" (down, move, up, cancel) or "action" (start, pause, resume, abort)`)
	}
	return ti, nil
}

// actionArgs checks and copies the arguments of a lane or game action; other actions take none.
func (l *inputLine) actionArgs(ti *TickInput, cfg *Config) error {
	want := map[Kind]string{KindTakeover: "lane,on", KindZoneTap: "lane,zone", KindAdjust: "lane,delta", KindGame: "game",
		KindNames: "names"}[ti.Kind]
	have := []string{}
	for _, f := range []struct {
		name string
		set  bool
	}{{"lane", l.Lane != nil}, {"on", l.On != nil}, {"zone", l.Zone != nil}, {"delta", l.Delta != nil}, {"game", l.Game != nil},
		{"names", l.Names != nil}} {
		if f.set {
			have = append(have, f.name)
		}
	}
	if got := strings.Join(have, ","); got != want {
		if want == "" {
			return fmt.Errorf("action %q takes no arguments, got %s", ti.Kind, got)
		}
		return fmt.Errorf("action %q needs exactly %s, got %q", ti.Kind, want, got)
	}
	if l.Lane != nil {
		if *l.Lane < 0 || *l.Lane >= len(cfg.Lanes) {
			return fmt.Errorf("lane %d: the config has lanes 0..%d", *l.Lane, len(cfg.Lanes)-1)
		}
		ti.Lane = int8(*l.Lane)
	}
	switch ti.Kind {
	case KindTakeover:
		if *l.On {
			ti.Value = 1
		}
	case KindZoneTap:
		if *l.Zone < 1 || *l.Zone > 9 {
			return fmt.Errorf("zone %d: use 1..9 (numeric keypad layout, 7 8 9 on top)", *l.Zone)
		}
		ti.Value = *l.Zone
	case KindAdjust:
		if *l.Delta == 0 || *l.Delta > MaxAdjust || *l.Delta < -MaxAdjust {
			return fmt.Errorf("delta %d: use a non-zero adjustment within ±%d", *l.Delta, MaxAdjust)
		}
		ti.Value = *l.Delta
	case KindGame:
		i := GameIndex(*l.Game)
		if i < 0 {
			return fmt.Errorf("unknown game %q: use one of %s", *l.Game, strings.Join(Games[:], ", "))
		}
		ti.Value = int32(i)
	case KindNames:
		if err := CheckNames(*l.Names, len(cfg.Lanes)); err != nil {
			return err
		}
		ti.Names = *l.Names
	}
	return nil
}

// CheckNames checks contestants' names for a wall of lanes lanes: at most one per lane, each at most
// MaxNameLen bytes of printable UTF-8 ("" keeps the lane's own name).
func CheckNames(names []string, lanes int) error {
	if len(names) > lanes {
		return fmt.Errorf("%d names for %d lanes: give at most one name per lane", len(names), lanes)
	}
	for i, n := range names {
		if len(n) > MaxNameLen {
			return fmt.Errorf("name %d (%.20q...) is %d bytes: at most %d fit a lane header", i, n, len(n), MaxNameLen)
		}
		if !utf8.ValidString(n) {
			return fmt.Errorf("name %d is not valid UTF-8", i)
		}
		for _, c := range n {
			if !unicode.IsPrint(c) {
				return fmt.Errorf("name %d (%q) has a control character", i, n)
			}
		}
	}
	return nil
}

// GameIndex returns name's index in Games (an input's Value for KindGame), or -1 for a game Games
// does not list.
func GameIndex(name string) int {
	for i, g := range Games {
		if g == name {
			return i
		}
	}
	return -1
}

// NextGame returns the index in Games of the game after name, the first after the last (and for a
// name Games does not list): what the next-game key and the console's next_game choose.
func NextGame(name string) int { return (GameIndex(name) + 1) % len(Games) }

// ReadInputs parses an input file: JSON Lines of touches and actions with non-decreasing ticks.
// name is used in errors, which read "name:line: what is wrong" and wrap ErrInput. Blank lines are
// skipped. Touches outside cfg's wall are errors.
func ReadInputs(r io.Reader, name string, cfg *Config) ([]TickInput, error) {
	var out []TickInput
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64*1024), 1<<20)
	last := int64(0)
	for n := 1; sc.Scan(); n++ {
		b := bytes.TrimSpace(sc.Bytes())
		if len(b) == 0 {
			continue
		}
		var l inputLine
		if err := decodeStrict(b, &l); err != nil {
			return nil, fmt.Errorf("%w: %s:%d: %v", ErrInput, name, n, err)
		}
		ti, err := l.toInput(cfg)
		if err != nil {
			return nil, fmt.Errorf("%w: %s:%d: %v", ErrInput, name, n, err)
		}
		if ti.Tick < last {
			return nil, fmt.Errorf("%w: %s:%d: tick %d comes after tick %d: ticks must not decrease", ErrInput, name, n, ti.Tick, last)
		}
		last = ti.Tick
		out = append(out, ti)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%w: %s: %v", ErrInput, name, err)
	}
	return out, nil
}

// ParseInputLine reads one input line with its tick (an input file's line, or an input of a
// journal or of a standby's stream without its "type"), checked against cfg.
func ParseInputLine(b []byte, cfg *Config) (TickInput, error) {
	var l inputLine
	if err := decodeStrict(b, &l); err != nil {
		return TickInput{}, err
	}
	return l.toInput(cfg)
}

// ConsoleActions are the console's actions that are not game inputs: they act on the window.
var ConsoleActions = []string{"quit", "hud", "next_game"}

// ParseConsoleInput reads one console input: an input-file line without "tick" (applied at the
// next tick), returned as in with action "", or one of ConsoleActions, returned as action with no
// input.
func ParseConsoleInput(b []byte, cfg *Config) (action string, in Input, err error) {
	var probe struct {
		Action string `json:"action"`
	}
	if err := json.Unmarshal(b, &probe); err != nil {
		return "", in, fmt.Errorf("not a JSON object: %v", err)
	}
	for _, a := range ConsoleActions {
		if probe.Action == a {
			var only struct {
				Action string `json:"action"`
				Source string `json:"source"`
			}
			if err := decodeStrict(b, &only); err != nil {
				return "", in, fmt.Errorf("action %q takes no arguments: %v", a, err)
			}
			return a, in, nil
		}
	}
	var l inputLine
	if err := decodeStrict(b, &l); err != nil {
		return "", in, err
	}
	if l.Tick != nil || l.Type != "" {
		return "", in, errors.New(`a console input has no "tick" or "type": it is applied at the next tick`)
	}
	zero := int64(0)
	l.Tick = &zero
	ti, err := l.toInput(cfg)
	if err != nil {
		return "", in, err
	}
	return "", ti.Input, nil
}

// decodeStrict decodes one JSON object, rejecting unknown fields and trailing data.
func decodeStrict(b []byte, v any) error {
	d := json.NewDecoder(bytes.NewReader(b))
	d.DisallowUnknownFields()
	if err := d.Decode(v); err != nil {
		return fmt.Errorf("not a valid line: %v", err)
	}
	if d.More() {
		return errors.New("not a valid line: more than one JSON value")
	}
	return nil
}

// AppendInputJSON appends in as one input-file line (without a newline), tagged with tick. It
// allocates nothing when b has room, so the live journal can call it every tick.
func AppendInputJSON(b []byte, tick int64, in *Input) []byte {
	b = append(b, '{')
	return append(appendInputFields(b, tick, in), '}')
}

// AppendTouchFields appends `,"kind":K,"contact":C,"x_mm":X,"y_mm":Y`: the touch fields shared by
// input lines, journals and `tapwall trace` output. It allocates nothing when b has room.
func AppendTouchFields(b []byte, kind Kind, contact, x, y int32) []byte {
	b = append(b, `,"kind":"`...)
	b = append(b, kind.String()...)
	b = append(b, `","contact":`...)
	b = strconv.AppendInt(b, int64(contact), 10)
	b = append(b, `,"x_mm":`...)
	b = strconv.AppendInt(b, int64(x), 10)
	b = append(b, `,"y_mm":`...)
	return strconv.AppendInt(b, int64(y), 10)
}

// appendInputFields appends the fields of an input line, without braces.
func appendInputFields(b []byte, tick int64, in *Input) []byte {
	b = append(b, `"tick":`...)
	b = strconv.AppendInt(b, tick, 10)
	if in.Kind.IsTouch() {
		b = AppendTouchFields(b, in.Kind, in.Contact, in.XMM, in.YMM)
	} else {
		b = append(b, `,"action":"`...)
		b = append(b, in.Kind.String()...)
		b = append(b, '"')
		switch in.Kind {
		case KindTakeover, KindZoneTap, KindAdjust:
			b = append(b, `,"lane":`...)
			b = strconv.AppendInt(b, int64(in.Lane), 10)
		}
		switch in.Kind {
		case KindTakeover:
			b = append(b, `,"on":`...)
			b = strconv.AppendBool(b, in.Value != 0)
		case KindZoneTap:
			b = append(b, `,"zone":`...)
			b = strconv.AppendInt(b, int64(in.Value), 10)
		case KindAdjust:
			b = append(b, `,"delta":`...)
			b = strconv.AppendInt(b, int64(in.Value), 10)
		case KindGame:
			b = append(b, `,"game":"`...)
			if in.Value >= 0 && int(in.Value) < len(Games) {
				b = append(b, Games[in.Value]...)
			}
			b = append(b, '"')
		case KindNames:
			b = append(b, `,"names":[`...)
			for i, n := range in.Names {
				if i > 0 {
					b = append(b, ',')
				}
				b = strconv.AppendQuote(b, n) // names are checked UTF-8 without control characters
			}
			b = append(b, ']')
		}
	}
	b = append(b, `,"source":"`...)
	b = append(b, in.Source.String()...)
	return append(b, '"')
}

// GroupByTick calls step once per tick from 0 to ticks-1 with that tick's inputs (nil for none).
// inputs must be sorted by tick, as ReadInputs returns them; inputs at or after ticks are not used.
// The slice passed to step is reused between calls.
func GroupByTick(inputs []TickInput, ticks int64, step func(tick int64, in []Input)) {
	buf := make([]Input, 0, 64)
	i := 0
	for t := int64(0); t < ticks; t++ {
		buf = buf[:0]
		for i < len(inputs) && inputs[i].Tick == t {
			buf = append(buf, inputs[i].Input)
			i++
		}
		step(t, buf)
	}
}
