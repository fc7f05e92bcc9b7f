// Command tapwall-wall is the wall window of tapwall: it runs the show on the show clock and draws
// it with Ebiten. Start it through `tapwall run`, which checks the display first: Ebiten panics at
// init when there is none. Its flags are those of `tapwall run`.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/rs/zerolog"
	"golang.org/x/sys/unix"

	"tapwall/cmd/internal/control"
	"tapwall/cmd/internal/logs"
	"tapwall/cmd/internal/runopts"
	"tapwall/cmd/internal/showrun"
	"tapwall/game"
	"tapwall/input"
	"tapwall/netsync"
	"tapwall/render"
)

func main() {
	os.Exit(run(os.Args[1:]))
}

func run(args []string) int {
	opt, err := runopts.Parse(args, os.Stderr)
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "tapwall run: %v\n", err)
		return 2
	}
	log, err := logs.New(logs.Stderr, opt.LogFormat, opt.LogLevel)
	if err != nil {
		fmt.Fprintf(os.Stderr, "tapwall run: %v\n", err)
		return 2
	}
	fail := func(err error) int {
		fmt.Fprintf(os.Stderr, "tapwall run: %v\n", err)
		return 2
	}
	cfg := game.DefaultConfig()
	if opt.Config != "" {
		if cfg, err = game.LoadConfig(opt.Config); err != nil {
			return fail(err)
		}
	}
	if err := input.CheckConfig(&cfg); err != nil {
		return fail(fmt.Errorf("%s: %w", opt.Config, err))
	}
	var script []game.TickInput
	if opt.Inputs != "" {
		f, err := os.Open(opt.Inputs)
		if err != nil {
			return fail(fmt.Errorf("inputs: %w", err))
		}
		script, err = game.ReadInputs(f, opt.Inputs, &cfg)
		f.Close()
		if err != nil {
			return fail(err)
		}
	}
	if opt.JournalDir != "" && opt.Calibrate == "" {
		if err := showrun.CheckJournalDir(opt.JournalDir); err != nil {
			return fail(err)
		}
	}
	var recs []*input.Recording
	for _, p := range opt.Evemu {
		rec, err := input.ReadEvemuFile(p)
		if err != nil {
			return fail(err)
		}
		recs = append(recs, rec)
	}
	if len(recs) > 0 { // a recording that puts no contact on the wall would rehearse nothing
		if err := input.CheckRecordings(&cfg, recs); err != nil {
			return fail(err)
		}
	}
	epoch := monoUS() // show time 0 on the frames' clock
	clock := func() int64 { return monoUS() - epoch }
	ropt := showrun.Options{Config: &cfg, Clock: clock, Log: log, JournalDir: opt.JournalDir, Start: time.Now(),
		Script: script, ExitAfterTicks: opt.ExitAfterTicks, Screenshot: opt.Screenshot, Autoplay: opt.Autoplay, HUD: opt.HUD,
		Touch: opt.Touch || opt.Calibrate != "", Opener: input.EvdevOpener{Dir: opt.InputDir}, EpochUS: epoch,
		Evemu: recs, EvemuAt: opt.EvemuAt}
	if opt.Calibrate != "" {
		ropt.JournalDir = ""
	}
	if opt.Backend != "" {
		if opt.Wall != "" {
			cfg.Wall.ID = opt.Wall
		}
		ropt.Backend = &showrun.BackendOptions{URL: opt.Backend, Wall: cfg.Wall.ID, Token: opt.Token, Outbox: opt.Outbox, CA: opt.BackendCA}
	}
	if opt.Follow != "" {
		ropt.Follow, ropt.FollowToken = opt.Follow, opt.ControlToken
		if ropt.Backend != nil { // a restarted primary becomes a standby: its old outbox is never sent
			moved, err := netsync.SetAside(opt.Outbox)
			if err != nil {
				return fail(fmt.Errorf("--outbox %s: cannot set it aside for a standby: %w", opt.Outbox, err))
			}
			if moved != "" {
				log.Warn().Str("outbox", opt.Outbox).Str("set_aside", moved).Msg("old outbox set aside (kept, never sent): this show follows a primary now")
			}
		}
	}
	runner, err := showrun.New(ropt)
	if err != nil {
		return fail(err)
	}
	var calib *input.Calibrator
	var crosshair func() (float64, float64, string, bool)
	if opt.Calibrate != "" {
		if calib, err = calibrator(&cfg, opt.Calibrate); err != nil {
			return fail(err)
		}
		runner.Calibrate(calib)
		crosshair = func() (float64, float64, string, bool) {
			x, y, n, of, ok := calib.Target()
			return x, y, fmt.Sprintf("CALIBRATING %s: touch the centre of crosshair %d of %d", opt.Calibrate, n, of), ok
		}
	}
	app, err := render.NewApp(render.Options{Config: &cfg, Clock: clock, Driver: runner, Crosshair: crosshair})
	if err != nil {
		return fail(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	signals := make(chan os.Signal, 1)
	signal.Notify(signals, syscall.SIGTERM, syscall.SIGINT, syscall.SIGHUP)
	go func() {
		sig := <-signals
		log.Warn().Str("signal", sig.String()).Msg("signal: ending the show; the journal and the outbox are flushed first")
		runner.Quit()
	}()
	if opt.LogFormat == "json" { // Xlib and GLFW print from C onto fd 2: make those log events too
		stop, err := logs.CaptureStderr(log)
		if err != nil {
			return fail(err)
		}
		defer stop()
	}
	if opt.Control != "" && calib == nil { // calibrate serves no control server
		srv, err := control.New(control.Config{Addr: opt.Control, Token: opt.ControlToken, Show: runner, Log: log,
			AllowedHosts: opt.AllowedHosts, Follow: runner.FollowHandler()})
		if err != nil {
			return fail(err)
		}
		if err := srv.Start(ctx); err != nil {
			return fail(err)
		}
		defer func() { cancel(); srv.Wait() }() // Start logged where it listens
	}
	runner.Start(ctx)
	err = render.Run(app, "tapwall — "+cfg.Wall.ID, opt.Width, opt.Height, opt.Fullscreen)
	cancel()
	if cerr := runner.Close(10 * time.Second); cerr != nil {
		log.Error().Err(cerr).Msg("closing the show")
	}
	if err != nil {
		log.Error().Err(err).Msg("window ended with an error")
		return 1
	}
	if err := runner.Fatal(); err != nil {
		return fail(err)
	}
	if err := runner.ShotErr(); err != nil {
		fmt.Fprintf(os.Stderr, "tapwall run: %v\n", err)
		return 1
	}
	if calib != nil {
		return finishCalibration(calib, opt.Config, log)
	}
	return 0
}

// monoUS reads CLOCK_MONOTONIC in microseconds: the clock the touch frames stamp events with, and
// so the base of the show clock.
func monoUS() int64 {
	var ts unix.Timespec
	if err := unix.ClockGettime(unix.CLOCK_MONOTONIC, &ts); err != nil {
		panic(err) // CLOCK_MONOTONIC exists on every Linux
	}
	return ts.Nano() / 1000
}

// calibrator returns the calibrator of the frame called name.
func calibrator(cfg *game.Config, name string) (*input.Calibrator, error) {
	for i, fc := range cfg.Frames {
		if fc.Name == name {
			return input.NewCalibrator(i, fc), nil
		}
	}
	return nil, fmt.Errorf("--calibrate %q: no [[frames]] entry has that name", name)
}

// finishCalibration fits the points taken, writes the matrix into the config and prints the fit.
func finishCalibration(c *input.Calibrator, path string, log zerolog.Logger) int {
	if !c.Done() {
		log.Warn().Int("points", len(c.Points())).Msg("calibration ended before every crosshair was touched; config unchanged")
		return 1
	}
	fit, err := c.Fit()
	if err == nil {
		err = input.WriteCalibration(path, fit.Frame, fit.Calibration)
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "tapwall calibrate: %v\n", err)
		return 2
	}
	log.Info().Str("frame", fit.Frame).Float64("residual_mm", fit.RMSMM).Float64("max_error_mm", fit.MaxMM).
		Str("config", path).Msg("calibration written")
	b, _ := json.Marshal(fit)
	fmt.Println(string(b))
	return 0
}
