package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"time"

	"tapwall/assets"
	"tapwall/cmd/internal/runopts"
	"tapwall/game"
)

// loadConfig returns the config at path, or the defaults for "".
func loadConfig(path string) (game.Config, error) {
	if path == "" {
		return game.DefaultConfig(), nil
	}
	return game.LoadConfig(path)
}

// readInputs reads an input file ("-" is standard input) against cfg.
func readInputs(path string, cfg *game.Config) ([]game.TickInput, error) {
	if path == "-" {
		return game.ReadInputs(os.Stdin, "<stdin>", cfg)
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("inputs: %w", err)
	}
	defer f.Close()
	return game.ReadInputs(f, path, cfg)
}

func (c *cli) sim(args []string) error {
	fs := c.newFlags("sim", "tapwall sim --inputs F | --autoplay [--game targets|rain] [--seed N] [--config F] [--journal OUT] [--ticks N]")
	inputs := fs.String("inputs", "", "input file: JSON Lines of touches and actions (- for stdin); required unless --autoplay")
	autoplay := fs.Bool("autoplay", false, "the built-in player plays every lane (config [autoplay]); its touches are journaled with source bot")
	gameName := fs.String("game", "", "game to play: targets or rain (default: the config's round.game)")
	seed := fs.Uint64("seed", 0, "round seed (default: the config's round.seed)")
	cfgPath := fs.String("config", "", "config file (TOML); default: the compiled-in defaults")
	journal := fs.String("journal", "", "write the round journal (JSON Lines) to this file")
	ticks := fs.Int64("ticks", 0, "ticks to run (default: the configured round length)")
	bk := backendFlags(fs)
	roundNo := fs.Uint("round", 1, "round number, part of every score's key (with --backend)")
	flush := fs.Duration("flush-timeout", 10*time.Second, "with --backend: how long to wait for every score to be acknowledged (exit 3 if not)")
	if err := c.parse(fs, args); err != nil {
		return err
	}
	if (*inputs == "" && !*autoplay) || fs.NArg() > 0 {
		fs.Usage()
		return errExit{exitBad}
	}
	cfg, err := loadConfig(*cfgPath)
	if err != nil {
		return err
	}
	if *gameName != "" {
		if !game.KnownGame(*gameName) {
			return fmt.Errorf("--game %q: use one of %v", *gameName, game.Games)
		}
		cfg.Round.Game = *gameName
	}
	isSet := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { isSet[f.Name] = true })
	if isSet["seed"] {
		cfg.Round.Seed = *seed
	}
	if *ticks < 0 {
		return fmt.Errorf("--ticks %d: must not be negative", *ticks)
	}
	var in []game.TickInput
	if *inputs != "" {
		if in, err = readInputs(*inputs, &cfg); err != nil {
			return err
		}
	}
	if err := bk.check(); err != nil {
		return err
	}
	if bk.wall != "" {
		cfg.Wall.ID = bk.wall
	}
	bk.wall = cfg.Wall.ID
	if *roundNo < 1 || *roundNo > 1<<31 {
		return fmt.Errorf("--round %d: use 1 or more", *roundNo)
	}
	round, err := game.NewRound(&cfg, game.RoundParams{Wall: cfg.Wall.ID, Round: uint32(*roundNo), Seed: cfg.Round.Seed, Running: true})
	if err != nil {
		return err
	}
	n := round.Length()
	if isSet["ticks"] {
		n = *ticks
	}
	var jw io.Writer
	if *journal != "" {
		f, err := os.Create(*journal)
		if err != nil {
			return fmt.Errorf("journal: %w", err)
		}
		defer f.Close()
		jw = f
	}
	rec, err := game.NewRecorder(jw, round, 1, false)
	if err != nil {
		return err
	}
	log := c.log.With().Uint32("round", uint32(*roundNo)).Str("game", cfg.Round.Game).Logger()
	log.Info().Int("inputs", len(in)).Int64("ticks", n).Msg("sim start")
	var link *backendLink
	if bk.url != "" {
		if link, err = bk.start(log); err != nil {
			return err
		}
		defer link.stop()
		if *journal != "" { // a damaged score of this round can be rebuilt from its journal
			if err := link.outbox.SetJournal(cfg.Wall.ID, uint32(*roundNo), *journal); err != nil {
				return err
			}
		}
	}
	var linkErr error
	var bot *game.Bot
	if *autoplay {
		bot = game.NewBot(&cfg, cfg.Round.Seed)
	}
	var all []game.Input
	game.GroupByTick(in, n, func(tick int64, ins []game.Input) {
		if bot != nil {
			all = bot.Inputs(rec.Round(), append(all[:0], ins...))
			ins = all
		}
		rec.Step(ins)
		if link != nil && linkErr == nil {
			for _, e := range rec.Round().Events() {
				linkErr = link.outbox.SubmitWait(link.ctx, e)
			}
		}
	})
	if err := rec.Close(); err != nil {
		return err
	}
	if linkErr != nil {
		return fmt.Errorf("outbox: %w", linkErr)
	}
	if f, ok := jw.(*os.File); ok {
		if err := f.Sync(); err != nil {
			return fmt.Errorf("journal: %w", err)
		}
	}
	sum := rec.Summary()
	log.Info().Int64("tick", sum.Ticks).Str("hash", sum.Hash).Int("events", sum.Events).Msg("sim done")
	if link != nil {
		left := link.flush(*flush)
		lost := link.outbox.Lost()
		if err := link.stop(); err != nil {
			fmt.Fprintf(c.stderr, "tapwall sim: %v\n", err)
		}
		if len(lost) > 0 || left > 0 {
			writeJSON(c.stdout, sum)
		}
		for _, a := range lost {
			fmt.Fprintf(c.stderr, "tapwall sim: %s\n", a.Message)
		}
		if len(lost) > 0 {
			return errExit{exitLost}
		}
		if left > 0 {
			fmt.Fprintf(c.stderr, "tapwall sim: %d score events not acknowledged by %s within %s; they stay in the outbox %s and are sent on the next run\n",
				left, bk.url, *flush, bk.outbox)
			return errExit{exitNotAcked}
		}
		log.Info().Int("events", sum.Events).Msg("every score acknowledged by the backend")
	}
	return writeJSON(c.stdout, sum)
}

