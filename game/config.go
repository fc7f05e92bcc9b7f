package game

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strconv"
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
	// DefaultCatchUpTicks is the default of loop.catch_up_ticks, a key kept so old configs load. It
	// is ignored: a frame steps every tick that is due (bounded by render.step_budget_ms, not by a
	// count of ticks), so the game never falls behind the show clock at a low frame rate.
	DefaultCatchUpTicks = 8
	// DefaultLiveHashEvery is how often (in ticks) a live round writes its state hash to the journal.
	DefaultLiveHashEvery = 60
	// DefaultMinFPS is render.min_fps: below it for a second the operator gets an alarm. A show
	// that must look smooth on camera sets 55.
	DefaultMinFPS = 30
	// DefaultStepBudgetMS is render.step_budget_ms: the most time one frame spends stepping ticks
	// that are due before it draws (a tick costs a few microseconds, so only a stall of minutes
	// reaches it); the rest is stepped in the next frames.
	DefaultStepBudgetMS = 100
	// DefaultMaxLagMS is standby.max_lag_ms: a follower further behind is dropped and must rejoin.
	DefaultMaxLagMS = 2000
	// DefaultAckTimeoutMS is standby.ack_timeout_ms: how long the primary holds a tick's scores for
	// its standby's acknowledgement before sending them anyway (and raising an alarm).
	DefaultAckTimeoutMS = 200
	// DefaultPromoteAfterMS is standby.promote_after_ms: silence from the primary after which a
	// standby promotes itself (0: manual promotion only).
	DefaultPromoteAfterMS = 1000
	// MaxConfigBytes bounds a config file; MaxConfigDepth bounds the nesting of its tables and
	// arrays. Both are checked before decoding, so a hostile file cannot take seconds or gigabytes.
	MaxConfigBytes = 1 << 20
	// MaxConfigDepth is the deepest nesting of tables, inline tables and arrays a config may have.
	MaxConfigDepth = 8
	// MaxPoints bounds every points key, so that totals of a day of rounds stay far inside int64.
	MaxPoints = 1_000_000
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
	// Render, Operator, Show, Theme, Autoplay and Standby are read by the window program and the
	// show runner; the game reads Autoplay (the built-in player) and Show.Attract.
	Render   RenderConfig   `toml:"render" json:"render"`
	Operator OperatorConfig `toml:"operator" json:"operator"`
	Show     ShowConfig     `toml:"show" json:"show"`
	Theme    ThemeConfig    `toml:"theme" json:"theme"`
	Autoplay AutoplayConfig `toml:"autoplay" json:"autoplay"`
	Standby  StandbyConfig  `toml:"standby" json:"standby"`
	// Dir is the directory of the config file: theme paths are relative to it. Not a key.
	Dir string `toml:"-" json:"-"`
}

// RenderConfig tunes how the wall is drawn.
type RenderConfig struct {
	// MinFPS: a frame rate below it for a second raises an alarm (cleared when it recovers).
	MinFPS int `toml:"min_fps" json:"min_fps"`
	// Scale draws the wall into an offscreen image at this fraction of the window (0.25..1) and
	// scales it up; "auto" lowers it while frames miss their deadline and raises it back.
	Scale Scale `toml:"scale" json:"scale"`
	// StepBudgetMS bounds the time one frame spends stepping due ticks before it draws.
	StepBudgetMS int `toml:"step_budget_ms" json:"step_budget_ms"`
}

// Scale is render.scale: a fixed fraction of the window, or Auto.
type Scale struct {
	Auto  bool
	Fixed float64 // 0.25..1 when not Auto
}

// UnmarshalTOML reads a number (0.25..1) or the string "auto".
func (s *Scale) UnmarshalTOML(v any) error {
	switch x := v.(type) {
	case float64:
		*s = Scale{Fixed: x}
	case int64:
		*s = Scale{Fixed: float64(x)}
	case string:
		if x != "auto" {
			return fmt.Errorf("render.scale %q: give a number from 0.25 to 1, or \"auto\"", x)
		}
		*s = Scale{Auto: true}
	default:
		return fmt.Errorf("render.scale: give a number from 0.25 to 1, or \"auto\"")
	}
	return nil
}

// MarshalJSON writes the number, or "auto".
func (s Scale) MarshalJSON() ([]byte, error) {
	if s.Auto {
		return []byte(`"auto"`), nil
	}
	return json.Marshal(s.Fixed)
}

