package input

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/rs/zerolog"

	"tapwall/game"
)

// Device is an open touch device as a frame reader uses it. Read blocks until bytes arrive and
// fails once the device is gone or closed; Close may be called from another goroutine to unblock it.
// MTSlots and AbsValue do not block; the reader calls them from its own goroutine after a
// SYN_DROPPED to read a protocol-B device's state back, as libevdev does.
type Device interface {
	// Info describes the device as it was when opened (axis values included: Abs[ABS_MT_SLOT].Value
	// is the slot the device's first events belong to).
	Info() *DeviceInfo
	Read(p []byte) (int, error)
	// MTSlots is EVIOCGMTSLOTS: buf[0] holds an ABS_MT_* axis code; the device writes that axis's
	// value of slot i into buf[1+i] for each of its slots that fits, and leaves the rest of buf as it
	// was (a device with fewer slots than buf holds fills only its own).
	MTSlots(buf []int32) error
	// AbsValue is EVIOCGABS(code)'s current value; for ABS_MT_SLOT, the slot that the device's
	// next events belong to until it sends ABS_MT_SLOT (the kernel sends it only on a change).
	AbsValue(code uint16) (int32, error)
	Close() error
}

// SlotCount is how many slots a protocol-B device has, as the kernel counts them: ABS_MT_SLOT's
// maximum + 1, capped at MaxSlots. 0: it declares no slots (its state cannot be read back).
func SlotCount(info *DeviceInfo) int {
	a := info.Abs[AbsMTSlot]
	if !a.Present || a.Max < 0 {
		return 0
	}
	return int(min(int64(a.Max)+1, MaxSlots))
}

// slotReadback reads a protocol-B device's slots and current slot back after a SYN_DROPPED, in
// fixed storage: a resync allocates nothing in the reader.
type slotReadback struct {
	n     int
	buf   [MaxSlots + 1]int32
	state [MaxSlots]SlotState
}

// errNoSlots says a device declares no ABS_MT_SLOT, so its slots cannot be read back.
var errNoSlots = errors.New("the device declares no ABS_MT_SLOT")

// read asks dev for the tracking id and the x and y axes of its n slots, each into a buffer filled
// with -1 first (a slot the kernel does not fill is empty, not tracking id 0 at 0,0), and for the
// current slot.
func (s *slotReadback) read(dev Device, x, y uint16) ([]SlotState, int32, error) {
	if s.n == 0 {
		return nil, 0, errNoSlots
	}
	st := s.state[:s.n]
	buf := s.buf[:s.n+1]
	for k, code := range [3]uint16{AbsMTTrackingID, x, y} {
		buf[0] = int32(code)
		for i := 1; i < len(buf); i++ {
			buf[i] = -1
		}
		if err := dev.MTSlots(buf); err != nil {
			return nil, 0, fmt.Errorf("EVIOCGMTSLOTS(%s): %w", AxisName(code), err)
		}
		for i := range st {
			switch k {
			case 0:
				st[i].ID = buf[i+1]
			case 1:
				st[i].X = buf[i+1]
			case 2:
				st[i].Y = buf[i+1]
			}
		}
	}
	cur, err := dev.AbsValue(AbsMTSlot)
	if err != nil {
		return nil, 0, fmt.Errorf("EVIOCGABS(ABS_MT_SLOT): %w", err)
	}
	return st, cur, nil
}

// Opener lists and opens input devices: EvdevOpener for /dev/input, a fake in tests.
type Opener interface {
	List() ([]DeviceInfo, error)
	Open(path string, grab bool) (Device, error)
}

// FrameEvent is what a frame reader hands to the frame goroutine: a contact event, or news that the
// frame's device was attached (Attach set) or vanished (Detached).
type FrameEvent struct {
	Frame    int
	Ev       ContactEvent
	Attach   *DeviceInfo
	X, Y     uint16 // the attached decoder's axes
	Detached bool
}

// Health is one frame's state for the HUD and the alarms.
type Health struct {
	Name      string
	Connected bool
	Path      string
	Events    int64  // contact events since start
	LastUS    int64  // show time of the last contact event (0: none yet)
	Err       string // why the frame is not connected
	Reopens   int64
}

// DefaultQueue is the capacity of the reader-to-loop channel: two seconds of ten fingers on eight
// frames at 100 Hz. When the frame goroutine stalls past it, contact events are dropped and counted
// rather than blocking a reader (a blocked reader makes the kernel drop events instead).
const DefaultQueue = 16384

