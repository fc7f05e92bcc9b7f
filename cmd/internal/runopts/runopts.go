// Package runopts defines the flags of `tapwall run`, shared by the headless tapwall command (which
// checks them and prints their help without a display) and the tapwall-wall window program.
package runopts

import (
	"flag"
	"fmt"
	"io"
	"net/url"
	"strconv"
	"strings"

	"tapwall/cmd/internal/control"
	"tapwall/cmd/internal/logs"
	"tapwall/game"
)

// Defaults of the window program.
const (
	// DefaultWindow is the windowed size: the wall's 2:1 aspect at a size that fits a desk monitor.
	DefaultWindow = "1280x640"
	// DefaultJournalDir is where live rounds write their journals, one file per round.
	DefaultJournalDir = "journals"
)

// Synopsis is the one-line usage of `tapwall run`.
const Synopsis = "tapwall run [--config F] [--window WxH] [--fullscreen] [--evemu F[,F...]] [--backend ws://HOST:PORT/ws --wall ID [--token T] [--outbox DIR]] [--inputs F --screenshot OUT.png --exit-after-ticks N]"

// Options are the parsed flags of `tapwall run`.
type Options struct {
	Config         string
	Window         string
	Width, Height  int
	Fullscreen     bool
	Inputs         string
	Screenshot     string
	ExitAfterTicks int64
	JournalDir     string
	Evemu          []string
	Touch          bool
	InputDir       string
	Calibrate      string
	HUD            bool
	Autoplay       bool
	EvemuAt        int64
	Control        string
	ControlToken   string
	Follow         string
	AllowedHosts   []string
	Backend        string
	Wall           string
	Token          string
	Outbox         string
	BackendCA      string
	LogFormat      string
	LogLevel       string
}