// UnmarshalJSON reads what MarshalJSON writes (journal headers carry the config).
func (s *Scale) UnmarshalJSON(b []byte) error {
	var v any
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	return s.UnmarshalTOML(v)
}

// String is the scale as a config file writes it.
func (s Scale) String() string {
	if s.Auto {
		return "auto"
	}
	return strconv.FormatFloat(s.Fixed, 'g', -1, 64)
}

// Operator-graphics settings of operator.on_wall.
const (
	OnWallNone   = "none"   // the wall shows only the show
	OnWallCorner = "corner" // a small status strip in one corner, for single-screen rehearsals
)

// OperatorConfig says what the operator sees on the wall itself.
type OperatorConfig struct {
	// OnWall is "none" (default: everything for the operator is on the console) or "corner".
	OnWall string `toml:"on_wall" json:"on_wall"`
}

// ShowConfig shapes the show around the rounds.
type ShowConfig struct {
	// Attract shows the attract screen (title, next game, autoplay) before the first round.
	Attract bool `toml:"attract" json:"attract"`
	// Title is the show's title on the attract screen.
	Title string `toml:"title" json:"title"`
}

// ThemeConfig is the look of the wall. Paths are relative to the config file; an empty one keeps
// the built-in look. Colours are "#rrggbb".
type ThemeConfig struct {
	Background      string   `toml:"background" json:"background"`             // background colour
	BackgroundImage string   `toml:"background_image" json:"background_image"` // PNG or JPEG, scaled to the wall
	LaneColors      []string `toml:"lane_colors" json:"lane_colors,omitempty"` // one per lane, repeating
	Font            string   `toml:"font" json:"font"`                         // TTF or OTF for everything on the wall
	Logo            string   `toml:"logo" json:"logo"`                         // PNG or JPEG on the attract screen
	Target          string   `toml:"target" json:"target"`                     // sprite of a target
	Packet          string   `toml:"packet" json:"packet"`                     // sprite of a red packet
	Golden          string   `toml:"golden" json:"golden"`                     // sprite of a golden packet
}

// AutoplayConfig tunes the built-in player (--autoplay and the attract screen).
type AutoplayConfig struct {
	ReactionMS  int `toml:"reaction_ms" json:"reaction_ms"`   // mean time from seeing to touching
	MissPercent int `toml:"miss_percent" json:"miss_percent"` // share of touches that miss
}

// StandbyConfig tunes the hot standby (tapwall run --follow) and the primary's side of it.
type StandbyConfig struct {
	MaxLagMS       int `toml:"max_lag_ms" json:"max_lag_ms"`
	AckTimeoutMS   int `toml:"ack_timeout_ms" json:"ack_timeout_ms"`
	PromoteAfterMS int `toml:"promote_after_ms" json:"promote_after_ms"`
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
		Render:   RenderConfig{MinFPS: DefaultMinFPS, Scale: Scale{Fixed: 1}, StepBudgetMS: DefaultStepBudgetMS},
		Operator: OperatorConfig{OnWall: OnWallNone},
		Show:     ShowConfig{Attract: true, Title: "TAPWALL"},
		Autoplay: AutoplayConfig{ReactionMS: DefaultReactionMS, MissPercent: DefaultMissPercent},
		Standby:  StandbyConfig{MaxLagMS: DefaultMaxLagMS, AckTimeoutMS: DefaultAckTimeoutMS, PromoteAfterMS: DefaultPromoteAfterMS},
	}
	w := int32(DefaultWallWidthMM / DefaultLanes)
	for i := 0; i < DefaultLanes; i++ {
		c.Lanes = append(c.Lanes, LaneConfig{Name: fmt.Sprintf("lane-%d", i+1), XMM: int32(i) * w,
			WidthMM: w, HeightMM: DefaultWallHeightMM})
	}
	return c
}

// LoadConfig reads and validates a TOML config file; keys it does not set keep their defaults.
// Theme paths are relative to the file's directory.
func LoadConfig(path string) (Config, error) {
	f, err := os.Open(path)
	if err != nil {
		return Config{}, fmt.Errorf("%w: %v", ErrConfig, err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, MaxConfigBytes+1))
	if err != nil {
		return Config{}, fmt.Errorf("%w: %s: %v", ErrConfig, path, err)
	}
	c, err := ParseConfig(data, path)
	if err == nil {
		c.Dir = filepath.Dir(path)
	}
	return c, err
}