// Reader reads every configured frame in its own goroutine and hands decoded contact events to the
// frame goroutine through a bounded channel that it never blocks on. A frame that vanishes is looked
// for again every reopen_ms while the others run on. Start it with Run; stop it by cancelling the
// context. Health and Dropped are safe to call from any goroutine.
type Reader struct {
	cfg     *game.Config
	wall    *Wall // read-only here: frame configs and decoder settings
	opener  Opener
	log     zerolog.Logger
	epoch   int64
	after   func(time.Duration) <-chan time.Time
	out     chan FrameEvent
	mu      sync.Mutex
	health  []Health
	dropped atomic.Int64
}

// ReaderOptions configures a Reader.
type ReaderOptions struct {
	Opener Opener
	Log    zerolog.Logger
	// EpochUS is the device clock (CLOCK_MONOTONIC, µs) at show time 0: event times become show times.
	EpochUS int64
	// After waits between reopen attempts; nil: time.After. Tests inject a fake.
	After func(time.Duration) <-chan time.Time
	// Queue is the channel capacity; 0: DefaultQueue.
	Queue int
}

// NewReader returns a reader of the frames of w (built from cfg).
func NewReader(cfg *game.Config, w *Wall, opt ReaderOptions) *Reader {
	if opt.After == nil {
		opt.After = time.After
	}
	if opt.Queue <= 0 {
		opt.Queue = DefaultQueue
	}
	r := &Reader{cfg: cfg, wall: w, opener: opt.Opener, log: opt.Log, epoch: opt.EpochUS, after: opt.After,
		out: make(chan FrameEvent, opt.Queue), health: make([]Health, w.Frames())}
	for i := range r.health {
		r.health[i].Name = w.FrameConfig(i).Name
		r.health[i].Err = "not opened yet"
	}
	return r
}

// Events is the channel of frame events. The frame goroutine drains it every frame.
func (r *Reader) Events() <-chan FrameEvent { return r.out }

// Dropped returns how many contact events were dropped because the channel was full.
func (r *Reader) Dropped() int64 { return r.dropped.Load() }

// Health returns a copy of every frame's health.
func (r *Reader) Health() []Health {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]Health(nil), r.health...)
}

func (r *Reader) update(i int, f func(h *Health)) {
	r.mu.Lock()
	f(&r.health[i])
	r.mu.Unlock()
}

// Run reads every frame until ctx is cancelled; it blocks and returns once every reader goroutine
// has stopped and every device is closed.
func (r *Reader) Run(ctx context.Context) {
	var wg sync.WaitGroup
	for i := 0; i < r.wall.Frames(); i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r.runFrame(ctx, i)
		}()
	}
	wg.Wait()
}

func (r *Reader) find(i int) (string, error) {
	devs, err := r.opener.List()
	if err != nil {
		return "", err
	}
	fc := r.wall.FrameConfig(i)
	for k := range devs {
		if Matches(&fc, &devs[k]) && (len(r.cfg.Frames) > 0 || devs[k].IsTouchscreen()) {
			return devs[k].Path, nil
		}
	}
	return "", fmt.Errorf("%w: no device matches frame %q: check `tapwall devices`, the USB cable and the frame's match_* keys", ErrDevice, fc.Name)
}

func (r *Reader) runFrame(ctx context.Context, i int) {
	fc := r.wall.FrameConfig(i)
	log := r.log.With().Str("frame", fc.Name).Logger()
	supervise(ctx, supervisor{
		opener: r.opener, after: r.after, reopen: time.Duration(r.cfg.Input.ReopenMS) * time.Millisecond, log: log,
		find: func() (string, error) { return r.find(i) }, grab: fc.Grab,
		read: func(dev Device, path string) error { return r.readDevice(ctx, i, dev, path, log) },
		down: func(err error) { r.update(i, func(h *Health) { h.Connected, h.Err = false, err.Error() }) },
		lost: func() { r.send(ctx, FrameEvent{Frame: i, Detached: true}, true) },
	})
}

// supervisor says how to find, open, read and report one device that may come and go.
type supervisor struct {
	opener Opener
	after  func(time.Duration) <-chan time.Time
	reopen time.Duration
	log    zerolog.Logger
	find   func() (path string, err error)
	grab   bool
	read   func(dev Device, path string) error // reads until the device fails
	down   func(err error)                     // the device is not available, and why
	lost   func()                              // a device that was read vanished
}