func writeJSON(w io.Writer, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	_, err = w.Write(append(b, '\n'))
	return err
}

func (c *cli) replay(args []string) error {
	fs := c.newFlags("replay", "tapwall replay JOURNAL")
	if err := c.parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		fs.Usage()
		return errExit{exitBad}
	}
	path := fs.Arg(0)
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("journal: %w", err)
	}
	defer f.Close()
	sum, err := game.Replay(f, path)
	if errors.Is(err, game.ErrTruncated) { // a crash cut it: what was replayed is good
		c.log.Warn().Err(err).Int64("tick", sum.Ticks).Msg("journal cut short; replayed as far as it goes")
		fmt.Fprintf(c.stderr, "tapwall replay: %v\n", err)
		err = nil
	}
	if errors.Is(err, game.ErrMismatch) {
		c.log.Error().Err(err).Msg("replay mismatch")
		fmt.Fprintf(c.stderr, "tapwall replay: %v\n", err)
		return errExit{exitMismatch}
	}
	if err != nil {
		return err
	}
	return writeJSON(c.stdout, sum)
}

func (c *cli) config(args []string) error {
	fs := c.newFlags("config", "tapwall config --print-default | --check FILE")
	printDefault := fs.Bool("print-default", false, "print the full default config, with a comment on every key")
	check := fs.String("check", "", "validate this config file and print it as JSON")
	if err := c.parse(fs, args); err != nil {
		return err
	}
	switch {
	case *printDefault:
		_, err := c.stdout.Write(assets.DefaultConfig)
		return err
	case *check != "":
		cfg, err := loadShowConfig(*check)
		if err != nil {
			return err
		}
		if _, err := assets.LoadTheme(&cfg); err != nil { // the theme's files too: exit 2 naming the key
			return fmt.Errorf("%s: %w", *check, err)
		}
		return writeJSON(c.stdout, cfg)
	}
	fs.Usage()
	return errExit{exitBad}
}

// wallProgram is the window program that `tapwall run` executes.
const wallProgram = "tapwall-wall"

// findWall returns the path of tapwall-wall: next to this executable, then on PATH.
func findWall() (string, error) {
	if self, err := os.Executable(); err == nil {
		p := filepath.Join(filepath.Dir(self), wallProgram)
		if st, err := os.Stat(p); err == nil && !st.IsDir() {
			return p, nil
		}
	}
	p, err := exec.LookPath(wallProgram)
	if err != nil {
		return "", fmt.Errorf("cannot find %s next to tapwall or on PATH: build it with `go build -o bin/ ./cmd/...` and keep it beside tapwall", wallProgram)
	}
	return p, nil
}

// run checks the flags and the environment and replaces this process with tapwall-wall, passing
// the flags on unchanged.
func (c *cli) run(args []string) error {
	if _, err := runopts.Parse(args, c.stderr); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		fmt.Fprintf(c.stderr, "tapwall run: %v\n", err)
		return errExit{exitBad}
	}
	if os.Getenv("DISPLAY") == "" {
		fmt.Fprintln(c.stderr, "tapwall run: no display: DISPLAY is not set. Run it from the wall PC's desktop session, "+
			"set DISPLAY (e.g. DISPLAY=:0), or run headless under a virtual display: xvfb-run -a tapwall run ...")
		return errExit{exitBad}
	}
	path, err := findWall()
	if err != nil {
		return err
	}
	argv := append([]string{path}, args...)
	if err := syscall.Exec(path, argv, os.Environ()); err != nil {
		return fmt.Errorf("exec %s: %w", path, err)
	}
	return nil
}