// ParseConfig decodes TOML over the defaults and validates the result. name is used in errors.
func ParseConfig(data []byte, name string) (Config, error) {
	if len(data) > MaxConfigBytes {
		return Config{}, fmt.Errorf("%w: %s: the file is over %d bytes: a show config is a few kilobytes", ErrConfig, name, MaxConfigBytes)
	}
	if line, err := checkNesting(data); err != nil {
		return Config{}, fmt.Errorf("%w: %s:%d: %v", ErrConfig, name, line, err)
	}
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
	if len(c.Theme.LaneColors) == 0 {
		c.Theme.LaneColors = nil
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
	if ce := c.check(); ce != nil {
		ce.File = name
		return Config{}, ce
	}
	return c, nil
}

// ConfigError lists every problem of a config, one per line, key first. It wraps ErrConfig.
type ConfigError struct {
	File     string   // the config file, "" when not from a file
	Problems []string // "key: what is wrong and how to fix it"
}

// Error returns the problems, one line each, after a line naming the file.
func (e *ConfigError) Error() string {
	head := ErrConfig.Error()
	if e.File != "" {
		head += ": " + e.File
	}
	if len(e.Problems) == 1 {
		return head + ": " + e.Problems[0]
	}
	return fmt.Sprintf("%s: %d problems:\n%s", head, len(e.Problems), strings.Join(e.Problems, "\n"))
}

// Unwrap makes errors.Is(err, ErrConfig) true.
func (e *ConfigError) Unwrap() error { return ErrConfig }

// Validate checks the config and returns a *ConfigError naming every bad key and how to fix it.
// Every numeric key has a range that keeps the game's arithmetic far from overflow.
func (c *Config) Validate() error {
	if ce := c.check(); ce != nil {
		return ce
	}
	return nil
}

// check is Validate: the config's problems, nil when there are none.
func (c *Config) check() *ConfigError {
	var problems []string
	bad := func(key, format string, args ...any) {
		problems = append(problems, key+": "+fmt.Sprintf(format, args...))
	}
	done := func() *ConfigError {
		if len(problems) == 0 {
			return nil
		}
		return &ConfigError{Problems: problems}
	}
	if err := CheckWallID(c.Wall.ID); err != nil {
		bad("wall.id", "%v", err)
	}
	if c.Wall.WidthMM <= 0 || c.Wall.HeightMM <= 0 || c.Wall.WidthMM > 100_000 || c.Wall.HeightMM > 100_000 {
		bad("wall.width_mm", "wall must be 1..100000 mm each way, got %d x %d", c.Wall.WidthMM, c.Wall.HeightMM)
		return done() // lanes and games are measured against the wall
	}
	if len(c.Lanes) == 0 || len(c.Lanes) > MaxLanes {
		bad("lanes", "need 1..%d lanes, got %d", MaxLanes, len(c.Lanes))
		return done()
	}
	lanesOK := true
	for i, l := range c.Lanes {
		key := fmt.Sprintf("lanes[%d]", i)
		if l.WidthMM <= 0 || l.HeightMM <= 0 {
			bad(key+".width_mm", "lane %q must have a positive width and height", l.Name)
			lanesOK = false
			continue
		}
		if l.XMM < 0 || l.YMM < 0 || int64(l.XMM)+int64(l.WidthMM) > int64(c.Wall.WidthMM) || int64(l.YMM)+int64(l.HeightMM) > int64(c.Wall.HeightMM) {
			bad(key+".x_mm", "lane %q (%d,%d %dx%d mm) leaves the %dx%d mm wall: move or shrink it",
				l.Name, l.XMM, l.YMM, l.WidthMM, l.HeightMM, c.Wall.WidthMM, c.Wall.HeightMM)
			lanesOK = false
			continue
		}
		if l.WidthMM != c.Lanes[0].WidthMM || l.HeightMM != c.Lanes[0].HeightMM {
			bad(key+".width_mm", "lane %q is %dx%d mm but lane %q is %dx%d mm: every lane must be the same size so every contestant gets the same challenge",
				l.Name, l.WidthMM, l.HeightMM, c.Lanes[0].Name, c.Lanes[0].WidthMM, c.Lanes[0].HeightMM)
			lanesOK = false
		}
		if len(l.Name) > MaxNameLen {
			bad(key+".name", "%d bytes: at most %d fit a lane header", len(l.Name), MaxNameLen)
		}
		for j := 0; j < i; j++ {
			o := c.Lanes[j]
			if l.XMM < o.XMM+o.WidthMM && o.XMM < l.XMM+l.WidthMM && l.YMM < o.YMM+o.HeightMM && o.YMM < l.YMM+l.HeightMM {
				bad(key, "lane %q overlaps lane %q (lanes[%d]): lanes must not share any area", l.Name, o.Name, j)
			}
		}
	}
	r := c.Round
	if r.TickRate < MinTickRate || r.TickRate > MaxTickRate {
		bad("round.tick_rate", "%d is out of range: use %d..%d ticks per second", r.TickRate, MinTickRate, MaxTickRate)
	}
	if r.Seconds <= 0 || r.Seconds > 24*3600 {
		bad("round.seconds", "%d: a round lasts 1..86400 s", r.Seconds)
	}
	if r.CountdownSeconds < 0 || r.CountdownSeconds > 60 {
		bad("round.countdown_seconds", "%d: use 0..60 s", r.CountdownSeconds)
	}
	if !KnownGame(r.Game) {
		bad("round.game", "unknown game %q: use one of %s", r.Game, strings.Join(Games[:], ", "))
	}
	if c.Loop.CatchUpTicks < 1 || c.Loop.CatchUpTicks > 1000 {
		bad("loop.catch_up_ticks", "%d: use 1..1000 (the key is kept for old configs and ignored: every due tick is stepped)", c.Loop.CatchUpTicks)
	}
	if c.Loop.HashEvery < 1 || c.Loop.HashEvery > 1_000_000 {
		bad("loop.hash_every", "%d: use 1..1000000 ticks", c.Loop.HashEvery)
	}
	k := c.Keyboard
	if k.CursorSpeedMMS < 1 || k.CursorSpeedMMS > 100_000 {
		bad("keyboard.cursor_speed_mm_s", "%d: use 1..100000 mm/s", k.CursorSpeedMMS)
	}
	if k.ConfirmMS < 500 || k.ConfirmMS > 60_000 {
		bad("keyboard.confirm_ms", "%d: use 500..60000 ms", k.ConfirmMS)
	}
	if k.AdjustStep < 1 || k.AdjustStep > MaxAdjust {
		bad("keyboard.adjust_step", "%d: use 1..%d", k.AdjustStep, MaxAdjust)
	}
	if k.AlarmSilenceMS < 1000 || k.AlarmSilenceMS > 3_600_000 {
		bad("keyboard.alarm_silence_ms", "%d: use 1000..3600000 ms", k.AlarmSilenceMS)
	}
	if !lanesOK || r.TickRate < MinTickRate || r.TickRate > MaxTickRate {
		return done() // the games are sized by the lanes and the tick rate
	}
	laneW, laneH := int64(c.Lanes[0].WidthMM), int64(c.Lanes[0].HeightMM)
	rate := int64(r.TickRate)
	t := c.Targets
	switch {
	case t.SpawnEveryMS < 1 || t.SpawnEveryMS > 3_600_000:
		bad("targets.spawn_every_ms", "%d: use 1..3600000 ms", t.SpawnEveryMS)
	case t.LifetimeMS < 1 || t.LifetimeMS > 3_600_000:
		bad("targets.lifetime_ms", "%d: use 1..3600000 ms", t.LifetimeMS)
	case msToTicks(t.LifetimeMS, r.TickRate)/msToTicks(t.SpawnEveryMS, r.TickRate) > 1000:
		bad("targets.spawn_every_ms", "more than 1000 targets alive at once: spawn less often or live shorter")
	}
	if t.RadiusMM < 1 || 2*int64(t.RadiusMM) > laneW || 2*int64(t.RadiusMM) > laneH {
		bad("targets.radius_mm", "%d: a target must fit in a %dx%d mm lane", t.RadiusMM, laneW, laneH)
	}
	if t.MinPoints < 0 || t.MaxPoints < t.MinPoints || t.MaxPoints > MaxPoints {
		bad("targets.max_points", "need 0 <= min_points <= max_points <= %d, got %d and %d", MaxPoints, t.MinPoints, t.MaxPoints)
	}
	rn := c.Rain
	if rn.SpawnEveryMS < 1 || rn.SpawnEveryMS > 3_600_000 {
		bad("rain.spawn_every_ms", "%d: use 1..3600000 ms", rn.SpawnEveryMS)
	}
	if rn.RadiusMM < 1 || 2*int64(rn.RadiusMM) > laneW || 2*int64(rn.RadiusMM) > laneH {
		bad("rain.radius_mm", "%d: a packet must fit in a %dx%d mm lane", rn.RadiusMM, laneW, laneH)
	}
	if rn.MinSpeedMMS < 1 || rn.MaxSpeedMMS < rn.MinSpeedMMS || rn.MaxSpeedMMS > 100_000 {
		bad("rain.min_speed_mm_s", "need 1 <= min_speed_mm_s <= max_speed_mm_s <= 100000, got %d and %d", rn.MinSpeedMMS, rn.MaxSpeedMMS)
	} else if rn.SpawnEveryMS >= 1 && rn.RadiusMM >= 1 && 2*int64(rn.RadiusMM) <= laneH {
		fall := (laneH + 2*int64(rn.RadiusMM)) * rate / int64(rn.MinSpeedMMS)
		if fall/msToTicks(rn.SpawnEveryMS, r.TickRate) > 1000 {
			bad("rain.spawn_every_ms", "more than 1000 packets alive at once: spawn less often or fall faster")
		}
	}
	if rn.GoldenPercent < 0 || rn.GoldenPercent > 100 {
		bad("rain.golden_percent", "%d: use 0..100", rn.GoldenPercent)
	}
	if rn.Points < 0 || rn.GoldenPoints < 0 || rn.Points > MaxPoints || rn.GoldenPoints > MaxPoints {
		bad("rain.points", "points and golden_points: use 0..%d", MaxPoints)
	}
	c.validateShow(bad)
	return done()
}

// validateShow checks the keys the window program and the show runner read.
func (c *Config) validateShow(bad func(key, format string, args ...any)) {
	rc := c.Render
	if rc.MinFPS < 1 || rc.MinFPS > 240 {
		bad("render.min_fps", "%d: use 1..240 frames per second", rc.MinFPS)
	}
	if !rc.Scale.Auto && (rc.Scale.Fixed < 0.25 || rc.Scale.Fixed > 1) {
		bad("render.scale", "%v: use 0.25..1, or \"auto\"", rc.Scale.Fixed)
	}
	if rc.StepBudgetMS < 1 || rc.StepBudgetMS > 10_000 {
		bad("render.step_budget_ms", "%d: use 1..10000 ms", rc.StepBudgetMS)
	}
	if c.Operator.OnWall != OnWallNone && c.Operator.OnWall != OnWallCorner {
		bad("operator.on_wall", "%q: use \"none\" (the wall shows only the show) or \"corner\" (a status strip for rehearsals)", c.Operator.OnWall)
	}
	if len(c.Show.Title) > 80 {
		bad("show.title", "%d bytes: keep the title under 80", len(c.Show.Title))
	}
	th := c.Theme
	if th.Background != "" {
		if _, err := ParseColor(th.Background); err != nil {
			bad("theme.background", "%v", err)
		}
	}
	for i, col := range th.LaneColors {
		if _, err := ParseColor(col); err != nil {
			bad(fmt.Sprintf("theme.lane_colors[%d]", i), "%v", err)
		}
	}
	if len(th.LaneColors) > MaxLanes {
		bad("theme.lane_colors", "%d colours: give at most %d", len(th.LaneColors), MaxLanes)
	}
	a := c.Autoplay
	if a.ReactionMS < 50 || a.ReactionMS > 5000 {
		bad("autoplay.reaction_ms", "%d: use 50..5000 ms", a.ReactionMS)
	}
	if a.MissPercent < 0 || a.MissPercent > 100 {
		bad("autoplay.miss_percent", "%d: use 0..100", a.MissPercent)
	}
	sb := c.Standby
	if sb.MaxLagMS < 100 || sb.MaxLagMS > 60_000 {
		bad("standby.max_lag_ms", "%d: use 100..60000 ms", sb.MaxLagMS)
	}
	if sb.AckTimeoutMS < 1 || sb.AckTimeoutMS > 10_000 {
		bad("standby.ack_timeout_ms", "%d: use 1..10000 ms", sb.AckTimeoutMS)
	}
	if sb.PromoteAfterMS < 0 || sb.PromoteAfterMS > 60_000 {
		bad("standby.promote_after_ms", "%d: use 0 (manual promotion only)..60000 ms", sb.PromoteAfterMS)
	}
}

// ParseColor reads "#rrggbb" or "#rrggbbaa" into red, green, blue and alpha.
func ParseColor(s string) ([4]uint8, error) {
	var c [4]uint8
	h, ok := strings.CutPrefix(s, "#")
	if !ok || (len(h) != 6 && len(h) != 8) {
		return c, fmt.Errorf("colour %q: write it as \"#rrggbb\" (hex), e.g. \"#1c243c\"", s)
	}
	c[3] = 0xff
	for i := 0; i < len(h)/2; i++ {
		v, err := strconv.ParseUint(h[2*i:2*i+2], 16, 8)
		if err != nil {
			return c, fmt.Errorf("colour %q: write it as \"#rrggbb\" (hex), e.g. \"#1c243c\"", s)
		}
		c[i] = uint8(v)
	}
	return c, nil
}

// checkNesting returns an error (and its line) when TOML data nests tables, inline tables or
// arrays deeper than MaxConfigDepth. It reads strings and comments as TOML does, so brackets inside
// them do not count.
func checkNesting(data []byte) (int, error) {
	depth, line := 0, 1
	for i := 0; i < len(data); i++ {
		switch ch := data[i]; ch {
		case '\n':
			line++
		case '#':
			for i < len(data) && data[i] != '\n' {
				i++
			}
			i--
		case '"', '\'':
			quote := string(data[i : i+1])
			if i+2 < len(data) && data[i+1] == ch && data[i+2] == ch {
				quote = strings.Repeat(quote, 3)
			}
			end := i + len(quote)
			for end < len(data) && !strings.HasPrefix(string(data[end:min(end+3, len(data))]), quote) {
				if data[end] == '\\' && ch == '"' {
					end++
				}
				if end < len(data) && data[end] == '\n' {
					line++
				}
				end++
			}
			i = end + len(quote) - 1
		case '[', '{':
			depth++
			if depth > MaxConfigDepth {
				return line, fmt.Errorf("nested more than %d deep: a show config needs a few levels", MaxConfigDepth)
			}
		case ']', '}':
			depth = max(0, depth-1)
		}
	}
	return 0, nil
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

// ShowView returns the part of the config that changes the game or the picture, as JSON-like
// values: the wall, the lanes, the round, the loop, the games, the keymap, the operator's on-wall
// setting, the show, the theme and autoplay. What may differ between a primary and its standby is
// left out: device matching and the touch path ([[frames]], [input], the desk keyboards and their
// own keymaps), [render] and [standby]. A standby whose view differs is refused.
func ShowView(c *Config) map[string]any {
	b, _ := json.Marshal(c)
	var m map[string]any
	json.Unmarshal(b, &m)
	for _, k := range []string{"frames", "input", "render", "standby"} {
		delete(m, k)
	}
	if kb, ok := m["keyboard"].(map[string]any); ok {
		for _, k := range []string{"devices", "grab", "source_keymaps"} {
			delete(kb, k)
		}
	}
	return m
}

// FirstDifference returns the dotted key of the first difference between two views (keys in
// sorted order, list items as key[i]), or "" when they are equal.
func FirstDifference(a, b any) string {
	return firstDiff("", a, b)
}

func firstDiff(path string, a, b any) string {
	join := func(k string) string {
		if path == "" {
			return k
		}
		return path + "." + k
	}
	switch x := a.(type) {
	case map[string]any:
		y, ok := b.(map[string]any)
		if !ok {
			return path
		}
		keys := make([]string, 0, len(x)+len(y))
		for k := range x {
			keys = append(keys, k)
		}
		for k := range y {
			if _, dup := x[k]; !dup {
				keys = append(keys, k)
			}
		}
		sort.Strings(keys)
		for _, k := range keys {
			if d := firstDiff(join(k), x[k], y[k]); d != "" {
				return d
			}
		}
		return ""
	case []any:
		y, ok := b.([]any)
		if !ok {
			return path
		}
		for i := 0; i < max(len(x), len(y)); i++ {
			if i >= len(x) || i >= len(y) {
				return fmt.Sprintf("%s[%d]", path, i)
			}
			if d := firstDiff(fmt.Sprintf("%s[%d]", path, i), x[i], y[i]); d != "" {
				return d
			}
		}
		return ""
	default:
		if fmt.Sprint(a) != fmt.Sprint(b) || (a == nil) != (b == nil) {
			if path == "" {
				return "(the whole config)"
			}
			return path
		}
		return ""
	}
}
