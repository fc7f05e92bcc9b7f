package main

import (
	"context"
	"fmt"

	"github.com/rs/zerolog"
	"golang.org/x/sys/unix"

	"tapwall/game"
	"tapwall/input"
)

// monoUS reads CLOCK_MONOTONIC in microseconds: the clock the touch frames stamp events with, and
// so the base of the show clock.
func monoUS() int64 {
	var ts unix.Timespec
	if err := unix.ClockGettime(unix.CLOCK_MONOTONIC, &ts); err != nil {
		panic(err) // CLOCK_MONOTONIC exists on every Linux
	}
	return ts.Nano() / 1000
}

// touchFeeder hands the live touch frames' events to the loop: it drains the Reader's channel
// through the wall (mapping, seams, filters, routing) every frame. It runs on the frame goroutine.
type touchFeeder struct {
	wall   *input.Wall
	reader *input.Reader
	log    zerolog.Logger
	out    []input.WallEvent
	calib  *input.Calibrator // non-nil in calibration mode: touches go to it, not to the game
	rates  rates
	now    int64
}

// rates turns event counters into events per second for the HUD, over windows of about a second.
type rates struct {
	at   int64
	prev map[string]int64
	per  map[string]float64
}

// tick closes a window: call it once per HUD refresh after reading every rate.
func (r *rates) tick(now int64, counts map[string]int64) {
	if r.prev == nil {
		r.prev, r.per = map[string]int64{}, map[string]float64{}
	}
	if r.at == 0 {
		r.at = now
		for k, n := range counts {
			r.prev[k] = n
		}
		return
	}
	if d := now - r.at; d >= 1_000_000 {
		for k, n := range counts {
			r.per[k] = float64(n-r.prev[k]) * 1e6 / float64(d)
			r.prev[k] = n
		}
		r.at = now
	}
}

func newTouchFeeder(ctx context.Context, cfg *game.Config, wall *input.Wall, dir string, epoch int64, log zerolog.Logger) *touchFeeder {
	r := input.NewReader(cfg, wall, input.ReaderOptions{Opener: input.EvdevOpener{Dir: dir}, Log: log, EpochUS: epoch})
	go r.Run(ctx)
	return &touchFeeder{wall: wall, reader: r, log: log, out: make([]input.WallEvent, 0, 1024)}
}

// Feed drains the frame readers through the wall into the loop (render.Feeder).
func (f *touchFeeder) Feed(now int64, push func(game.Input)) {
	f.now = now
	f.out = f.out[:0]
	for {
		select {
		case fe := <-f.reader.Events():
			if f.calib != nil {
				f.calib.Feed(fe)
				if fe.Attach == nil && !fe.Detached {
					continue
				}
			}
			var err error
			if f.out, err = f.wall.Apply(fe, now, f.out); err != nil {
				f.log.Error().Err(err).Int("frame", fe.Frame).Msg("frame cannot be used")
			}
			continue
		default:
		}
		break
	}
	f.out = f.wall.Expire(now, f.out)
	for _, e := range f.out {
		push(e.Input())
	}
}

// HUD reports every frame's health and the touch filters' counters.
func (f *touchFeeder) HUD() []string {
	var lines []string
	health := f.reader.Health()
	counts := map[string]int64{}
	for _, h := range health {
		counts[h.Name] = h.Events
	}
	f.rates.tick(f.now, counts)
	for _, h := range health {
		state := "LOST " + h.Err
		if h.Connected {
			state = "ok " + h.Path
		}
		age := "never"
		if h.LastUS > 0 {
			age = fmt.Sprintf("%.1f s ago", float64(f.now-h.LastUS)/1e6)
		}
		lines = append(lines, fmt.Sprintf("frame %s: %s  %.0f ev/s  last %s", h.Name, state, f.rates.per[h.Name], age))
	}
	s := f.wall.Stats()
	return append(lines, fmt.Sprintf("touch: down %d ghosts %d over-limit %d seams %d merged %d stuck %d jitter %d dropped %d",
		s.Downs, s.Ghosts, s.OverLimit, s.Seams, s.Merged, s.Stuck, s.Dejittered, f.reader.Dropped()))
}

// evemuFeeder plays recordings into the show in real time, from the moment the show starts.
type evemuFeeder struct {
	player *input.Player
	wall   *input.Wall
	out    []input.WallEvent
	files  int
}

func newEvemuFeeder(cfg *game.Config, files []string, start int64) (*evemuFeeder, error) {
	var recs []*input.Recording
	for _, p := range files {
		r, err := input.ReadEvemuFile(p)
		if err != nil {
			return nil, err
		}
		recs = append(recs, r)
	}
	c := input.FramesForRecordings(*cfg, recs)
	wall, err := input.NewWall(&c)
	if err != nil {
		return nil, err
	}
	p, err := input.NewPlayer(wall, recs)
	if err != nil {
		return nil, err
	}
	p.SetStart(start)
	return &evemuFeeder{player: p, wall: wall, out: make([]input.WallEvent, 0, 1024), files: len(files)}, nil
}

// Feed plays the recordings up to now into the loop (render.Feeder).
func (f *evemuFeeder) Feed(now int64, push func(game.Input)) {
	f.out = f.player.Advance(now, f.out[:0])
	for _, e := range f.out {
		push(e.Input())
	}
}

// HUD reports the playback.
func (f *evemuFeeder) HUD() []string {
	state := "playing"
	if f.player.Done() {
		state = "done"
	}
	return []string{fmt.Sprintf("recordings: %d %s, syn_dropped %d", f.files, state, f.player.Stats().Dropped)}
}
