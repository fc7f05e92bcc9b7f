package game

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"sort"
	"strings"

	"github.com/BurntSushi/toml"
)

// Limits of the game core. They bound fixed-size arrays so that a tick never allocates.
const (
	// MaxLanes is the most lanes a wall can have: the keyboard override addresses lanes 1..8, and a
	// lane narrower than a metre is no fun, so 16 leaves room on any wall built so far.
	MaxLanes = 16
	// MaxContacts is the most simultaneous contacts the round tracks; more are ignored and counted.
	// Sixteen lanes of two hands of five fingers, doubled for ghosts, fit.
	MaxContacts = 256
	// MinTickRate and MaxTickRate bound [round] tick_rate.
	MinTickRate = 10
	// MaxTickRate is the highest tick rate accepted.
	MaxTickRate = 1000
)

// Defaults compiled in; `tapwall config --print-default` prints them with a comment on every key.
const (
	// DefaultWallWidthMM and DefaultWallHeightMM are the reference wall: 8 m by 4 m.
	DefaultWallWidthMM = 8000
	// DefaultWallHeightMM is the reference wall's height.
	DefaultWallHeightMM = 4000
	// DefaultLanes is four contestants side by side, 2 m each.
	DefaultLanes = 4
	// DefaultTickRate is 60 Hz: one tick per frame of a 60 Hz video wall.
	DefaultTickRate = 60
	// DefaultRoundSeconds is the length of a round.
	DefaultRoundSeconds = 60
	// DefaultCountdownSeconds is the countdown shown before a live round runs (sim has none).
	DefaultCountdownSeconds = 3
	// DefaultGame is the game a round plays unless told otherwise.
	DefaultGame = "targets"
	// DefaultCatchUpTicks is how many ticks one frame may step after a stall: 8 ticks at 60 Hz is
	// 133 ms of game time per frame, enough to absorb a 500 ms stall in a handful of frames without
	// the catch-up itself becoming a stall.
	DefaultCatchUpTicks = 8
	// DefaultLiveHashEvery is how often (in ticks) a live round writes its state hash to the journal.
	DefaultLiveHashEvery = 60
)

// Config is the whole show configuration: the wall, its lanes, the round and the games' tuning.
// Load it with LoadConfig or ParseConfig, which validate it; DefaultConfig returns the defaults.
type Config struct {
	Wall    WallConfig    `toml:"wall" json:"wall"`
	Lanes   []LaneConfig  `toml:"lanes" json:"lanes"`
	Round   RoundConfig   `toml:"round" json:"round"`
	Loop    LoopConfig    `toml:"loop" json:"loop"`
	Targets TargetsConfig `toml:"targets" json:"targets"`
	Rain    RainConfig    `toml:"rain" json:"rain"`
	// Input and Frames describe the touch hardware. The game never reads them; package input
	// validates and uses them. They live here because they are part of the one show config file.
	Keyboard KeyboardConfig `toml:"keyboard" json:"keyboard"`
	Input    InputConfig    `toml:"input" json:"input"`
	Frames   []FrameConfig  `toml:"frames" json:"frames,omitempty"`
}

// KeyboardConfig tunes the keyboard override. The keymap itself is read by package input.
type KeyboardConfig struct {
	// IgnoreTouch: while a lane is in keyboard mode, touches from the wall in it are ignored.
	IgnoreTouch bool `toml:"ignore_touch" json:"ignore_touch"`
	// CursorSpeedMMS is how fast the arrow keys move a lane's cursor, in mm/s.
	CursorSpeedMMS int32 `toml:"cursor_speed_mm_s" json:"cursor_speed_mm_s"`
	// ConfirmMS is how long a destructive action waits for its confirming key.
	ConfirmMS int `toml:"confirm_ms" json:"confirm_ms"`
	// AdjustStep is the points one +/- key press adjusts a lane's score by.
	AdjustStep int32 `toml:"adjust_step" json:"adjust_step"`
	// AlarmSilenceMS: a running lane with no input for this long raises the touch-failure alarm.
	AlarmSilenceMS int `toml:"alarm_silence_ms" json:"alarm_silence_ms"`
	// Devices are evdev keyboards and keypads on the operator desk, by device name; they work even
	// when the wall window has no focus.
	Devices []string `toml:"devices" json:"devices,omitempty"`
	// Grab takes the desk keyboards exclusively, so their keys do not also type into other programs.
	Grab bool `toml:"grab" json:"grab"`
	// Keymap maps an action to its keys (kernel names such as "KEY_SPACE", "KEY_KP7").
	Keymap map[string][]string `toml:"keymap" json:"keymap,omitempty"`
	// SourceKeymaps overrides the keymap further for one keyboard, by its device name ("window"
	// is the wall window's keyboard).
	SourceKeymaps map[string]map[string][]string `toml:"source_keymaps" json:"source_keymaps,omitempty"`
}