// supervise finds, opens and reads a device until ctx is cancelled: when it is missing or vanishes
// it looks again every reopen interval, logging each new reason once. It blocks.
func supervise(ctx context.Context, s supervisor) {
	lastErr := ""
	for first := true; ctx.Err() == nil; first = false {
		if !first {
			select {
			case <-ctx.Done():
				return
			case <-s.after(s.reopen):
			}
		}
		path, err := s.find()
		var dev Device
		if err == nil {
			dev, err = s.opener.Open(path, s.grab)
		}
		if err != nil {
			if msg := err.Error(); msg != lastErr { // log each new reason once, not every retry
				s.log.Warn().Err(err).Msg("device not available; the show goes on, retrying")
				lastErr = msg
			}
			s.down(err)
			continue
		}
		lastErr = ""
		stop := context.AfterFunc(ctx, func() { dev.Close() }) // a blocked Read ends with the context
		err = s.read(dev, path)
		stop()
		dev.Close()
		s.down(fmt.Errorf("lost: %w", err))
		if ctx.Err() != nil {
			return
		}
		s.log.Error().Err(err).Str("path", path).Msg("device vanished; the show goes on")
		s.lost()
	}
}

func (r *Reader) readDevice(ctx context.Context, i int, dev Device, path string, log zerolog.Logger) error {
	info := dev.Info()
	dec, err := NewDecoder(info, r.wall.DecoderConfig(i))
	if err != nil {
		return err
	}
	x, y := dec.Axes()
	r.update(i, func(h *Health) { h.Connected, h.Path, h.Err = true, path, ""; h.Reopens++ })
	log.Info().Str("path", path).Str("device", info.Name).Str("protocol", dec.Protocol().String()).Msg("frame connected")
	if !r.send(ctx, FrameEvent{Frame: i, Attach: info, X: x, Y: y}, true) {
		return ctx.Err()
	}
	out := make([]ContactEvent, 0, 4*MaxSlots)
	sr := &slotReadback{n: SlotCount(info)}
	return ReadEvents(dev, func(ev RawEvent) {
		ev.TimeUS -= r.epoch
		out = out[:0]
		if dec.Dropping() && ev.Type == EvSyn && ev.Code == SynReport && dec.Protocol() == ProtoB {
			if slots, cur, err := sr.read(dev, x, y); err == nil {
				out = dec.Resync(slots, cur, ev.TimeUS, out)
				log.Warn().Int64("syn_dropped", dec.Stats().Dropped).Msg("kernel buffer overrun: contacts resynchronised from the device")
			} else {
				out = dec.Feed(ev, out)
				log.Warn().Err(err).Int64("syn_dropped", dec.Stats().Dropped).Msg("kernel buffer overrun: slots not readable, contacts cancelled")
			}
		} else {
			out = dec.Feed(ev, out)
		}
		// Health counts the events before the frame goroutine can have them, as it notes an
		// attach or a loss before sending the news: whoever has an event sees it in Health.
		if len(out) > 0 {
			last := out[len(out)-1].TimeUS
			r.update(i, func(h *Health) { h.Events += int64(len(out)); h.LastUS = last })
		}
		for _, ce := range out {
			r.send(ctx, FrameEvent{Frame: i, Ev: ce}, false)
		}
	})
}

// send hands ev to the frame goroutine. Contact events never block (dropped and counted when the
// channel is full); attach and detach news must arrive and waits for room, or for ctx.
func (r *Reader) send(ctx context.Context, ev FrameEvent, must bool) bool {
	if !must {
		select {
		case r.out <- ev:
		default:
			r.dropped.Add(1)
		}
		return true
	}
	select {
	case r.out <- ev:
		return true
	case <-ctx.Done():
		return false
	}
}

// Apply passes one frame event into the wall and appends the wall events it causes to out. The
// frame goroutine calls it for everything it drains from Events.
func (w *Wall) Apply(fe FrameEvent, now int64, out []WallEvent) ([]WallEvent, error) {
	switch {
	case fe.Attach != nil:
		return w.Attach(fe.Frame, fe.Attach, fe.X, fe.Y, now, out)
	case fe.Detached:
		return w.Detach(fe.Frame, now, out), nil
	}
	return w.Process(fe.Frame, fe.Ev, out), nil
}