// Parse parses args as `tapwall run` flags, printing errors and -h help to out. It returns
// flag.ErrHelp for -h and a descriptive error for bad values.
func Parse(args []string, out io.Writer) (Options, error) {
	var o Options
	fs := flag.NewFlagSet("run", flag.ContinueOnError)
	fs.SetOutput(out)
	fs.Usage = func() {
		fmt.Fprintf(out, "Usage: %s\n\nFlags:\n", Synopsis)
		fs.PrintDefaults()
	}
	fs.StringVar(&o.Config, "config", "", "config file (TOML); default: the compiled-in defaults")
	fs.StringVar(&o.Window, "window", DefaultWindow, "window size in pixels, WxH")
	fs.BoolVar(&o.Fullscreen, "fullscreen", false, "fullscreen across the wall's displays (the show)")
	fs.StringVar(&o.Inputs, "inputs", "", "play scripted inputs (the sim input format) into the show")
	fs.StringVar(&o.Screenshot, "screenshot", "", "write a PNG of the last frame here on exit")
	fs.Int64Var(&o.ExitAfterTicks, "exit-after-ticks", 0, "exit once this many ticks have been stepped (0: run until quit)")
	fs.StringVar(&o.JournalDir, "journal-dir", DefaultJournalDir, "directory for round journals, one file per round (\"\": none)")
	evemu := fs.String("evemu", "", "play evemu recordings (FILE[,FILE...], one per frame) into the show in real time (rehearsals)")
	fs.BoolVar(&o.Touch, "touch", true, "read the configured touch frames from /dev/input (--touch=false: mouse and keyboard only)")
	fs.StringVar(&o.InputDir, "input-dir", "/dev/input", "where the touch frames' device nodes are")
	fs.StringVar(&o.Backend, "backend", "", "scoring backend, ws://HOST:PORT/ws or wss://...: every score streams there")
	fs.StringVar(&o.Wall, "wall", "", "wall id sent to the backend (default: the config's wall.id)")
	fs.StringVar(&o.Token, "token", "", "the backend's token")
	fs.StringVar(&o.Outbox, "outbox", "outbox", "directory of the durable score outbox")
	fs.StringVar(&o.BackendCA, "backend-ca", "", "PEM certificate to trust for a wss:// backend with its own certificate")
	fs.BoolVar(&o.HUD, "hud", false, "start with the HUD and the key help in the corner strip (operator.on_wall = \"corner\"; F1 toggles it)")
	fs.BoolVar(&o.Autoplay, "autoplay", false, "the built-in player plays every lane of every round (demos, soak tests; config [autoplay])")
	fs.Int64Var(&o.EvemuAt, "evemu-at", -1, "start --evemu playback at this show tick (default: when the next round starts running)")
	fs.StringVar(&o.Control, "control", control.DefaultAddr, "control server (status, metrics, operator console) on HOST:PORT; \"\" disables it; port 0 picks a free one")
	fs.StringVar(&o.ControlToken, "control-token", "", "token the control server requires (Authorization: Bearer T); required off loopback")
	fs.StringVar(&o.Follow, "follow", "", "run as the hot standby of the primary at ws://HOST:PORT/follow (its control server; --control-token is presented to it)")
	hosts := fs.String("control-allowed-host", "", "extra host names (comma-separated) the control server answers to, e.g. the name the desk reaches this PC by")
	fs.StringVar(&o.Calibrate, "calibrate", "", "calibrate the named frame: crosshairs to touch, then the fit is written to --config")
	fs.StringVar(&o.LogFormat, "log-format", "json", "log format on stderr: json or console")
	fs.StringVar(&o.LogLevel, "log-level", "info", "least severe log level shown: debug, info, warn, error")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	if *evemu != "" {
		o.Evemu = strings.Split(*evemu, ",")
	}
	if o.Follow != "" {
		u, err := url.Parse(o.Follow)
		if err != nil || (u.Scheme != "ws" && u.Scheme != "wss") || u.Host == "" {
			return o, fmt.Errorf("--follow %q: give the primary's ws://HOST:PORT/follow", o.Follow)
		}
		if o.Calibrate != "" {
			return o, fmt.Errorf("--follow and --calibrate do not go together")
		}
	}
	for _, h := range strings.Split(*hosts, ",") {
		if h = strings.TrimSpace(h); h != "" {
			o.AllowedHosts = append(o.AllowedHosts, h)
		}
	}
	if o.Control != "" && o.Calibrate == "" {
		if err := control.CheckAddr(o.Control, o.ControlToken); err != nil {
			return o, err
		}
	}
	if o.Calibrate != "" && o.Config == "" {
		return o, fmt.Errorf("--calibrate needs --config F: the fit is written into that file")
	}
	if o.Backend != "" && !strings.HasPrefix(o.Backend, "ws://") && !strings.HasPrefix(o.Backend, "wss://") {
		return o, fmt.Errorf("--backend %q: give ws://HOST:PORT/ws or wss://HOST:PORT/ws", o.Backend)
	}
	if o.Wall != "" {
		if err := game.CheckWallID(o.Wall); err != nil {
			return o, fmt.Errorf("--wall: %w", err)
		}
	}
	if fs.NArg() > 0 {
		return o, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	w, h, ok := strings.Cut(o.Window, "x")
	var err1, err2 error
	o.Width, err1 = strconv.Atoi(w)
	o.Height, err2 = strconv.Atoi(h)
	if !ok || err1 != nil || err2 != nil || o.Width < 64 || o.Height < 32 || o.Width > 32768 || o.Height > 32768 {
		return o, fmt.Errorf("--window %q: give WxH in pixels, at least 64x32, e.g. %s", o.Window, DefaultWindow)
	}
	if o.ExitAfterTicks < 0 {
		return o, fmt.Errorf("--exit-after-ticks %d: must not be negative", o.ExitAfterTicks)
	}
	if o.Screenshot != "" && o.ExitAfterTicks == 0 {
		return o, fmt.Errorf("--screenshot needs --exit-after-ticks N: the frame after tick N is written")
	}
	if _, err := logs.New(io.Discard, o.LogFormat, o.LogLevel); err != nil {
		return o, err
	}
	return o, nil
}