// InputConfig tunes the touch path: seams between frames, merging, filters and lane routing.
type InputConfig struct {
	SeamDistanceMM   int32 `toml:"seam_distance_mm" json:"seam_distance_mm"`
	SeamTimeMS       int   `toml:"seam_time_ms" json:"seam_time_ms"`
	MergeDistanceMM  int32 `toml:"merge_distance_mm" json:"merge_distance_mm"`
	DejitterMM       int32 `toml:"dejitter_mm" json:"dejitter_mm"`
	StuckMS          int   `toml:"stuck_ms" json:"stuck_ms"`
	LaneContactLimit int   `toml:"lane_contact_limit" json:"lane_contact_limit"`
	DeadZoneMM       int32 `toml:"dead_zone_mm" json:"dead_zone_mm"`
	ReopenMS         int   `toml:"reopen_ms" json:"reopen_ms"`
}

// FrameConfig is one touch frame of the wall: how to find its device, where it sits on the wall
// and how its axes are turned. Empty match fields match anything; at least one must be set when
// the wall has more than one frame.
type FrameConfig struct {
	Name        string    `toml:"name" json:"name"`
	MatchName   string    `toml:"match_name" json:"match_name,omitempty"`
	MatchPhys   string    `toml:"match_phys" json:"match_phys,omitempty"`
	MatchID     string    `toml:"match_id" json:"match_id,omitempty"`
	MatchPath   string    `toml:"match_path" json:"match_path,omitempty"`
	XMM         int32     `toml:"x_mm" json:"x_mm"`
	YMM         int32     `toml:"y_mm" json:"y_mm"`
	WidthMM     int32     `toml:"width_mm" json:"width_mm"`
	HeightMM    int32     `toml:"height_mm" json:"height_mm"`
	Rotation    int       `toml:"rotation" json:"rotation"`
	MirrorX     bool      `toml:"mirror_x" json:"mirror_x"`
	MirrorY     bool      `toml:"mirror_y" json:"mirror_y"`
	Calibration []float64 `toml:"calibration" json:"calibration,omitempty"`
	Protocol    string    `toml:"protocol" json:"protocol,omitempty"`
	XAxis       string    `toml:"x_axis" json:"x_axis,omitempty"`
	YAxis       string    `toml:"y_axis" json:"y_axis,omitempty"`
	Grab        bool      `toml:"grab" json:"grab"`
}

// WallConfig is the touch wall's identity and size.
type WallConfig struct {
	ID       string `toml:"id" json:"id"`
	WidthMM  int32  `toml:"width_mm" json:"width_mm"`
	HeightMM int32  `toml:"height_mm" json:"height_mm"`
}

// LaneConfig is one contestant's area of the wall, in wall millimetres.
type LaneConfig struct {
	Name     string `toml:"name" json:"name"`
	XMM      int32  `toml:"x_mm" json:"x_mm"`
	YMM      int32  `toml:"y_mm" json:"y_mm"`
	WidthMM  int32  `toml:"width_mm" json:"width_mm"`
	HeightMM int32  `toml:"height_mm" json:"height_mm"`
}

// Contains reports whether the wall point (x, y) lies in the lane.
func (l LaneConfig) Contains(x, y int32) bool {
	return x >= l.XMM && x < l.XMM+l.WidthMM && y >= l.YMM && y < l.YMM+l.HeightMM
}

// RoundConfig says what a round plays and for how long.
type RoundConfig struct {
	Game             string `toml:"game" json:"game"`
	TickRate         int    `toml:"tick_rate" json:"tick_rate"`
	Seconds          int    `toml:"seconds" json:"seconds"`
	CountdownSeconds int    `toml:"countdown_seconds" json:"countdown_seconds"`
	Seed             uint64 `toml:"seed" json:"seed"`
}

// LoopConfig tunes the clock-driven loop and the live journal.
type LoopConfig struct {
	CatchUpTicks int `toml:"catch_up_ticks" json:"catch_up_ticks"`
	HashEvery    int `toml:"hash_every" json:"hash_every"`
}

