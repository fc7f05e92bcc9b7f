package showrun

import (
	"context"

	"github.com/rs/zerolog"

	"tapwall/game"
	"tapwall/input"
)

// touchFeeder hands the live touch frames' events to the loop: it drains the Reader's channel
// through the wall (mapping, seams, filters, routing) every frame. Frame goroutine only.
type touchFeeder struct {
	wall   *input.Wall
	reader *input.Reader
	log    zerolog.Logger
	out    []input.WallEvent
	calib  *input.Calibrator // non-nil in calibration mode: touches go to it, not to the game
}

func newTouchFeeder(cfg *game.Config, wall *input.Wall, opener input.Opener, epoch int64, log zerolog.Logger) *touchFeeder {
	r := input.NewReader(cfg, wall, input.ReaderOptions{Opener: opener, Log: log, EpochUS: epoch})
	return &touchFeeder{wall: wall, reader: r, log: log, out: make([]input.WallEvent, 0, 1024)}
}

func (f *touchFeeder) run(ctx context.Context) { f.reader.Run(ctx) }

// feed drains the frame readers through the wall and pushes the wall's touches.
func (f *touchFeeder) feed(now int64, push func(game.Input)) {
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

// evemuFeeder plays recordings into the show in real time (rehearsals), from the moment the next
// round starts running (or a given show tick).
type evemuFeeder struct {
	player  *input.Player
	out     []input.WallEvent
	files   int
	started bool
	ended   bool
}

func newEvemuFeeder(cfg *game.Config, recs []*input.Recording) (*evemuFeeder, error) {
	c := input.FramesForRecordings(*cfg, recs)
	wall, err := input.NewWall(&c)
	if err != nil {
		return nil, err
	}
	p, err := input.NewPlayer(wall, recs)
	if err != nil {
		return nil, err
	}
	return &evemuFeeder{player: p, out: make([]input.WallEvent, 0, 1024), files: len(recs)}, nil
}

// start makes the recordings' first event play at show time at.
func (f *evemuFeeder) start(at int64) {
	f.player.SetStart(at)
	f.started = true
}

// feed plays the recordings up to now into the loop; it reports true the frame playback ends.
func (f *evemuFeeder) feed(now int64, push func(game.Input)) (ended bool) {
	if !f.started || f.ended {
		return false
	}
	f.out = f.player.Advance(now, f.out[:0])
	for _, e := range f.out {
		push(e.Input())
	}
	if f.player.Done() {
		f.ended = true
		return true
	}
	return false
}

// state is the playback's state for the console.
func (f *evemuFeeder) state() string {
	switch {
	case f.ended:
		return "ended"
	case f.started:
		return "playing"
	}
	return "waiting for the round to run"
}
