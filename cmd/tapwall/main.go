// Command tapwall is the headless command line of the tapwall touch-wall runtime: it simulates and
// replays rounds, prints and checks configs, and starts the wall window (tapwall-wall) with `run`.
// It never links Ebiten, so it builds with CGO_ENABLED=0 and works without a display.
//
// Exit codes: 0 success, 1 replay mismatch, 2 bad usage, config, input or environment, 3 scores
// not acknowledged by the backend in time (sim --backend), 4 score events lost: damaged in the
// outbox and not rebuildable from a journal (sim --backend).
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"runtime/debug"
	"strings"

	"github.com/rs/zerolog"

	"tapwall/cmd/internal/logs"
)

// Exit codes, part of the command-line contract.
const (
	exitOK       = 0
	exitMismatch = 1
	exitBad      = 2
	exitNotAcked = 3
	exitLost     = 4
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

const usage = `tapwall — runtime for giant multi-touch walls in live shows

Usage:
  tapwall [run] [flags]          start the wall window (the demo show with no hardware)
  tapwall sim --inputs F [flags] run a round headless and print its summary as JSON
  tapwall replay JOURNAL         re-run a round journal and check every recorded hash
  tapwall trace --evemu F[,F...]  decode touch recordings through the wall path to JSON Lines
  tapwall devices [--json]       list input devices and the frame each matches
  tapwall record --device PATH --out F.evemu   record a device in evemu format
  tapwall calibrate [--frame NAME] --config F  touch crosshairs; the fit goes into the config
  tapwall calibrate --from-points FILE         the same fit from recorded point pairs
  tapwall config --print-default print the default config with a comment on every key
  tapwall config --check F       validate a config file
  tapwall status [--control ADDR] [--control-token T]   the running show's /status as JSON
  tapwall promote [--control ADDR] [--control-token T]  promote the hot standby there to primary
  tapwall version                print the version
  tapwall help                   this text; "tapwall CMD -h" shows a command's flags

Exit codes: 0 ok, 1 replay mismatch, 2 bad usage, config, input or environment,
3 scores not acknowledged by the backend within --flush-timeout,
4 score events lost (damaged in the outbox, no journal to rebuild them from).
`

// cli carries what every command needs; tests run commands in-process through it.
type cli struct {
	stdout, stderr      io.Writer
	log                 zerolog.Logger
	logFormat, logLevel *string // the command's --log-format and --log-level, set by newFlags
}

// errExit carries an exit code out of a command, with the message already printed (or none).
type errExit struct{ code int }

// Error says which exit code the command ends with.
func (e errExit) Error() string { return fmt.Sprintf("exit %d", e.code) }

func main() {
	c := &cli{stdout: os.Stdout, stderr: os.Stderr}
	os.Exit(c.main(os.Args[1:]))
}

// main runs one command and returns its exit code.
func (c *cli) main(args []string) int {
	cmd := "run"
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		cmd, args = args[0], args[1:]
	}
	var err error
	switch cmd {
	case "run":
		err = c.run(args)
	case "sim":
		err = c.sim(args)
	case "replay":
		err = c.replay(args)
	case "config":
		err = c.config(args)
	case "trace":
		err = c.trace(args)
	case "devices":
		err = c.devices(args)
	case "record":
		err = c.record(args)
	case "calibrate":
		err = c.calibrate(args)
	case "status":
		err = c.status(args)
	case "promote":
		err = c.promote(args)
	case "version":
		fmt.Fprintf(c.stdout, "tapwall %s (%s)\n", version, goVersion())
	case "help", "-h", "--help":
		fmt.Fprint(c.stdout, usage)
	default:
		fmt.Fprintf(c.stderr, "tapwall: unknown command %q\n\n%s", cmd, usage)
		return exitBad
	}
	var ee errExit
	switch {
	case err == nil:
		return exitOK
	case errors.As(err, &ee):
		return ee.code
	case errors.Is(err, flag.ErrHelp):
		return exitOK
	default:
		fmt.Fprintf(c.stderr, "tapwall %s: %v\n", cmd, err)
		return exitBad
	}
}

func goVersion() string {
	if bi, ok := debug.ReadBuildInfo(); ok {
		return bi.GoVersion
	}
	return "unknown go"
}

// newFlags returns a flag set that prints its usage to stderr and returns errors instead of exiting,
// with the --log-format and --log-level flags that every command has.
func (c *cli) newFlags(name, synopsis string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(c.stderr)
	fs.Usage = func() {
		fmt.Fprintf(c.stderr, "Usage: %s\n\nFlags:\n", synopsis)
		fs.PrintDefaults()
	}
	c.logFormat = fs.String("log-format", "json", "log format on stderr: json (one event per line) or console (for people)")
	c.logLevel = fs.String("log-level", "info", "least severe log level shown: debug, info, warn, error")
	return fs
}

// parse parses a command's flags and sets up its logger. A bad flag has been reported by the flag
// package and becomes exit 2; -h returns flag.ErrHelp.
func (c *cli) parse(fs *flag.FlagSet, args []string) (err error) {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return errExit{exitBad}
	}
	c.log, err = logs.New(c.stderr, *c.logFormat, *c.logLevel)
	return err
}