// TargetsConfig tunes the `targets` game.
type TargetsConfig struct {
	SpawnEveryMS int   `toml:"spawn_every_ms" json:"spawn_every_ms"`
	LifetimeMS   int   `toml:"lifetime_ms" json:"lifetime_ms"`
	RadiusMM     int32 `toml:"radius_mm" json:"radius_mm"`
	MaxPoints    int64 `toml:"max_points" json:"max_points"`
	MinPoints    int64 `toml:"min_points" json:"min_points"`
}

// RainConfig tunes the `rain` game.
type RainConfig struct {
	SpawnEveryMS  int   `toml:"spawn_every_ms" json:"spawn_every_ms"`
	RadiusMM      int32 `toml:"radius_mm" json:"radius_mm"`
	MinSpeedMMS   int32 `toml:"min_speed_mm_s" json:"min_speed_mm_s"`
	MaxSpeedMMS   int32 `toml:"max_speed_mm_s" json:"max_speed_mm_s"`
	GoldenPercent int   `toml:"golden_percent" json:"golden_percent"`
	Points        int64 `toml:"points" json:"points"`
	GoldenPoints  int64 `toml:"golden_points" json:"golden_points"`
}

// Games lists the game names a round can play, in the order help texts show them.
var Games = [...]string{"targets", "rain"}

// ErrConfig is wrapped by every configuration error.
var ErrConfig = errors.New("game: bad config")

// DefaultConfig returns the compiled-in configuration: the reference wall with four equal lanes.
func DefaultConfig() Config {
	c := Config{
		Wall: WallConfig{ID: "wall-1", WidthMM: DefaultWallWidthMM, HeightMM: DefaultWallHeightMM},
		Round: RoundConfig{Game: DefaultGame, TickRate: DefaultTickRate, Seconds: DefaultRoundSeconds,
			CountdownSeconds: DefaultCountdownSeconds, Seed: 1},
		Loop:    LoopConfig{CatchUpTicks: DefaultCatchUpTicks, HashEvery: DefaultLiveHashEvery},
		Targets: TargetsConfig{SpawnEveryMS: 750, LifetimeMS: 2000, RadiusMM: 150, MaxPoints: 100, MinPoints: 10},
		Rain: RainConfig{SpawnEveryMS: 500, RadiusMM: 120, MinSpeedMMS: 600, MaxSpeedMMS: 1400,
			GoldenPercent: 10, Points: 10, GoldenPoints: 50},
		Keyboard: KeyboardConfig{IgnoreTouch: true, CursorSpeedMMS: 1000, ConfirmMS: 3000, AdjustStep: 1,
			AlarmSilenceMS: 10000},
		Input: InputConfig{SeamDistanceMM: 60, SeamTimeMS: 80, MergeDistanceMM: 40, DejitterMM: 2, StuckMS: 5000,
			LaneContactLimit: 10, DeadZoneMM: 0, ReopenMS: 250},
	}
	w := int32(DefaultWallWidthMM / DefaultLanes)
	for i := 0; i < DefaultLanes; i++ {
		c.Lanes = append(c.Lanes, LaneConfig{Name: fmt.Sprintf("lane-%d", i+1), XMM: int32(i) * w,
			WidthMM: w, HeightMM: DefaultWallHeightMM})
	}
	return c
}

// LoadConfig reads and validates a TOML config file; keys it does not set keep their defaults.
func LoadConfig(path string) (Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return Config{}, fmt.Errorf("%w: %v", ErrConfig, err)
	}
	return ParseConfig(data, path)
}

// ParseConfig decodes TOML over the defaults and validates the result. name is used in errors.
func ParseConfig(data []byte, name string) (Config, error) {
	c := DefaultConfig()
	var lanes struct {
		Lanes []LaneConfig `toml:"lanes"`
	}
	md, err := toml.NewDecoder(bytes.NewReader(data)).Decode(&c)
	if err != nil {
		var pe toml.ParseError
		if errors.As(err, &pe) {
			return Config{}, fmt.Errorf("%w: %s:%d: %s", ErrConfig, name, pe.Position.Line, pe.Message)
		}
		return Config{}, fmt.Errorf("%w: %s: %v", ErrConfig, name, err)
	}
	// A file that lists lanes replaces the default lanes rather than merging into them.
	if md.IsDefined("lanes") {
		if _, err := toml.NewDecoder(bytes.NewReader(data)).Decode(&lanes); err == nil {
			c.Lanes = lanes.Lanes
		}
	}
	if len(c.Frames) == 0 {
		c.Frames = nil // `frames = []` is the same as none
	}
	if len(c.Keyboard.Devices) == 0 {
		c.Keyboard.Devices = nil
	}
	if len(c.Keyboard.Keymap) == 0 {
		c.Keyboard.Keymap = nil
	}
	if len(c.Keyboard.SourceKeymaps) == 0 {
		c.Keyboard.SourceKeymaps = nil
	}
	if und := md.Undecoded(); len(und) > 0 {
		keys := make([]string, len(und))
		for i, k := range und {
			keys[i] = k.String()
		}
		sort.Strings(keys)
		return Config{}, fmt.Errorf("%w: %s: unknown key %q: remove it or check its spelling against `tapwall config --print-default`",
			ErrConfig, name, keys[0])
	}
	if err := c.Validate(); err != nil {
		return Config{}, fmt.Errorf("%s: %w", name, err)
	}
	return c, nil
}

