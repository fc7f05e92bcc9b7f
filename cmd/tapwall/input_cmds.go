package main

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"

	"tapwall/game"
	"tapwall/input"
)

// loadShowConfig loads the config (defaults for "") and checks its touch-frame part too.
func loadShowConfig(path string) (game.Config, error) {
	cfg, err := loadConfig(path)
	if err != nil {
		return cfg, err
	}
	err = input.CheckConfig(&cfg)
	if err == nil {
		_, err = input.OperatorFor(&cfg)
	}
	if err != nil {
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
	if err := c.parse(fs, args); err != nil {
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
		b = game.AppendTouchFields(b, e.Kind, e.Contact, e.XMM, e.YMM)
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

// deviceJSON is one line of `tapwall devices --json`.
type deviceJSON struct {
	Name     string     `json:"name"`
	Path     string     `json:"path"`
	Links    []string   `json:"links"`
	Phys     string     `json:"phys"`
	ID       string     `json:"id"` // vendor:product, hex
	Protocol string     `json:"protocol"`
	Axes     []axisJSON `json:"axes"`
	Frame    *string    `json:"frame"` // the configured frame it matches; null: none
}

type axisJSON struct {
	Axis       string `json:"axis"`
	Min        int32  `json:"min"`
	Max        int32  `json:"max"`
	Resolution int32  `json:"resolution"`
}

func (c *cli) devices(args []string) error {
	fs := c.newFlags("devices", "tapwall devices [--json] [--config F] [--dir /dev/input]")
	asJSON := fs.Bool("json", false, "print a JSON array instead of a table")
	cfgPath := fs.String("config", "", "config file whose [[frames]] the devices are matched against")
	dir := fs.String("dir", input.DevInputDir, "where the device nodes are")
	if err := c.parse(fs, args); err != nil {
		return err
	}
	cfg, err := loadShowConfig(*cfgPath)
	if err != nil {
		return err
	}
	wall, err := input.NewWall(&cfg)
	if err != nil {
		return err
	}
	devs, err := input.EvdevOpener{Dir: *dir}.List()
	if err != nil {
		return err
	}
	out := make([]deviceJSON, 0, len(devs))
	touchTaken := false
	for i := range devs {
		d := &devs[i]
		j := deviceJSON{Name: d.Name, Path: d.Path, Links: d.Links, Phys: d.Phys,
			ID: fmt.Sprintf("%04x:%04x", d.Vendor, d.Product), Protocol: input.DescribeProtocol(d), Axes: []axisJSON{}}
		if j.Links == nil {
			j.Links = []string{}
		}
		for code := uint16(0); code < input.AbsCount; code++ {
			if a := d.Abs[code]; a.Present {
				j.Axes = append(j.Axes, axisJSON{input.AxisName(code), a.Min, a.Max, a.Resolution})
			}
		}
		if f := wall.MatchFrame(d); f >= 0 && (len(cfg.Frames) > 0 || (d.IsTouchscreen() && !touchTaken)) {
			name := wall.FrameConfig(f).Name
			j.Frame = &name
			touchTaken = touchTaken || len(cfg.Frames) == 0
		}
		out = append(out, j)
	}
	if *asJSON {
		return writeJSON(c.stdout, out)
	}
	if len(out) == 0 {
		fmt.Fprintf(c.stdout, "no input devices under %s\n", *dir)
	}
	for _, d := range out {
		frame := "-"
		if d.Frame != nil {
			frame = *d.Frame
		}
		fmt.Fprintf(c.stdout, "%s  %q  id %s  protocol %s  frame %s\n", d.Path, d.Name, d.ID, d.Protocol, frame)
		for _, l := range d.Links {
			fmt.Fprintf(c.stdout, "    link %s\n", l)
		}
		for _, a := range d.Axes {
			fmt.Fprintf(c.stdout, "    %-20s %d..%d res %d\n", a.Axis, a.Min, a.Max, a.Resolution)
		}
	}
	return nil
}

func (c *cli) record(args []string) error {
	fs := c.newFlags("record", "tapwall record --device PATH --out FILE.evemu [--duration D] [--grab]")
	path := fs.String("device", "", "device node or /dev/input/by-id link to record; required")
	outPath := fs.String("out", "", "evemu file to write; required")
	dur := fs.Duration("duration", 0, "stop after this long (default: until Ctrl-C)")
	grab := fs.Bool("grab", false, "grab the device while recording (the desktop does not see the touches)")
	if err := c.parse(fs, args); err != nil {
		return err
	}
	if *path == "" || *outPath == "" || fs.NArg() > 0 {
		fs.Usage()
		return errExit{exitBad}
	}
	dev, err := input.EvdevOpener{}.Open(*path, *grab)
	if err != nil {
		return err
	}
	f, err := os.Create(*outPath)
	if err != nil {
		dev.Close()
		return fmt.Errorf("record: %w", err)
	}
	defer f.Close()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if *dur > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, *dur)
		defer cancel()
	}
	c.log.Info().Str("device", *path).Str("out", *outPath).Msg("recording; Ctrl-C stops")
	n, err := input.Record(ctx, dev, f)
	if serr := f.Sync(); err == nil && serr != nil {
		err = fmt.Errorf("record: %w", serr)
	}
	c.log.Info().Int("events", n).Str("out", *outPath).Msg("recording saved")
	return err
}

func (c *cli) calibrate(args []string) error {
	fs := c.newFlags("calibrate", "tapwall calibrate [--frame NAME] --config F   |   tapwall calibrate --from-points FILE [--frame NAME] [--config F]")
	frame := fs.String("frame", "", "frame to calibrate (default: the first [[frames]] entry)")
	cfgPath := fs.String("config", "", "config file; the fit is written into its [[frames]] entry")
	points := fs.String("from-points", "", "fit from recorded points instead of touches: JSON Lines {\"u\":U,\"v\":V,\"x_mm\":X,\"y_mm\":Y}")
	if err := c.parse(fs, args); err != nil {
		return err
	}
	cfg, err := loadShowConfig(*cfgPath)
	if err != nil {
		return err
	}
	fc := game.FrameConfig{Name: "wall", WidthMM: cfg.Wall.WidthMM, HeightMM: cfg.Wall.HeightMM}
	found := len(cfg.Frames) == 0 && (*frame == "" || *frame == "wall")
	for _, f := range cfg.Frames {
		if *frame == "" || f.Name == *frame {
			fc, found = f, true
			break
		}
	}
	if !found {
		return fmt.Errorf("--frame %q: no [[frames]] entry has that name", *frame)
	}
	if *points == "" {
		if *cfgPath == "" || len(cfg.Frames) == 0 {
			return fmt.Errorf("interactive calibration writes into a config's [[frames]] entry: give --config F with one")
		}
		return c.run([]string{"--config", *cfgPath, "--calibrate", fc.Name, "--fullscreen"})
	}
	pf, err := os.Open(*points)
	if err != nil {
		return fmt.Errorf("points: %w", err)
	}
	defer pf.Close()
	pts, err := input.ReadPoints(pf, *points)
	if err != nil {
		return err
	}
	fit, err := input.FitCalibration(fc, pts)
	if err != nil {
		return err
	}
	if *cfgPath != "" && len(cfg.Frames) > 0 {
		if err := input.WriteCalibration(*cfgPath, fc.Name, fit.Calibration); err != nil {
			return err
		}
		c.log.Info().Str("frame", fc.Name).Str("config", *cfgPath).Float64("residual_mm", fit.RMSMM).Msg("calibration written")
	}
	return writeJSON(c.stdout, fit)
}
