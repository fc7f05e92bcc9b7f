package input

import (
	"fmt"
	"os"
	"sort"
	"strings"

	"tapwall/game"
)

// ReadEvemuFile parses the evemu recording at path.
func ReadEvemuFile(path string) (*Recording, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrRecording, err)
	}
	defer f.Close()
	return ParseEvemu(f, path)
}

// FramesForRecordings returns cfg with frames for recordings when cfg configures none: one
// recording covers the whole wall, as one device would; several each cover the whole wall
// (matched by file), as overlapping frames.
func FramesForRecordings(cfg game.Config, recs []*Recording) game.Config {
	if len(cfg.Frames) > 0 || len(recs) < 2 {
		return cfg
	}
	for i, r := range recs {
		r.Info.Path = r.File
		cfg.Frames = append(cfg.Frames, game.FrameConfig{Name: fmt.Sprintf("rec%d", i+1), MatchPath: r.File,
			WidthMM: cfg.Wall.WidthMM, HeightMM: cfg.Wall.HeightMM})
	}
	return cfg
}

type track struct {
	rec   *Recording
	frame int
	dec   *Decoder
	next  int
	sent  [AbsCount]bool
}

// Player plays evemu recordings, one per frame, through decoders and the wall in time order. Event
// times become t0-relative show times: showStart + (t - first event of the earliest recording).
// Not safe for concurrent use.
type Player struct {
	wall   *Wall
	tracks []*track
	t0     int64
	last   int64
	start  int64
	buf    []ContactEvent
}

// NewPlayer matches each recording to a frame of w by its header (device name, id) and attaches it.
// A recording that matches no frame, or a frame matched twice, is an error naming the file.
func NewPlayer(w *Wall, recs []*Recording) (*Player, error) {
	p := &Player{wall: w, t0: 1<<63 - 1, buf: make([]ContactEvent, 0, 2*MaxSlots)}
	taken := map[int]string{}
	for _, r := range recs {
		fi := -1
		for i := 0; i < w.Frames(); i++ {
			fc := w.FrameConfig(i)
			if _, dup := taken[i]; !dup && Matches(&fc, &r.Info) {
				fi = i
				break
			}
		}
		if fi < 0 {
			return nil, fmt.Errorf("%w: %s: device %q matches no free [[frames]] entry: set a frame's match_name to it", ErrConfig, r.File, r.Info.Name)
		}
		taken[fi] = r.File
		dec, err := NewDecoder(&r.Info, w.DecoderConfig(fi))
		if err != nil {
			return nil, fmt.Errorf("%s: %w", r.File, err)
		}
		x, y := dec.Axes()
		if _, err := w.Attach(fi, &r.Info, x, y, 0, nil); err != nil {
			return nil, fmt.Errorf("%s: %w", r.File, err)
		}
		p.tracks = append(p.tracks, &track{rec: r, frame: fi, dec: dec})
		if n := len(r.Events); n > 0 {
			p.t0 = min(p.t0, r.Events[0].TimeUS)
			p.last = max(p.last, r.Events[n-1].TimeUS)
		}
	}
	if p.t0 == 1<<63-1 {
		p.t0 = 0
	}
	return p, nil
}

// SetStart sets the show time at which the recordings' first event plays.
func (p *Player) SetStart(showUS int64) { p.start = showUS }

// End returns the show time of the last event.
func (p *Player) End() int64 { return p.start + p.last - p.t0 }

// Done reports whether every event has been played.
func (p *Player) Done() bool {
	for _, t := range p.tracks {
		if t.next < len(t.rec.Events) {
			return false
		}
	}
	return true
}

// Advance plays every event up to show time until and appends the wall events to out.
func (p *Player) Advance(until int64, out []WallEvent) []WallEvent {
	for {
		var best *track
		var bt int64
		for _, t := range p.tracks {
			if t.next < len(t.rec.Events) {
				if et := p.start + t.rec.Events[t.next].TimeUS - p.t0; best == nil || et < bt {
					best, bt = t, et
				}
			}
		}
		if best == nil || bt > until {
			return p.wall.Expire(until, out)
		}
		ev := best.rec.Events[best.next]
		best.next++
		ev.TimeUS = bt
		if ev.Type == EvAbs && int(ev.Code) < AbsCount {
			best.sent[ev.Code] = true
		}
		p.buf = best.dec.Feed(ev, p.buf[:0])
		for _, ce := range p.buf {
			out = p.wall.Process(best.frame, ce, out)
		}
	}
}

