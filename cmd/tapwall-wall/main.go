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
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/rs/zerolog"

	"tapwall/cmd/internal/logs"
	"tapwall/cmd/internal/runopts"
	"tapwall/game"
	"tapwall/input"
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
	log, err := logs.New(os.Stderr, opt.LogFormat, opt.LogLevel)
	if err != nil {
		fmt.Fprintf(os.Stderr, "tapwall run: %v\n", err)
		return 2
	}

	cfg := game.DefaultConfig()
	if opt.Config != "" {
		if cfg, err = game.LoadConfig(opt.Config); err != nil {
			fmt.Fprintf(os.Stderr, "tapwall run: %v\n", err)
			return 2
		}
	}
	var script []game.TickInput
	if opt.Inputs != "" {
		f, err := os.Open(opt.Inputs)
		if err != nil {
			fmt.Fprintf(os.Stderr, "tapwall run: inputs: %v\n", err)
			return 2
		}
		script, err = game.ReadInputs(f, opt.Inputs, &cfg)
		f.Close()
		if err != nil {
			fmt.Fprintf(os.Stderr, "tapwall run: %v\n", err)
			return 2
		}
	}
	if err := input.CheckConfig(&cfg); err != nil {
		fmt.Fprintf(os.Stderr, "tapwall run: %s: %v\n", opt.Config, err)
		return 2
	}
	start := time.Now()
	epoch := monoUS() // show time 0 on the frames' clock
	ropt := render.Options{
		Config:         &cfg,
		Clock:          func() int64 { return monoUS() - epoch },
		Log:            log,
		Journal:        journalOpener(opt.JournalDir, start, log),
		Script:         script,
		ExitAfterTicks: opt.ExitAfterTicks,
		Screenshot:     opt.Screenshot,
		HUD:            opt.HUD,
	}
	op, err := input.OperatorFor(&cfg)
	if err != nil {
		fmt.Fprintf(os.Stderr, "tapwall run: %s: %v\n", opt.Config, err)
		return 2
	}
	wall, err := input.NewWall(&cfg)
	if err != nil {
		fmt.Fprintf(os.Stderr, "tapwall run: %v\n", err)
		return 2
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var touch *touchFeeder
	if opt.Touch || opt.Calibrate != "" {
		touch = newTouchFeeder(ctx, &cfg, wall, opt.InputDir, epoch, log)
		ropt.Feeders = append(ropt.Feeders, touch)
	}
	if len(opt.Evemu) > 0 {
		f, err := newEvemuFeeder(&cfg, opt.Evemu, 0)
		if err != nil {
			fmt.Fprintf(os.Stderr, "tapwall run: %v\n", err)
			return 2
		}
		ropt.Feeders = append(ropt.Feeders, f)
	}
	var backend *backendFeeder
	if opt.Backend != "" {
		wallID := opt.Wall
		if wallID == "" {
			wallID = cfg.Wall.ID
		}
		cfg.Wall.ID = wallID
		backend, err = newBackendFeeder(ctx, opt.Backend, wallID, opt.Token, opt.Outbox, opt.BackendCA,
			ropt.Clock, log)
		if err != nil {
			fmt.Fprintf(os.Stderr, "tapwall run: %v\n", err)
			return 2
		}
		ropt.Feeders = append(ropt.Feeders, backend)
	}
	operator := newOperatorFeeder(ctx, &cfg, op, wall, touch, epoch, opt.InputDir, log)
	ropt.Feeders = append(ropt.Feeders, operator)
	ropt.Keys = operator.windowKey
	ropt.OnClose = operator.op.AskQuit
	ropt.Operator = operator.view
	ropt.OnScore = operator.onScore
	if backend != nil {
		ropt.OnScore = func(e game.ScoreEvent) {
			operator.onScore(e)
			backend.onScore(e)
		}
	}
	var calib *input.Calibrator
	if opt.Calibrate != "" {
		if calib, err = calibrator(&cfg, opt.Calibrate); err != nil {
			fmt.Fprintf(os.Stderr, "tapwall run: %v\n", err)
			return 2
		}
		touch.calib = calib
		ropt.Crosshair = func() (float64, float64, string, bool) {
			x, y, n, of, ok := calib.Target()
			return x, y, fmt.Sprintf("CALIBRATING %s: touch the centre of crosshair %d of %d", opt.Calibrate, n, of), ok
		}
		ropt.Quit = calib.Done
	}
	app, err := render.NewApp(ropt)
	if err != nil {
		fmt.Fprintf(os.Stderr, "tapwall run: %v\n", err)
		return 2
	}
	operator.app = app
	if backend != nil {
		backend.app = app
		// A restarted show numbers its rounds after those the outbox has seen, so no key repeats.
		app.Show().SetNextRound(backend.outbox.MaxRound(cfg.Wall.ID) + 1)
	}
	log.Info().Str("wall", cfg.Wall.ID).Int("lanes", len(cfg.Lanes)).Str("game", cfg.Round.Game).
		Int("tick_rate", cfg.Round.TickRate).Msg("show start")
	err = render.Run(app, "tapwall — "+cfg.Wall.ID, opt.Width, opt.Height, opt.Fullscreen)
	if backend != nil {
		backend.close()
	}
	if err != nil {
		log.Error().Err(err).Msg("window ended with an error")
		return 1
	}
	log.Info().Int64("tick", app.Loop().Next()).Msg("show end")
	if calib != nil {
		return finishCalibration(calib, opt.Config, log)
	}
	return 0
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

// syncCloser fsyncs a journal file before closing it, so a finished round's journal survives a
// power cut.
type syncCloser struct{ *os.File }

// Close fsyncs the journal, then closes it.
func (s syncCloser) Close() error {
	if err := s.File.Sync(); err != nil {
		s.File.Close()
		return err
	}
	return s.File.Close()
}

// journalOpener returns an opener that writes round N's journal to DIR/WALL-START-rNNNN.jsonl, with
// START the show's start time, so restarts never overwrite an earlier show's journals.
func journalOpener(dir string, start time.Time, log zerolog.Logger) game.JournalOpener {
	if dir == "" {
		return nil
	}
	return func(r *game.Round) (io.WriteCloser, error) {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return nil, fmt.Errorf("journal dir: %w", err)
		}
		p := r.Params()
		name := filepath.Join(dir, fmt.Sprintf("%s-%s-r%04d.jsonl", p.Wall, start.UTC().Format("20060102T150405Z"), p.Round))
		f, err := os.OpenFile(name, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o644)
		if err != nil {
			return nil, fmt.Errorf("journal: %w", err)
		}
		log.Info().Uint32("round", p.Round).Str("journal", name).Msg("journal open")
		return syncCloser{f}, nil
	}
}