// Validate checks the config and returns an error naming the first bad key and how to fix it.
func (c *Config) Validate() error {
	bad := func(key, format string, args ...any) error {
		return fmt.Errorf("%w: %s: %s", ErrConfig, key, fmt.Sprintf(format, args...))
	}
	if err := CheckWallID(c.Wall.ID); err != nil {
		return bad("wall.id", "%v", err)
	}
	if c.Wall.WidthMM <= 0 || c.Wall.HeightMM <= 0 || c.Wall.WidthMM > 100_000 || c.Wall.HeightMM > 100_000 {
		return bad("wall.width_mm", "wall must be 1..100000 mm each way, got %d x %d", c.Wall.WidthMM, c.Wall.HeightMM)
	}
	if len(c.Lanes) == 0 || len(c.Lanes) > MaxLanes {
		return bad("lanes", "need 1..%d lanes, got %d", MaxLanes, len(c.Lanes))
	}
	for i, l := range c.Lanes {
		key := fmt.Sprintf("lanes[%d]", i)
		if l.WidthMM <= 0 || l.HeightMM <= 0 {
			return bad(key+".width_mm", "lane %q must have a positive width and height", l.Name)
		}
		if l.XMM < 0 || l.YMM < 0 || l.XMM+l.WidthMM > c.Wall.WidthMM || l.YMM+l.HeightMM > c.Wall.HeightMM {
			return bad(key+".x_mm", "lane %q (%d,%d %dx%d mm) leaves the %dx%d mm wall: move or shrink it",
				l.Name, l.XMM, l.YMM, l.WidthMM, l.HeightMM, c.Wall.WidthMM, c.Wall.HeightMM)
		}
		if l.WidthMM != c.Lanes[0].WidthMM || l.HeightMM != c.Lanes[0].HeightMM {
			return bad(key+".width_mm", "lane %q is %dx%d mm but lane %q is %dx%d mm: every lane must be the same size so every contestant gets the same challenge",
				l.Name, l.WidthMM, l.HeightMM, c.Lanes[0].Name, c.Lanes[0].WidthMM, c.Lanes[0].HeightMM)
		}
		for j := 0; j < i; j++ {
			o := c.Lanes[j]
			if l.XMM < o.XMM+o.WidthMM && o.XMM < l.XMM+l.WidthMM && l.YMM < o.YMM+o.HeightMM && o.YMM < l.YMM+l.HeightMM {
				return bad(key, "lane %q overlaps lane %q (lanes[%d]): lanes must not share any area", l.Name, o.Name, j)
			}
		}
	}
	r := c.Round
	if r.TickRate < MinTickRate || r.TickRate > MaxTickRate {
		return bad("round.tick_rate", "%d is out of range: use %d..%d ticks per second", r.TickRate, MinTickRate, MaxTickRate)
	}
	if r.Seconds <= 0 || r.Seconds > 24*3600 {
		return bad("round.seconds", "%d: a round lasts 1..86400 s", r.Seconds)
	}
	if r.CountdownSeconds < 0 || r.CountdownSeconds > 60 {
		return bad("round.countdown_seconds", "%d: use 0..60 s", r.CountdownSeconds)
	}
	if !KnownGame(r.Game) {
		return bad("round.game", "unknown game %q: use one of %s", r.Game, strings.Join(Games[:], ", "))
	}
	if c.Loop.CatchUpTicks < 1 || c.Loop.CatchUpTicks > 1000 {
		return bad("loop.catch_up_ticks", "%d: use 1..1000 ticks per frame", c.Loop.CatchUpTicks)
	}
	if c.Loop.HashEvery < 1 {
		return bad("loop.hash_every", "%d: use 1 or more ticks", c.Loop.HashEvery)
	}
	k := c.Keyboard
	switch {
	case k.CursorSpeedMMS < 1 || k.CursorSpeedMMS > 100_000:
		return bad("keyboard.cursor_speed_mm_s", "%d: use 1..100000 mm/s", k.CursorSpeedMMS)
	case k.ConfirmMS < 500 || k.ConfirmMS > 60_000:
		return bad("keyboard.confirm_ms", "%d: use 500..60000 ms", k.ConfirmMS)
	case k.AdjustStep < 1 || k.AdjustStep > MaxAdjust:
		return bad("keyboard.adjust_step", "%d: use 1..%d", k.AdjustStep, MaxAdjust)
	case k.AlarmSilenceMS < 1000:
		return bad("keyboard.alarm_silence_ms", "%d: use at least 1000 ms", k.AlarmSilenceMS)
	}
	laneW, laneH := c.Lanes[0].WidthMM, c.Lanes[0].HeightMM
	t := c.Targets
	switch {
	case t.SpawnEveryMS < 1:
		return bad("targets.spawn_every_ms", "%d: must be at least 1 ms", t.SpawnEveryMS)
	case t.LifetimeMS < 1:
		return bad("targets.lifetime_ms", "%d: must be at least 1 ms", t.LifetimeMS)
	case t.RadiusMM < 1 || 2*t.RadiusMM > laneW || 2*t.RadiusMM > laneH:
		return bad("targets.radius_mm", "%d: a target must fit in a %dx%d mm lane", t.RadiusMM, laneW, laneH)
	case t.MinPoints < 0 || t.MaxPoints < t.MinPoints:
		return bad("targets.max_points", "need 0 <= min_points <= max_points, got %d and %d", t.MinPoints, t.MaxPoints)
	case t.LifetimeMS/t.SpawnEveryMS > 1000:
		return bad("targets.spawn_every_ms", "more than 1000 targets alive at once: spawn less often or live shorter")
	}
	rn := c.Rain
	switch {
	case rn.SpawnEveryMS < 1:
		return bad("rain.spawn_every_ms", "%d: must be at least 1 ms", rn.SpawnEveryMS)
	case rn.RadiusMM < 1 || 2*rn.RadiusMM > laneW:
		return bad("rain.radius_mm", "%d: a packet must fit in a %d mm wide lane", rn.RadiusMM, laneW)
	case rn.MinSpeedMMS < 1 || rn.MaxSpeedMMS < rn.MinSpeedMMS:
		return bad("rain.min_speed_mm_s", "need 1 <= min_speed_mm_s <= max_speed_mm_s, got %d and %d", rn.MinSpeedMMS, rn.MaxSpeedMMS)
	case rn.GoldenPercent < 0 || rn.GoldenPercent > 100:
		return bad("rain.golden_percent", "%d: use 0..100", rn.GoldenPercent)
	case rn.Points < 0 || rn.GoldenPoints < 0:
		return bad("rain.points", "points must not be negative")
	case int64(laneH+2*rn.RadiusMM)*1000/int64(rn.MinSpeedMMS)/int64(rn.SpawnEveryMS) > 1000:
		return bad("rain.spawn_every_ms", "more than 1000 packets alive at once: spawn less often or fall faster")
	}
	return nil
}

// MaxWallIDLen is the longest wall id: it is part of every score's key, file names and URLs.
const MaxWallIDLen = 64

// CheckWallID checks a wall id: 1 to 64 characters of A-Z a-z 0-9 . _ - (it names outbox keys,
// journal files and URLs, so a slash or a huge id must never get that far).
func CheckWallID(id string) error {
	if len(id) == 0 || len(id) > MaxWallIDLen {
		return fmt.Errorf("wall id %.80q must be 1..%d characters long", id, MaxWallIDLen)
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == '-') {
			return fmt.Errorf("wall id %q: character %q is not allowed: use A-Z a-z 0-9 . _ -", id, c)
		}
	}
	if id == "." || id == ".." {
		return fmt.Errorf("wall id %q is not a name", id)
	}
	return nil
}

// KnownGame reports whether name is a game a round can play.
func KnownGame(name string) bool {
	for _, g := range Games {
		if g == name {
			return true
		}
	}
	return false
}

// msToTicks converts a duration in milliseconds to whole ticks, at least one.
func msToTicks(ms, rate int) int64 {
	t := int64(ms) * int64(rate) / 1000
	if t < 1 {
		t = 1
	}
	return t
}
