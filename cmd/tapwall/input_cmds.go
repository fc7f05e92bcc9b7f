package main

import (
	"bufio"
	"fmt"
	"strconv"
	"strings"

	"tapwall/game"
	"tapwall/input"
)

// loadShowConfig loads the config (defaults for "") and checks its touch-frame part too.
func loadShowConfig(path string) (game.Config, error) {
	cfg, err := loadConfig(path)
	if err != nil {
		return cfg, err
	}
	if err := input.CheckConfig(&cfg); err != nil {
		if path == "" {
			path = "defaults"
		}
		return cfg, fmt.Errorf("%s: %w", path, err)
	}
	return cfg, nil
}

func (c *cli) trace(args []string) error {
	fs := c.newFlags("trace", "tapwall trace --evemu FILE[,FILE...] [--config F] [--format wall|inputs]")
	files := fs.String("evemu", "", "evemu recordings, comma-separated, one per frame; required")
	cfgPath := fs.String("config", "", "config file (TOML); default: one device covers the default wall")
	format := fs.String("format", "wall", "wall: JSON Lines of wall contacts; inputs: `tapwall sim` input lines")
	setLog := c.logFlags(fs)
	if err := parse(fs, args); err != nil {
		return err
	}
	if err := setLog(); err != nil {
		return err
	}
	if *files == "" || fs.NArg() > 0 || (*format != "wall" && *format != "inputs") {
		fs.Usage()
		return errExit{exitBad}
	}
	cfg, err := loadShowConfig(*cfgPath)
	if err != nil {
		return err
	}
	var recs []*input.Recording
	for _, f := range strings.Split(*files, ",") {
		r, err := input.ReadEvemuFile(f)
		if err != nil {
			return err
		}
		recs = append(recs, r)
	}
	cfg = input.FramesForRecordings(cfg, recs)
	wall, err := input.NewWall(&cfg)
	if err != nil {
		return err
	}
	events, player, err := input.PlayAll(wall, recs)
	if err != nil {
		return err
	}
	st, ws := player.Stats(), wall.Stats()
	c.log.Info().Int("events", len(events)).Int64("frames", st.Frames).Int64("syn_dropped", st.Dropped).
		Int64("ghosts", ws.Ghosts).Int64("seams", ws.Seams).Int64("merged", ws.Merged).Int64("dejittered", ws.Dejittered).
		Int64("stuck", ws.Stuck).Msg("trace done")
	w := bufio.NewWriter(c.stdout)
	var b []byte
	rate := int64(cfg.Round.TickRate)
	for _, e := range events {
		b = b[:0]
		if *format == "inputs" {
			b = append(b, `{"tick":`...)
			b = strconv.AppendInt(b, e.TimeUS*rate/1_000_000, 10)
		} else {
			b = append(b, `{"t_us":`...)
			b = strconv.AppendInt(b, e.TimeUS, 10)
		}
		b = append(b, `,"kind":"`...)
		b = append(b, e.Kind.String()...)
		b = append(b, `","contact":`...)
		b = strconv.AppendInt(b, int64(e.Contact), 10)
		b = append(b, `,"x_mm":`...)
		b = strconv.AppendInt(b, int64(e.XMM), 10)
		b = append(b, `,"y_mm":`...)
		b = strconv.AppendInt(b, int64(e.YMM), 10)
		if *format == "wall" {
			b = append(b, `,"lane":`...)
			b = strconv.AppendInt(b, int64(e.Lane), 10)
			b = append(b, `,"device":`...)
			b = strconv.AppendQuote(b, recs[frameRecording(recs, wall, int(e.Frame))].Info.Name)
		}
		b = append(b, "}\n"...)
		w.Write(b)
	}
	return w.Flush()
}

// frameRecording returns the index of the recording attached to frame fr.
func frameRecording(recs []*input.Recording, w *input.Wall, fr int) int {
	fc := w.FrameConfig(fr)
	for i, r := range recs {
		if input.Matches(&fc, &r.Info) {
			return i
		}
	}
	return 0
}