// Check returns an error for a recording whose device sent touches without a position on the
// decoder's axes, naming the axes it did send, so the frame's x_axis/y_axis can be set.
func (p *Player) Check() error {
	for _, t := range p.tracks {
		st := t.dec.Stats()
		if st.NoPosition == 0 {
			continue
		}
		var sent []string
		for c, ok := range t.sent {
			if ok {
				sent = append(sent, AxisName(uint16(c)))
			}
		}
		x, y := t.dec.Axes()
		return fmt.Errorf("%w: %s: device %q sent %d touches with no position on %s/%s (it sends %s): set x_axis and y_axis of its [[frames]] entry to the axes that carry the position",
			ErrDevice, t.rec.File, t.rec.Info.Name, st.NoPosition, AxisName(x), AxisName(y), strings.Join(sent, ", "))
	}
	return nil
}

// Stats returns the decoders' counters, summed.
func (p *Player) Stats() DecoderStats {
	var s DecoderStats
	for _, t := range p.tracks {
		d := t.dec.Stats()
		s.Frames += d.Frames
		s.Dropped += d.Dropped
		s.NoPosition += d.NoPosition
		s.Overflow += d.Overflow
		s.Resyncs += d.Resyncs
	}
	return s
}

// PlayAll plays recordings through w to the end and returns the wall events sorted by time (an up
// held at a seam is emitted late but keeps its own time).
func PlayAll(w *Wall, recs []*Recording) ([]WallEvent, *Player, error) {
	p, err := NewPlayer(w, recs)
	if err != nil {
		return nil, nil, err
	}
	out := p.Advance(p.End(), nil)
	out = w.Flush(out)
	sort.SliceStable(out, func(i, j int) bool { return out[i].TimeUS < out[j].TimeUS })
	return out, p, p.Check()
}

// CheckRecordings rehearses recordings before a show plays them (`tapwall run --evemu`): it runs
// them through the whole touch path, as `tapwall trace` does (frames for recordings, decode, map,
// seams, filters, lane routing), first all together, then each on its own, and returns an error
// wrapping ErrRecording that names the first recording that puts no contact on the wall, and why:
// the axes it sends when its position is not on the frame's axes (set x_axis/y_axis), touches that
// land outside every lane, or no touch at all. Nothing of cfg or of the recordings' events changes.
func CheckRecordings(cfg *game.Config, recs []*Recording) error {
	c := FramesForRecordings(*cfg, recs)
	w, err := NewWall(&c)
	if err != nil {
		return fmt.Errorf("%w: rehearsal: %w", ErrRecording, err)
	}
	if _, _, err := PlayAll(w, recs); err != nil {
		return fmt.Errorf("%w: rehearsal: %w", ErrRecording, err)
	}
	for _, r := range recs {
		w, _ := NewWall(&c) // the same config: it was valid above
		_, p, err := PlayAll(w, []*Recording{r})
		if err != nil {
			return fmt.Errorf("%w: rehearsal: %s puts no contact on the wall: %w", ErrRecording, r.File, err)
		}
		ws := w.Stats()
		if ws.Downs > 0 {
			continue
		}
		st := p.Stats()
		dec := p.tracks[0].dec
		x, y := dec.Axes()
		var why string
		switch {
		case len(r.Events) == 0:
			why = "it holds no events"
		case st.Frames == 0:
			why = fmt.Sprintf("its %d events hold no SYN_REPORT, so no complete frame", len(r.Events))
		case ws.Ghosts+ws.OverLimit+ws.Full > 0:
			why = fmt.Sprintf("its touches (%d) land outside every lane or in a dead zone (%d), over input.lane_contact_limit (%d) or over the wall's contact limit (%d): check the frame's rectangle, rotation and calibration against the lanes",
				ws.Ghosts+ws.OverLimit+ws.Full, ws.Ghosts, ws.OverLimit, ws.Full)
		default:
			why = fmt.Sprintf("its %d frames (protocol %s) hold no touch with a position on %s/%s: is it a touch frame's recording?",
				st.Frames, dec.Protocol(), AxisName(x), AxisName(y))
		}
		return fmt.Errorf("%w: rehearsal: %s (device %q) puts no contact on the wall: %s", ErrRecording, r.File, r.Info.Name, why)
	}
	return nil
}
